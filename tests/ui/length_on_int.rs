ess_derive::generate!("specs/length_on_int.yaml");

fn main() {}
