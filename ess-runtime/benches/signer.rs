//! TC3 signing of a typical request: the budget is under 2 us.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions.

use criterion::{Criterion, criterion_group, criterion_main};
use ess_runtime::signer::{Request, Signer};

fn sign(c: &mut Criterion) {
    let body = br#"{"FlowId":"yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm","FlowApproverInfos":[{"ApproverType":1,"ApproverName":"n","ApproverMobile":"13800000000"}]}"#;
    let signer = Signer::new();
    let request = Request {
        service: "ess",
        host: "ess.tencentcloudapi.com",
        content_type: "application/json",
        payload: body,
        timestamp: 1_764_400_000,
    };
    c.bench_function("tc3_sign_create_flow_sign_url", |b| {
        b.iter(|| {
            signer.authorization(
                "AKIDexample",
                "secret-key-example",
                std::hint::black_box(&request),
            )
        })
    });
}

criterion_group!(benches, sign);
criterion_main!(benches);
