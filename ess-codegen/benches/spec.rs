//! Load and validate the whole ESS spec: the budget is well under 100 ms.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions.

use criterion::{Criterion, criterion_group, criterion_main};

fn load_whole_spec(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/ess.yaml");
    let text = std::fs::read_to_string(path).expect("spec/ess.yaml is readable");
    c.bench_function("load_and_validate_ess_yaml", |b| {
        b.iter(|| {
            ess_codegen::load_str("spec/ess.yaml", std::hint::black_box(&text)).expect("valid spec")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = load_whole_spec
}
criterion_main!(benches);
