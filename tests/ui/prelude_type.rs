ess_derive::generate!("specs/prelude_type.yaml");

fn main() {}
