ess_derive::generate!("specs/yaml_syntax.yaml");

fn main() {}
