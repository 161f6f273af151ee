ess_derive::generate!("specs/range_on_string.yaml");

fn main() {}
