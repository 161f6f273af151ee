//! Receiving a callback: verify + decrypt + decode of a FlowStatusChange with two approvers
//! into the generated `CallbackEvent` (design.md section 8: under 20 us).
#![allow(missing_docs)] // criterion_group! generates undocumented public functions.

use criterion::{Criterion, criterion_group, criterion_main};
use ess_generated::CallbackEvent;
use ess_generated::callback::{CallbackFormat, CallbackKeys};

fn approver(n: u32, status: i64) -> serde_json::Value {
    serde_json::json!({
        "UserId": format!("yDuser{n:026}"), "RecipientId": format!("yDrecipient{n:021}"),
        "ApproverType": 1, "OrganizationName": "", "Required": true,
        "ApproverName": "张三", "ApproverMobile": "13800000000",
        "ApproverIdCardType": "ID_CARD", "ApproverIdCardNumber": "440300200101010001",
        "ApproveCallbackStatus": status, "ApproveMessage": "", "ApproveTime": 1_764_400_000,
        "VerifyChannel": "WEIXINAPP",
    })
}

fn receive(c: &mut Criterion) {
    let keys = CallbackKeys::new("0123456789abcdefghijklmnopqrstuv", "callback-token").unwrap();
    let envelope = serde_json::json!({
        "MsgId": "0123456789abcdef0123456789abcdef",
        "MsgType": "FlowStatusChange",
        "MsgVersion": "CustomApp",
        "MsgData": {
            "FlowId": "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm", "DocumentId": "yDdoc",
            "CallbackType": "sign", "FlowName": "劳动合同", "FlowDescription": "",
            "FlowType": "", "FlowCallbackStatus": 4, "Unordered": false,
            "CreateOn": 1_764_300_000, "UpdatedOn": 1_764_400_000, "DeadLine": 1_765_000_000,
            "UserId": "", "RecipientId": "", "Operate": "finish", "UserData": "order-42",
            "Approvers": [approver(1, 3), approver(2, 3)],
            "CallbackUrl": "https://example.com/ess/callback",
        },
    });
    let sealed = keys.seal(CallbackFormat::V2, &serde_json::to_vec(&envelope).unwrap());
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-signature",
        sealed.signature.as_deref().unwrap().parse().unwrap(),
    );
    c.bench_function("callback_receive_flow_status_change_2_approvers", |b| {
        b.iter(|| {
            keys.receive::<CallbackEvent>(
                std::hint::black_box(&headers),
                std::hint::black_box(&sealed.body),
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, receive);
criterion_main!(benches);
