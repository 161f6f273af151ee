ess_derive::generate!("specs/reserved_names.yaml");

fn main() {}
