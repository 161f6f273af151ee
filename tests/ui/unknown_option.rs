ess_derive::generate!("specs/ok.yaml", features = true);

fn main() {}
