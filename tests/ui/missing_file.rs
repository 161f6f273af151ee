ess_derive::generate!("specs/no_such_spec.yaml");

fn main() {}
