//! The generator over the whole ESS spec: loading (parse and validate), and loading plus
//! generating, which design.md section 8 budgets at 50 ms.
//!
//! Measured as the proc macro runs inside rustc, in two respects. The allocator is jemalloc,
//! which rustc's Linux builds use for the whole process, proc macros included (glibc's malloc
//! costs about 15% more instructions here). And the generated tokens are dropped outside the
//! timing: the macro hands them to rustc and never drops them, while dropping proc-macro2's
//! in-process tokens costs about 11 ms.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions.

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn spec_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/ess.yaml");
    std::fs::read_to_string(path).expect("spec/ess.yaml is readable")
}

fn load_whole_spec(c: &mut Criterion) {
    let text = spec_text();
    c.bench_function("load_and_validate_ess_yaml", |b| {
        b.iter(|| {
            ess_codegen::load_str("spec/ess.yaml", std::hint::black_box(&text)).expect("valid spec")
        })
    });
}

fn generate_whole_spec(c: &mut Criterion) {
    let text = spec_text();
    let options = ess_codegen::Options {
        actions: None,
        cargo_features: true,
    };
    c.bench_function("load_validate_generate_ess_yaml", |b| {
        b.iter_with_large_drop(|| {
            let spec = ess_codegen::load_str("spec/ess.yaml", std::hint::black_box(&text))
                .expect("valid spec");
            ess_codegen::generate(&spec, &options).expect("generates")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = load_whole_spec, generate_whole_spec
}
criterion_main!(benches);
