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
