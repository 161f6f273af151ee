ess_derive::generate!();

fn main() {}
