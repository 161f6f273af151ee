//! The example callback receiver (`ess-generated/examples/callback_server.rs`) over real HTTP:
//! sealed events delivered twice and out of order end in the right final state, probes and
//! forged or foreign callbacks are answered as ESS and a receiver need.

#[path = "../../ess-generated/examples/callback_server.rs"]
mod callback_server;

use std::sync::Arc;

use callback_server::App;
use ess_generated::callback::{CallbackFormat, CallbackKeys, Sealed};
use ess_generated::{CallbackEvent, FlowCallbackStatus};

const KEY: &str = "0123456789abcdefghijklmnopqrstuv";
const TOKEN: &str = "callback-token";

fn keys() -> CallbackKeys {
    CallbackKeys::new(KEY).unwrap().with_token(TOKEN)
}

/// A FlowStatusChange as ESS sends it for a one-signer contract.
fn flow_change(msg_id: &str, flow_id: &str, operate: &str, status: i64) -> Sealed {
    let approver_status = if status == 4 { 3 } else { 2 };
    let envelope = serde_json::json!({
        "MsgId": msg_id,
        "MsgType": "FlowStatusChange",
        "MsgVersion": "CustomApp",
        "MsgData": {
            "FlowId": flow_id, "FlowName": "劳动合同", "CallbackType": "sign",
            "FlowCallbackStatus": status, "Operate": operate, "Unordered": false,
            "CreateOn": 1_764_300_000, "UpdatedOn": 1_764_400_000, "DeadLine": 0,
            "OccurTime": 1_764_400_000, "UserData": "order-42",
            "Approvers": [{
                "RecipientId": "yDrecipient", "ApproverType": 1, "Required": true,
                "ApproverName": "张三", "ApproverMobile": "13800000000",
                "ApproveCallbackStatus": approver_status,
            }],
        },
    });
    keys().seal(CallbackFormat::V2, &serde_json::to_vec(&envelope).unwrap())
}

async fn serve() -> (String, Arc<App>) {
    let app = App::new(keys());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, callback_server::router(app.clone())).into_future());
    (url, app)
}

async fn post(url: &str, sealed: &Sealed) -> u16 {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .header("content-type", sealed.content_type)
        .body(sealed.body.clone());
    if let Some(signature) = &sealed.signature {
        request = request.header("content-signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn duplicates_and_out_of_order_deliveries_end_in_the_right_state() {
    let (url, app) = serve().await;
    let started = flow_change("a0000000000000000000000000000001", "yDflowA", "start", 1);
    let signed = flow_change("a0000000000000000000000000000002", "yDflowA", "sign", 4);
    let finished = flow_change("a0000000000000000000000000000003", "yDflowA", "finish", 4);
    let other_started = flow_change("b0000000000000000000000000000001", "yDflowB", "start", 1);
    // The completion arrives first, the start last; one message twice; another flow between.
    for sealed in [&finished, &other_started, &signed, &finished, &started] {
        assert_eq!(post(&url, sealed).await, 200);
    }
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let status = client
        .get(format!("{url}flows/yDflowA"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.text().await.unwrap(), "AllSigned\n");
    let unknown = client
        .get(format!("{url}flows/yDnone"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let flows = app.flows.lock().unwrap();
    assert_eq!(
        flows.status("yDflowA"),
        Some(&FlowCallbackStatus::AllSigned)
    );
    assert_eq!(flows.status("yDflowB"), Some(&FlowCallbackStatus::Created));
    assert_eq!(flows.received, 5);
    assert_eq!(flows.duplicates, 1);
    // `sign` after `finish` (same status) and `start` after it: neither moves the flow.
    assert_eq!(flows.stale, 2);
}

#[tokio::test]
async fn probes_pass_and_forged_or_foreign_callbacks_are_refused() {
    let (url, app) = serve().await;
    let sealed = flow_change("c0000000000000000000000000000001", "yDflowC", "start", 1);

    // Another token's signature, then none: 401, nothing applied.
    let mut forged = sealed.clone();
    forged.signature = CallbackKeys::new(KEY)
        .unwrap()
        .with_token("another-token")
        .seal(CallbackFormat::V2, &sealed.body)
        .signature;
    assert_eq!(post(&url, &forged).await, 401);
    let mut unsigned = sealed.clone();
    unsigned.signature = None;
    assert_eq!(post(&url, &unsigned).await, 401);

    // Signed with our token but sealed with another key: 400.
    let foreign = CallbackKeys::new("vutsrqponmlkjihgfedcba9876543210")
        .unwrap()
        .with_token(TOKEN)
        .seal(
            CallbackFormat::V2,
            br#"{"MsgId":"x","MsgType":"FlowStatusChange","MsgData":{}}"#,
        );
    assert_eq!(post(&url, &foreign).await, 400);
    assert_eq!(app.flows.lock().unwrap().received, 0);

    // A signed probe (no `encrypt`): 200, nothing applied.
    let mut probe = sealed.clone();
    probe.body = b"{}".to_vec();
    probe.signature = Some(sign(TOKEN, b"{}"));
    assert_eq!(post(&url, &probe).await, 200);
    assert_eq!(app.flows.lock().unwrap().received, 0);

    assert_eq!(post(&url, &sealed).await, 200);
    assert_eq!(
        app.flows.lock().unwrap().status("yDflowC"),
        Some(&FlowCallbackStatus::Created)
    );
}

/// `sha256=<hex>` of the body under `token`, as the facts define it.
fn sign(token: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn generated_events_decode_typed_and_keep_unknown_types_raw() {
    let keys = keys();
    let sealed = flow_change("d0000000000000000000000000000001", "yDflowD", "finish", 4);
    let headers = |sealed: &Sealed| {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-signature",
            sealed.signature.as_deref().unwrap().parse().unwrap(),
        );
        headers
    };
    let event = match keys
        .receive::<CallbackEvent>(&headers(&sealed), &sealed.body)
        .unwrap()
    {
        ess_generated::callback::Delivery::Event(callback) => callback,
        other => panic!("{other:?}"),
    };
    assert_eq!(event.event.msg_type(), "FlowStatusChange");
    let CallbackEvent::FlowStatusChange(change) = &event.event else {
        panic!("typed");
    };
    assert_eq!(change.user_data.as_deref(), Some("order-42"));
    let approver = &change.approvers.as_ref().unwrap()[0];
    assert_eq!(approver.approver_mobile.as_deref(), Some("13800000000"));
    // Debug redacts what the spec marks personal.
    let debug = format!("{event:?}");
    for personal in ["13800000000", "张三", "order-42"] {
        assert!(!debug.contains(personal), "{personal} in {debug}");
    }

    let novel = keys.seal(
        CallbackFormat::V2,
        br#"{"MsgId":"e1","MsgType":"SomethingNew","MsgVersion":"CustomApp","MsgData":{"A":1}}"#,
    );
    let event = match keys
        .receive::<CallbackEvent>(&headers(&novel), &novel.body)
        .unwrap()
    {
        ess_generated::callback::Delivery::Event(callback) => callback.event,
        other => panic!("{other:?}"),
    };
    let CallbackEvent::Unknown { msg_type, data } = &event else {
        panic!("kept raw: {event:?}");
    };
    assert_eq!(msg_type, "SomethingNew");
    assert_eq!(data.json(), r#"{"A":1}"#);
}
