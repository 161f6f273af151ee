ess_derive::generate!("specs/unknown_error_code.yaml");

fn main() {}
