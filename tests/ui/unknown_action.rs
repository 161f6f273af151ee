ess_derive::generate!("specs/ok.yaml", actions = ["GetThng"]);

fn main() {}
