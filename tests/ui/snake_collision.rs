ess_derive::generate!("specs/snake_collision.yaml");

fn main() {}
