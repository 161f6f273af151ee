ess_derive::generate!(spec_path);

fn main() {}
