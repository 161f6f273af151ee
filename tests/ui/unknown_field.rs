ess_derive::generate!("specs/unknown_field.yaml");

fn main() {}
