ess_derive::generate!("specs/ok.yaml", actions = []);

fn main() {}
