//! The client's per-call work outside the network, for CreateFlowSignUrl with one signer:
//! validating and serializing the request, and decoding the answer.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions.

use criterion::{Criterion, criterion_group, criterion_main};
use ess_generated::{
    ApproverType, CreateFlowSignUrlRequest, CreateFlowSignUrlResponse, FlowCreateApprover, Validate,
};

const ANSWER: &[u8] = br#"{"Response":{"FlowApproverUrlInfos":[{"SignUrl":"https://essurl.example/s/yD0000000000000000000000000001","ApproverType":1,"ApproverName":"\u5f20\u4e09","ApproverMobile":"13800000000","LongUrl":"https://quick.example/sign/yD0000000000000000000000000001?FlowId=yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm"}],"RequestId":"2e4c7a52-9d7b-4c5e-8f0e-1a2b3c4d5e6f"}}"#;

fn request() -> CreateFlowSignUrlRequest {
    CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm").flow_approver_infos(vec![
        FlowCreateApprover::new(ApproverType::Person)
            .approver_name("张三")
            .approver_mobile("13800000000"),
    ])
}

fn hot_paths(c: &mut Criterion) {
    let request = request();
    c.bench_function("create_flow_sign_url_validate_and_serialize", |b| {
        b.iter(|| {
            std::hint::black_box(&request).validate().unwrap();
            serde_json::to_vec(std::hint::black_box(&request)).unwrap()
        })
    });
    c.bench_function("create_flow_sign_url_decode_response", |b| {
        b.iter(|| {
            ess_runtime::decode::<CreateFlowSignUrlResponse>(std::hint::black_box(ANSWER)).unwrap()
        })
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
