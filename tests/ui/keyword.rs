ess_derive::generate!("specs/keyword.yaml");

fn main() {}
