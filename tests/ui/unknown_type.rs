ess_derive::generate!("specs/unknown_type.yaml");

fn main() {}
