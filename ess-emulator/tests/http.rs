//! The emulator's HTTP contract, seen from raw requests: every answer is HTTP 200 with
//! exactly `Content-Type: application/json`, a `Date` and `Response.RequestId`; the action,
//! version, body and size checks answer with the service's codes.

use std::time::{SystemTime, UNIX_EPOCH};

use ess_emulator::{Credential, DEMO_FLOW_ID, Emulator, MAX_BODY_BYTES};
use ess_runtime::signer::{Request, Signer};

struct Answer {
    status: u16,
    content_type: String,
    date: Option<String>,
    body: serde_json::Value,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body["Response"]["Error"]["Code"].as_str()
    }
}

/// POSTs `body` signed like the official SDK (when `key` is given), with these X-TC headers.
async fn post(
    emulator: &Emulator,
    key: Option<&Credential>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let host = emulator.url().trim_start_matches("http://").to_owned();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(emulator.url())
        .header("content-type", "application/json")
        .header("x-tc-timestamp", timestamp.to_string());
    if let Some(key) = key {
        let authorization = Signer::new().authorization(
            &key.secret_id,
            &key.secret_key,
            &Request {
                service: "ess",
                host: &host,
                content_type: "application/json",
                payload: &body,
                timestamp,
            },
        );
        request = request.header("authorization", authorization);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: response.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        date: header("date"),
        body: serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    }
}

/// Who signs, which X-TC headers, the body, and the error code expected (`None`: success).
type Case<'a> = (
    Option<&'a Credential>,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    Option<&'a str>,
);

const ACTION: (&str, &str) = ("x-tc-action", "CreateFlowSignUrl");
const VERSION: (&str, &str) = ("x-tc-version", "2020-11-11");

#[tokio::test]
async fn every_answer_is_a_json_envelope_with_the_services_codes() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let preview =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    let cases: Vec<Case> = vec![
        (Some(&key), vec![ACTION, VERSION], preview.clone(), None),
        (
            None,
            vec![ACTION, VERSION],
            preview.clone(),
            Some("AuthFailure.InvalidAuthorization"),
        ),
        (
            Some(&key),
            vec![VERSION],
            preview.clone(),
            Some("MissingParameter"),
        ),
        (
            Some(&key),
            vec![("x-tc-action", "CreateFlowSignLink"), VERSION],
            preview.clone(),
            Some("InvalidAction"),
        ),
        (
            Some(&key),
            vec![ACTION, ("x-tc-version", "2019-01-01")],
            preview.clone(),
            Some("NoSuchVersion"),
        ),
        (
            Some(&key),
            vec![ACTION],
            preview.clone(),
            Some("MissingParameter"),
        ),
        (
            Some(&key),
            vec![ACTION, VERSION],
            b"[1]".to_vec(),
            Some("InvalidParameter"),
        ),
        (
            Some(&key),
            vec![ACTION, VERSION],
            b"{not json".to_vec(),
            Some("InvalidParameter"),
        ),
    ];
    for (key, headers, body, code) in cases {
        let answer = post(&emulator, key, &headers, body).await;
        assert_eq!(answer.status, 200, "{headers:?}");
        assert_eq!(answer.content_type, "application/json", "{headers:?}");
        assert!(answer.date.is_some(), "{headers:?}");
        assert!(
            answer.body["Response"]["RequestId"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
        assert_eq!(answer.code(), code, "{headers:?}: {}", answer.body);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_unread() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], huge).await;
    assert_eq!(answer.code(), Some("RequestSizeLimitExceeded"));
}

#[tokio::test]
async fn the_date_header_follows_the_emulators_clock() {
    let emulator = Emulator::builder()
        .clock_offset(86_400)
        .start()
        .await
        .unwrap();
    let answer = post(&emulator, None, &[ACTION, VERSION], b"{}".to_vec()).await;
    let date = httpdate::parse_http_date(&answer.date.unwrap()).unwrap();
    let ahead = date.duration_since(SystemTime::now()).unwrap().as_secs();
    assert!((86_390..=86_410).contains(&ahead), "{ahead}");
}

#[tokio::test]
async fn temporary_keys_need_their_token() {
    let mut key = Credential::new("AKIDtemporary", "temporary-secret");
    key.token = Some("session-token".to_owned());
    let emulator = Emulator::builder()
        .credential(key.clone())
        .start()
        .await
        .unwrap();
    let body =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], body.clone()).await;
    assert_eq!(answer.code(), Some("AuthFailure.TokenFailure"));
    let answer = post(
        &emulator,
        Some(&key),
        &[ACTION, VERSION, ("x-tc-token", "session-token")],
        body,
    )
    .await;
    assert_eq!(answer.code(), None, "{}", answer.body);
}

#[tokio::test]
async fn get_and_v1_calls_get_a_json_error_not_a_page() {
    let emulator = Emulator::start().await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let v1_query = "Action=CreateFlowSignUrl&Version=2020-11-11&Timestamp=1700000000&Nonce=1&SecretId=AKIDx&SignatureMethod=HmacSHA256&Signature=abc";
    let get = client
        .get(format!("{}/?{v1_query}", emulator.url()))
        .send()
        .await
        .unwrap();
    let form = client
        .post(emulator.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(v1_query)
        .send()
        .await
        .unwrap();
    for response in [get, form] {
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(
            body["Response"]["Error"]["Code"], "UnsupportedOperation",
            "{body}"
        );
        let message = body["Response"]["Error"]["Message"].as_str().unwrap();
        assert!(message.contains("TC3-HMAC-SHA256"), "{message}");
        assert!(body["Response"]["RequestId"].is_string());
    }
    // A plain visit still gets the short text that says what the emulator is.
    let visit = client.get(emulator.url()).send().await.unwrap();
    assert!(visit.text().await.unwrap().contains("ess emulator"));
}

#[tokio::test]
async fn constraints_upstream_states_in_prose_are_checked() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let call = |action: &'static str, body: serde_json::Value| {
        let emulator = &emulator;
        let key = &key;
        async move {
            post(
                emulator,
                Some(key),
                &[("x-tc-action", action), VERSION],
                serde_json::to_vec(&body).unwrap(),
            )
            .await
        }
    };
    let operator = serde_json::json!({"UserId": "operator-1"});
    // DescribeFlowInfo takes at most 100 FlowIds.
    let ids: Vec<String> = (0..101).map(|_| DEMO_FLOW_ID.to_owned()).collect();
    let answer = call(
        "DescribeFlowInfo",
        serde_json::json!({"Operator": operator, "FlowIds": ids}),
    )
    .await;
    assert_eq!(
        answer.code(),
        Some("InvalidParameterValue"),
        "{}",
        answer.body
    );
    let answer = call(
        "DescribeFlowInfo",
        serde_json::json!({"Operator": operator, "FlowIds": &ids[..100]}),
    )
    .await;
    assert_eq!(answer.code(), None, "{}", answer.body);
    // A FlowGroupId wins over FlowIds; the emulator keeps no groups.
    let answer = call(
        "DescribeFlowInfo",
        serde_json::json!({"Operator": operator, "FlowIds": [DEMO_FLOW_ID], "FlowGroupId": "g-1"}),
    )
    .await;
    assert_eq!(
        answer.code(),
        Some("ResourceNotFound.Resource"),
        "{}",
        answer.body
    );
    // CancelMessage is at most 200 characters.
    let answer = call(
        "CancelFlow",
        serde_json::json!({"Operator": operator, "FlowId": DEMO_FLOW_ID, "CancelMessage": "撤".repeat(201)}),
    )
    .await;
    assert_eq!(
        answer.code(),
        Some("InvalidParameterValue"),
        "{}",
        answer.body
    );
    // Actions whose docs require the operator's UserId refuse an operator without one.
    let answer = call(
        "DescribeIntegrationRoles",
        serde_json::json!({"Operator": {}, "Offset": 0}),
    )
    .await;
    assert_eq!(answer.code(), Some("MissingParameter"), "{}", answer.body);
    assert!(
        answer.body["Response"]["Error"]["Message"]
            .as_str()
            .unwrap()
            .contains("Operator.UserId")
    );
}
