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
    // A Content-Type among `headers` replaces the default (the signature covers it
    // lowercased, as Tencent's signing doc canonicalizes header values).
    let content_type = headers
        .iter()
        .find(|(name, _)| *name == "content-type")
        .map_or("application/json", |(_, value)| *value);
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(emulator.url())
        .header("content-type", content_type)
        .header("x-tc-timestamp", timestamp.to_string());
    if let Some(key) = key {
        let authorization = Signer::new().authorization(
            &key.secret_id,
            &key.secret_key,
            &Request {
                service: "ess",
                host: &host,
                content_type: &content_type.to_ascii_lowercase(),
                payload: &body,
                timestamp,
            },
        );
        request = request.header("authorization", authorization);
    }
    for (name, value) in headers.iter().filter(|(name, _)| *name != "content-type") {
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
async fn signatures_and_date_follow_the_service_clock_not_the_business_clock() {
    // The business clock a day ahead: a request signed with the machine's clock verifies,
    // as on ESS, and Date is real time.
    let emulator = Emulator::builder()
        .clock_offset(86_400)
        .start()
        .await
        .unwrap();
    let key = emulator.credentials()[0].clone();
    let body =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], body.clone()).await;
    assert_eq!(answer.code(), None, "{}", answer.body);
    let date = httpdate::parse_http_date(&answer.date.unwrap()).unwrap();
    let off = date
        .duration_since(SystemTime::now())
        .unwrap_or_else(|e| e.duration())
        .as_secs();
    assert!(off <= 10, "{off}");

    // A skewed service clock: the machine's timestamp is refused, and Date says why.
    emulator.set_clock_skew(86_400).unwrap();
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], body).await;
    assert_eq!(answer.code(), Some("AuthFailure.SignatureExpire"));
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

#[tokio::test]
async fn unsigned_and_oversized_bodies_are_recorded_by_size_only() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let unsigned = vec![b' '; 100_000];
    let answer = post(&emulator, None, &[ACTION, VERSION], unsigned).await;
    assert_eq!(answer.code(), Some("AuthFailure.InvalidAuthorization"));
    let mut big = b"{\"FlowId\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', ess_emulator::RECORDED_BODY_BYTES));
    big.extend(b"\"}");
    post(&emulator, Some(&key), &[ACTION, VERSION], big.clone()).await;
    let calls = emulator.received();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].body_bytes, &calls[0].body),
        (100_000, &serde_json::Value::Null)
    );
    assert_eq!(calls[0].secret_id, None);
    assert_eq!(
        (calls[1].body_bytes, &calls[1].body),
        (big.len(), &serde_json::Value::Null)
    );
    assert_eq!(calls[1].secret_id.as_deref(), Some(key.secret_id.as_str()));
}

/// Reads until the server closes the connection; `false` if it stays open `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    let reading = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(within, reading).await.is_ok()
}

#[tokio::test]
async fn silent_slow_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let timeout = std::time::Duration::from_millis(300);
    let emulator = Emulator::builder()
        .idle_timeout(timeout)
        .start()
        .await
        .unwrap();
    let within = std::time::Duration::from_secs(10);
    // Connects and sends nothing.
    let mut silent = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    // Sends half its headers.
    let mut slow = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Sends its headers and a tenth of its body.
    let mut trickle = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    trickle
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    // Makes one call, then stays idle on the kept-alive connection.
    let mut idle = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    for stream in [&mut silent, &mut slow, &mut trickle, &mut idle] {
        assert!(closed_within(stream, within).await);
    }
    // Still serving.
    let answer = post(&emulator, None, &[ACTION, VERSION], b"{}".to_vec()).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn the_clock_offset_is_bounded() {
    let max = ess_emulator::MAX_CLOCK_OFFSET;
    for offset in [i64::MAX, i64::MIN, max + 1, -max - 1] {
        let refused = Emulator::builder().clock_offset(offset).start().await;
        assert_eq!(
            refused.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput,
            "{offset}"
        );
        let refused = Emulator::builder().clock_skew(offset).start().await;
        assert_eq!(
            refused.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput,
            "{offset}"
        );
    }
    let emulator = Emulator::start().await.unwrap();
    assert!(emulator.set_clock_offset(99_999_999_999_999).is_err());
    assert!(emulator.set_clock_skew(99_999_999_999_999).is_err());
    assert_eq!((emulator.clock_offset(), emulator.clock_skew()), (0, 0));
    // At either bound every answer is still an envelope with a Date: the business clock's
    // leaves signatures alone (the empty body is refused for its form), the service
    // clock's skew refuses the machine's timestamp.
    let key = emulator.credentials()[0].clone();
    for offset in [max, -max] {
        emulator.set_clock_offset(offset).unwrap();
        let answer = post(&emulator, Some(&key), &[ACTION, VERSION], b"{}".to_vec()).await;
        assert_eq!(answer.code(), Some("MissingParameter"));
        assert!(answer.date.is_some());
        emulator.set_clock_skew(offset).unwrap();
        let answer = post(&emulator, Some(&key), &[ACTION, VERSION], b"{}".to_vec()).await;
        assert_eq!(answer.code(), Some("AuthFailure.SignatureExpire"));
        assert!(answer.date.is_some());
        emulator.set_clock_skew(0).unwrap();
    }
}

#[tokio::test]
async fn overridden_calls_are_checked_first_and_links_per_call_are_bounded() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    emulator
        .add_override(
            ess_emulator::Override::new("CreateFlowSignUrl", serde_json::json!({})).repeating(),
        )
        .unwrap();
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], b"{}".to_vec()).await;
    assert_eq!(answer.code(), Some("MissingParameter"), "{}", answer.body);
    emulator.clear_overrides();
    let (name, mobile) = ess_emulator::DEMO_PERSON;
    let signer =
        serde_json::json!({"ApproverType": 1, "ApproverName": name, "ApproverMobile": mobile});
    let many = vec![signer; ess_emulator::MAX_LINKS_PER_CALL + 1];
    let body = serde_json::json!({"FlowId": DEMO_FLOW_ID, "FlowApproverInfos": many});
    let answer = post(
        &emulator,
        Some(&key),
        &[ACTION, VERSION],
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(answer.code(), Some("LimitExceeded"), "{}", answer.body);
}

#[tokio::test]
async fn keys_of_one_sub_account_share_its_rate_limit() {
    let first = Credential::new("AKIDsharedOne", "key-one").in_account("sub-account-1");
    let second = Credential::new("AKIDsharedTwo", "key-two").in_account("sub-account-1");
    let other = Credential::new("AKIDalone", "key-three");
    let emulator = Emulator::builder()
        .credential(first.clone())
        .credential(second.clone())
        .credential(other.clone())
        .start()
        .await
        .unwrap();
    let preview =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    // CreateFlowSignUrl allows 20 a second; the first key uses them all.
    for _ in 0..20 {
        let answer = post(&emulator, Some(&first), &[ACTION, VERSION], preview.clone()).await;
        assert_eq!(answer.code(), None, "{}", answer.body);
    }
    let answer = post(
        &emulator,
        Some(&second),
        &[ACTION, VERSION],
        preview.clone(),
    )
    .await;
    assert_eq!(answer.code(), Some("RequestLimitExceeded"));
    let answer = post(&emulator, Some(&other), &[ACTION, VERSION], preview).await;
    assert_eq!(answer.code(), None, "another sub-account has its own limit");
}

#[tokio::test]
async fn a_media_type_in_another_case_is_json_still() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let body =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    let content_type = ("content-type", "Application/JSON; Charset=UTF-8");
    let answer = post(
        &emulator,
        Some(&key),
        &[ACTION, VERSION, content_type],
        body,
    )
    .await;
    assert_eq!(answer.code(), None, "{}", answer.body);
}

#[tokio::test]
async fn idle_sockets_at_the_connection_bound_do_not_lock_a_caller_out() {
    // Long idle timeout: only the bound's eviction can make room.
    let emulator = Emulator::builder()
        .max_connections(16)
        .idle_timeout(std::time::Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let authority = emulator.url().trim_start_matches("http://").to_owned();
    let mut silent = Vec::new();
    for _ in 0..40 {
        silent.push(tokio::net::TcpStream::connect(&authority).await.unwrap());
    }
    let key = emulator.credentials()[0].clone();
    let body =
        serde_json::to_vec(&serde_json::json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1})).unwrap();
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        post(&emulator, Some(&key), &[ACTION, VERSION], body),
    )
    .await
    .expect("answered while 40 idle sockets are open");
    assert_eq!(answer.code(), None, "{}", answer.body);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn a_recorded_member_the_spec_does_not_know_shows_its_name_not_its_value() {
    let emulator = Emulator::start().await.unwrap();
    let key = emulator.credentials()[0].clone();
    let body = serde_json::to_vec(&serde_json::json!({
        "FlowId": DEMO_FLOW_ID,
        "UrlType": 1,
        "ContactMobile": "13812345678"
    }))
    .unwrap();
    let answer = post(&emulator, Some(&key), &[ACTION, VERSION], body).await;
    assert_eq!(answer.code(), Some("UnknownParameter"), "{}", answer.body);
    let recorded = &emulator.received()[0].body;
    assert_eq!(recorded["ContactMobile"], "<redacted>");
    assert_eq!(recorded["FlowId"], DEMO_FLOW_ID);
}
