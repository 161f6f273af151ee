ess_derive::generate!("specs/recursive.yaml");

fn main() {}
