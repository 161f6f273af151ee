ess_derive::generate!("specs/bad_type_syntax.yaml");

fn main() {}
