ess_derive::generate!("specs/duplicate_member.yaml");

fn main() {}
