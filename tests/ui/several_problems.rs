ess_derive::generate!("specs/several_problems.yaml");

fn main() {}
