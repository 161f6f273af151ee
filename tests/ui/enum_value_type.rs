ess_derive::generate!("specs/enum_value_type.yaml");

fn main() {}
