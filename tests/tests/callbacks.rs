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
    CallbackKeys::new(KEY, TOKEN).unwrap()
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
    forged.signature = CallbackKeys::new(KEY, "another-token")
        .unwrap()
        .seal(CallbackFormat::V2, &sealed.body)
        .signature;
    assert_eq!(post(&url, &forged).await, 401);
    let mut unsigned = sealed.clone();
    unsigned.signature = None;
    assert_eq!(post(&url, &unsigned).await, 401);

    // Signed with our token but sealed with another key: 400.
    let foreign = CallbackKeys::new("vutsrqponmlkjihgfedcba9876543210", TOKEN)
        .unwrap()
        .seal(
            CallbackFormat::V2,
            br#"{"MsgId":"x","MsgType":"FlowStatusChange","MsgData":{}}"#,
        );
    assert_eq!(post(&url, &foreign).await, 400);
    assert_eq!(app.flows.lock().unwrap().received, 0);

    // A signed probe (no `encrypt`): 200, nothing applied.
    let mut probe = sealed.clone();
    probe.body = b"{}".to_vec();
    probe.signature = keys().sign(b"{}");
    assert_eq!(post(&url, &probe).await, 200);
    assert_eq!(app.flows.lock().unwrap().received, 0);

    assert_eq!(post(&url, &sealed).await, 200);
    assert_eq!(
        app.flows.lock().unwrap().status("yDflowC"),
        Some(&FlowCallbackStatus::Created)
    );
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

/// Every test that waits on the emulator is bounded: a hang fails instead of stalling CI.
const BOUND: std::time::Duration = std::time::Duration::from_secs(60);

mod through_the_emulator {
    use super::*;
    use ess_emulator::{CallbackFault, CallbackTarget, DEMO_PERSON, Emulator};
    use ess_generated::{
        ApproverType, CallbackInfo, Client, CreateFlowRequest, DescribeFlowInfoRequest,
        FlowCreateApprover, FlowStatus, ModifyApplicationCallbackInfoRequest, UserInfo,
    };

    fn client(emulator: &Emulator) -> Client {
        let key = &emulator.credentials()[0];
        ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key)
    }

    fn person() -> FlowCreateApprover {
        let (name, mobile) = DEMO_PERSON;
        FlowCreateApprover::new(ApproverType::Person)
            .approver_name(name)
            .approver_mobile(mobile)
    }

    /// Creates, documents and starts a one-signer flow; returns its id.
    async fn started_flow(client: &Client, name: &str) -> String {
        let operator = UserInfo::new().user_id("operator-1");
        let request = CreateFlowRequest::new(operator, name, vec![person()]).user_data("order-42");
        ess_tests::create_and_start_flow(client, &request).await
    }

    /// Signs the flow's one signer on the link's page, as a test signer would.
    async fn sign(client: &Client, flow_id: &str) {
        ess_tests::sign_on_link(client, flow_id, person()).await;
    }

    /// The example receiver, and an emulator that sends it callbacks signed with `token`.
    async fn registered(token: &str) -> (String, Arc<App>, Emulator) {
        let (url, app) = serve().await;
        let emulator = Emulator::builder()
            .seed_demo(false)
            .callback(CallbackTarget::new(url.clone(), KEY).token(token))
            .start()
            .await
            .unwrap();
        (url, app, emulator)
    }

    /// Waits until the emulator has finished sending `count` deliveries.
    async fn deliveries(emulator: &Emulator, count: usize) -> Vec<ess_emulator::CallbackDelivery> {
        loop {
            let done = emulator.callback_deliveries();
            if done.len() >= count {
                return done;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_whole_signing_reaches_the_receiver_by_callback() {
        tokio::time::timeout(BOUND, async {
            let (url, app) = serve().await;
            let emulator = Emulator::builder().seed_demo(false).start().await.unwrap();
            let client = client(&emulator);
            // Registered the way an integration registers its URL.
            client
                .modify_application_callback_info(&ModifyApplicationCallbackInfoRequest::new(
                    UserInfo::new().user_id("operator-1"),
                    1,
                    CallbackInfo::new(url.clone())
                        .callback_key(KEY)
                        .callback_token(TOKEN),
                ))
                .await
                .unwrap();
            assert_eq!(emulator.callback_urls(), vec![url.clone()]);

            let flow_id = started_flow(&client, "Lease").await;
            sign(&client, &flow_id).await;

            // start, then sign and finish on completion: every one delivered at once.
            let sent = deliveries(&emulator, 3).await;
            let seen: Vec<(&str, i64, u32, bool)> = sent
                .iter()
                .map(|d| (d.operate.as_str(), d.status, d.attempts, d.delivered))
                .collect();
            assert_eq!(
                seen,
                [
                    ("start", 1, 1, true),
                    ("sign", 4, 1, true),
                    ("finish", 4, 1, true)
                ]
            );
            assert!(sent.iter().all(|d| d.flow_id == flow_id && d.url == url));

            let described = client
                .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]))
                .await
                .unwrap();
            let status = described.flow_detail_infos.unwrap()[0].flow_status.clone();
            assert_eq!(status, Some(FlowStatus::Signed));
            let flows = app.flows.lock().unwrap();
            assert_eq!(flows.status(&flow_id), Some(&FlowCallbackStatus::AllSigned));
            assert_eq!((flows.received, flows.duplicates), (3, 0));
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn duplicated_reordered_and_version_1_deliveries_end_in_the_right_state() {
        tokio::time::timeout(BOUND, async {
            let (_, app, emulator) = registered(TOKEN).await;
            let client = client(&emulator);
            // The start is held back until after the next message (the signature), the
            // signature comes twice, the completion in version 1 (no MsgId to dedupe on).
            emulator.inject_callback(CallbackFault::Reorder);
            emulator.inject_callback(CallbackFault::Duplicate);
            emulator.inject_callback(CallbackFault::V1);
            let flow_id = started_flow(&client, "Lease").await;
            sign(&client, &flow_id).await;

            let sent = deliveries(&emulator, 4).await;
            let order: Vec<&str> = sent.iter().map(|d| d.operate.as_str()).collect();
            assert_eq!(order, ["sign", "sign", "start", "finish"]);
            assert!(sent.iter().all(|d| d.delivered));
            let flows = app.flows.lock().unwrap();
            assert_eq!(flows.status(&flow_id), Some(&FlowCallbackStatus::AllSigned));
            assert_eq!(flows.received, 4);
            assert_eq!(flows.duplicates, 1);
            // The late start and the version 1 finish (same status) do not move the flow.
            assert_eq!(flows.stale, 2);
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_cancel_reaches_the_receiver_and_is_final() {
        tokio::time::timeout(BOUND, async {
            let (_, app, emulator) = registered(TOKEN).await;
            let client = client(&emulator);
            let flow_id = started_flow(&client, "Withdrawn").await;
            client
                .cancel_flow(&ess_generated::CancelFlowRequest::new(
                    UserInfo::new().user_id("operator-1"),
                    flow_id.clone(),
                    "changed terms",
                ))
                .await
                .unwrap();
            let sent = deliveries(&emulator, 2).await;
            let seen: Vec<(&str, i64)> = sent
                .iter()
                .map(|d| (d.operate.as_str(), d.status))
                .collect();
            assert_eq!(seen, [("start", 1), ("cancel", 6)]);
            let flows = app.flows.lock().unwrap();
            assert_eq!(flows.status(&flow_id), Some(&FlowCallbackStatus::Cancelled));
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_rejection_and_an_expiry_reach_the_receiver_and_are_final() {
        tokio::time::timeout(BOUND, async {
            let (_, app, emulator) = registered(TOKEN).await;
            let client = client(&emulator);
            let rejected = started_flow(&client, "Rejected").await;
            emulator
                .reject(&rejected, &ess_emulator::Signer::Index(0), "wrong amount")
                .unwrap();
            let expired = started_flow(&client, "Expired").await;
            emulator.expire(&expired).unwrap();
            let sent = deliveries(&emulator, 4).await;
            let mut seen: Vec<(&str, i64)> = sent
                .iter()
                .map(|d| (d.operate.as_str(), d.status))
                .collect();
            seen.sort_unstable();
            assert_eq!(
                seen,
                [("deadline", 5), ("reject", 3), ("start", 1), ("start", 1)]
            );
            let flows = app.flows.lock().unwrap();
            assert_eq!(flows.status(&rejected), Some(&FlowCallbackStatus::Rejected));
            assert_eq!(flows.status(&expired), Some(&FlowCallbackStatus::Expired));
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn anything_but_200_is_sent_again_a_bounded_number_of_times() {
        tokio::time::timeout(BOUND, async {
            // The emulator signs with another token than the receiver's: every delivery is
            // refused (401).
            let (_, _app, emulator) = registered("another-token").await;
            started_flow(&client(&emulator), "Lease").await;
            let sent = deliveries(&emulator, 1).await;
            assert_eq!(sent[0].operate, "start");
            assert_eq!(sent[0].attempts, ess_emulator::CALLBACK_ATTEMPTS);
            assert!(!sent[0].delivered);
            assert_eq!(sent[0].last_status, Some(401));
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_reset_forgets_urls_faults_deliveries_and_pending_re_sends() {
        tokio::time::timeout(BOUND, async {
            // A URL that refuses everything (another token): its re-sends would take ~21 s.
            let (url, app, emulator) = registered("another-token").await;
            let client = client(&emulator);
            emulator.inject_callback(CallbackFault::Delay(std::time::Duration::from_secs(30)));
            emulator.inject_callback(CallbackFault::Duplicate);
            started_flow(&client, "Earlier test").await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            emulator.reset();
            // The launch's URL stays (it came with the builder); the queued faults and the
            // log are gone.
            assert_eq!(emulator.callback_urls(), vec![url.clone()]);
            assert!(emulator.callback_deliveries().is_empty());
            emulator.remove_callback(&url);
            // The next test registers its own receiver: its callback comes at once, not
            // after the earlier test's delayed and re-sent messages.
            let (next_url, next_app) = serve().await;
            emulator
                .add_callback(CallbackTarget::new(next_url.clone(), KEY).token(TOKEN))
                .unwrap();
            let started = std::time::Instant::now();
            let flow_id = started_flow(&client, "Next test").await;
            let sent = deliveries(&emulator, 1).await;
            assert!(
                started.elapsed() < std::time::Duration::from_secs(3),
                "{:?}",
                started.elapsed()
            );
            assert_eq!((sent.len(), sent[0].url.as_str()), (1, next_url.as_str()));
            assert!(sent[0].delivered);
            assert_eq!(
                next_app.flows.lock().unwrap().status(&flow_id),
                Some(&FlowCallbackStatus::Created)
            );
            assert_eq!(app.flows.lock().unwrap().received, 0);
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_url_registered_without_a_key_gets_plain_signed_json() {
        use axum::body::Bytes;
        use std::sync::Mutex;
        tokio::time::timeout(BOUND, async {
            type Seen = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;
            let seen: Seen = Arc::default();
            let kept = seen.clone();
            let app = axum::Router::new().route(
                "/",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: Bytes| {
                    let kept = kept.clone();
                    async move {
                        let signature = headers
                            .get("content-signature")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        kept.lock().unwrap().push((signature, body.to_vec()));
                        "ok"
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            let emulator = Emulator::builder().seed_demo(false).start().await.unwrap();
            let client = client(&emulator);
            // No CallbackKey: the registration stands.
            client
                .modify_application_callback_info(&ModifyApplicationCallbackInfoRequest::new(
                    UserInfo::new().user_id("operator-1"),
                    1,
                    CallbackInfo::new(url.clone()).callback_token(TOKEN),
                ))
                .await
                .unwrap();
            let flow_id = started_flow(&client, "Plain").await;
            let sent = deliveries(&emulator, 1).await;
            assert!(sent[0].delivered, "{sent:?}");
            let (signature, body) = seen.lock().unwrap()[0].clone();
            // The envelope, in plain JSON, signed with the token over the body as sent.
            let envelope: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(envelope["MsgType"], "FlowStatusChange");
            assert_eq!(envelope["MsgData"]["FlowId"], flow_id.as_str());
            assert_eq!(
                signature.as_deref(),
                Some(ess_generated::callback::signature(TOKEN, &body).as_str())
            );
        })
        .await
        .unwrap();
    }
}
