//! The HTTP transport against a local server (loopback, port 0): headers and signature,
//! error classification, retries, the rate limiter, clock-skew recovery, and logs that never
//! carry secrets or sensitive values.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ess_runtime::signer::{Request as SignedRequest, Signer};
use ess_runtime::{
    Action, Config, Credentials, Endpoint, Error, HttpTransport, Language, RetryPolicy, Validate,
    Violation, call,
};
use serde::{Deserialize, Serialize};

const SECRET_KEY: &str = "sk-0123456789-very-secret";
const TOKEN: &str = "session-token-shh";
const MOBILE: &str = "13912345678";

#[derive(Serialize)]
struct Ping {
    #[serde(rename = "FlowId")]
    flow_id: String,
    #[serde(rename = "ApproverMobile")]
    mobile: String,
}

#[derive(Deserialize, Debug)]
struct Pong {
    #[serde(rename = "RequestId")]
    request_id: String,
}

macro_rules! action {
    ($name:ident, $retry_safe:expr, $limit:expr) => {
        #[derive(Serialize)]
        struct $name(Ping);
        impl Validate for $name {
            fn validate_into(&self, _path: &str, _out: &mut Vec<Violation>) {}
        }
        impl Action for $name {
            const NAME: &'static str = "CreateFlowSignUrl";
            const SERVICE: &'static str = "ess";
            const VERSION: &'static str = "2020-11-11";
            const ENDPOINT: &'static str = "default";
            const RATE_LIMIT: Option<u32> = $limit;
            const RETRY_SAFE: bool = $retry_safe;
            const ERRORS: &'static [&'static str] = &[];
            type Response = Pong;
        }
    };
}

action!(Safe, true, None);
action!(Unsafe, false, None);
action!(Limited, true, Some(20));

fn ping() -> Ping {
    Ping {
        flow_id: "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm".into(),
        mobile: MOBILE.into(),
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    headers: HeaderMap,
    body: Bytes,
}

type Reply = Box<dyn Fn(&Seen) -> Response + Send + Sync>;

#[derive(Default)]
struct Server {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

fn json(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn service_error(code: &'static str) -> Reply {
    Box::new(move |_| {
        let body = format!(
            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-err"}}}}"#
        );
        let content_type = "application/json; charset=utf-8";
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
    })
}

async fn handle(State(server): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> Response {
    let seen = Seen { headers, body };
    server.seen.lock().unwrap().push(seen.clone());
    let reply = server.script.lock().unwrap().pop_front();
    match reply {
        Some(reply) => reply(&seen),
        None => json(StatusCode::OK, r#"{"Response":{"RequestId":"r-ok"}}"#),
    }
}

async fn serve(script: Vec<Reply>) -> (String, Arc<Server>) {
    let server = Arc::new(Server {
        script: Mutex::new(script.into()),
        seen: Mutex::default(),
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, server)
}

fn credentials() -> Credentials {
    Credentials::new("AKIDtest", SECRET_KEY).unwrap()
}

fn transport(url: &str, retry: RetryPolicy) -> HttpTransport {
    let credentials = credentials().with_token(TOKEN).unwrap();
    let config = Config::builder(credentials)
        .endpoint(Endpoint::Url(url.to_owned()))
        .retry(retry)
        .build();
    HttpTransport::new(config).unwrap()
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
    }
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn requests_carry_the_official_headers_and_a_valid_signature() {
    let (url, server) = serve(vec![]).await;
    let t = transport(&url, RetryPolicy::none());
    let pong = call(&t, &Safe(ping())).await.unwrap();
    assert_eq!(pong.request_id, "r-ok");
    let seen = server.seen.lock().unwrap()[0].clone();
    assert_eq!(header(&seen, "x-tc-action"), Some("CreateFlowSignUrl"));
    assert_eq!(header(&seen, "x-tc-version"), Some("2020-11-11"));
    assert_eq!(header(&seen, "x-tc-language"), Some("zh-CN"));
    assert_eq!(header(&seen, "x-tc-requestclient"), Some("ess-rs"));
    assert_eq!(header(&seen, "x-tc-token"), Some(TOKEN));
    assert_eq!(
        header(&seen, "x-tc-region"),
        None,
        "no region is configured"
    );
    assert_eq!(header(&seen, "content-type"), Some("application/json"));
    let host = url.trim_start_matches("http://");
    assert_eq!(
        header(&seen, "host"),
        Some(host),
        "Host is the RFC authority"
    );
    let timestamp: i64 = header(&seen, "x-tc-timestamp").unwrap().parse().unwrap();
    assert!((unix_now() - timestamp).abs() < 5);
    // The signature covers exactly the body and headers that arrived.
    let request = SignedRequest {
        service: "ess",
        host,
        content_type: "application/json",
        payload: &seen.body,
        timestamp,
    };
    let expected = Signer::new().authorization("AKIDtest", SECRET_KEY, &request);
    assert_eq!(header(&seen, "authorization"), Some(expected.as_str()));
}

#[tokio::test]
async fn region_and_language_when_configured() {
    let (url, server) = serve(vec![]).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .region("ap-guangzhou")
        .language(Language::EnUs)
        .request_client_suffix("tests")
        .build();
    call(&HttpTransport::new(config).unwrap(), &Safe(ping()))
        .await
        .unwrap();
    let seen = server.seen.lock().unwrap()[0].clone();
    assert_eq!(header(&seen, "x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(header(&seen, "x-tc-language"), Some("en-US"));
    assert_eq!(header(&seen, "x-tc-requestclient"), Some("ess-rs/tests"));
    assert_eq!(header(&seen, "x-tc-token"), None);
}

#[tokio::test]
async fn bad_responses_are_classified() {
    // A non-200 answer keeps its status and a body excerpt (after retries, for 5xx).
    let bad_gateway: fn(&Seen) -> Response =
        |_| (StatusCode::BAD_GATEWAY, "<html>bad gateway</html>").into_response();
    let (url, server) = serve(vec![Box::new(bad_gateway), Box::new(bad_gateway)]).await;
    let err = call(&transport(&url, fast_retries(2)), &Safe(ping()))
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err}")
    };
    assert_eq!(t.status, Some(502));
    assert_eq!(t.body_excerpt.as_deref(), Some("<html>bad gateway</html>"));
    assert_eq!(server.seen.lock().unwrap().len(), 2);

    // A 200 that is not an API response is not retried.
    let portal: fn(&Seen) -> Response =
        |_| (StatusCode::OK, "<html>captive portal</html>").into_response();
    let (url, server) = serve(vec![Box::new(portal)]).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        t.body_excerpt.as_deref(),
        Some("<html>captive portal</html>")
    );
    assert_eq!(server.seen.lock().unwrap().len(), 1);

    // Response.Error is recognised whatever the Content-Type parameters.
    let (url, _server) = serve(vec![service_error("ResourceNotFound.Flow")]).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ResourceNotFound.Flow: m (RequestId r-err)"
    );

    // A response of the wrong shape names the JSON path.
    let wrong: fn(&Seen) -> Response = |_| json(StatusCode::OK, r#"{"Response":{"RequestId":7}}"#);
    let (url, _server) = serve(vec![Box::new(wrong)]).await;
    let err = call(&transport(&url, fast_retries(1)), &Safe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "$.RequestId"),
        "{err}"
    );
}

#[tokio::test]
async fn retryable_service_errors_are_retried_others_are_not() {
    let script = vec![
        service_error("InternalError"),
        service_error("RequestLimitExceeded.UinLimitExceeded"),
    ];
    let (url, server) = serve(script).await;
    let pong = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap();
    assert_eq!(pong.request_id, "r-ok");
    assert_eq!(server.seen.lock().unwrap().len(), 3);

    // An InternalError may come after a write executed: never sent twice.
    let (url, server) = serve(vec![service_error("InternalError")]).await;
    let err = call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(server.seen.lock().unwrap().len(), 1);

    // A refusal by the rate limit did not execute: retried for any action.
    let (url, server) = serve(vec![service_error("RequestLimitExceeded")]).await;
    call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
        .await
        .unwrap();
    assert_eq!(server.seen.lock().unwrap().len(), 2);

    let (url, server) = serve(vec![service_error("FailedOperation")]).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("FailedOperation"));
    assert_eq!(server.seen.lock().unwrap().len(), 1);

    // Attempts are bounded.
    let script = (0..5).map(|_| service_error("InternalError")).collect();
    let (url, server) = serve(script).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(server.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn no_sleep_after_the_last_attempt_and_the_deadline_holds() {
    let slow = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(5),
        deadline: Duration::from_secs(60),
    };
    let (url, _server) = serve(vec![service_error("InternalError")]).await;
    let started = Instant::now();
    assert!(call(&transport(&url, slow), &Safe(ping())).await.is_err());
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "slept after the last attempt: {elapsed:?}"
    );

    let no_time = RetryPolicy {
        deadline: Duration::ZERO,
        ..fast_retries(5)
    };
    let script = (0..5).map(|_| service_error("InternalError")).collect();
    let (url, server) = serve(script).await;
    assert!(
        call(&transport(&url, no_time), &Safe(ping()))
            .await
            .is_err()
    );
    assert_eq!(
        server.seen.lock().unwrap().len(),
        1,
        "the deadline allows no retry"
    );
}

/// A server that reads each request and closes the connection without answering.
async fn hang_up() -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            *seen.lock().unwrap() += 1;
            drop(socket);
        }
    });
    (url, count)
}

#[tokio::test]
async fn network_failures_are_retried_only_for_retry_safe_actions() {
    let (url, count) = hang_up().await;
    let result = call(&transport(&url, fast_retries(3)), &Unsafe(ping())).await;
    assert!(matches!(result, Err(Error::Transport(_))));
    assert_eq!(*count.lock().unwrap(), 1);

    let (url, count) = hang_up().await;
    assert!(
        call(&transport(&url, fast_retries(3)), &Safe(ping()))
            .await
            .is_err()
    );
    assert_eq!(*count.lock().unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_errors_of_their_own() {
    let late: fn(&Seen) -> Response = |_| {
        // Blocks one server worker; the client runs on the other.
        std::thread::sleep(Duration::from_millis(600));
        json(StatusCode::OK, r#"{"Response":{"RequestId":"late"}}"#)
    };
    let (url, _server) = serve(vec![Box::new(late)]).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build();
    let err = call(&HttpTransport::new(config).unwrap(), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
}

#[tokio::test]
async fn the_rate_limit_is_shared_by_clones() {
    let (url, server) = serve(vec![]).await;
    let t = transport(&url, RetryPolicy::none());
    let clone = t.clone();
    let started = Instant::now();
    for i in 0..30 {
        let t = if i % 2 == 0 { &t } else { &clone };
        call(t, &Limited(ping())).await.unwrap();
    }
    // 20 at once, then 10 more at 20 per second.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert_eq!(server.seen.lock().unwrap().len(), 30);
}

fn expired(server_now: i64) -> Response {
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(server_now as u64));
    let body = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r-skew"}}"#;
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_owned()),
        (header::DATE, date),
    ];
    (StatusCode::OK, headers, body).into_response()
}

#[tokio::test]
async fn clock_skew_is_recovered_once_with_the_servers_date() {
    const SKEW: i64 = 1000;
    let check: fn(&Seen) -> Response = |seen| {
        let server_now = unix_now() + SKEW;
        let sent: i64 = header(seen, "x-tc-timestamp").unwrap().parse().unwrap();
        if (server_now - sent).abs() > 300 {
            expired(server_now)
        } else {
            json(StatusCode::OK, r#"{"Response":{"RequestId":"r-ok"}}"#)
        }
    };
    let (url, server) = serve(vec![Box::new(check), Box::new(check)]).await;
    let pong = call(&transport(&url, RetryPolicy::none()), &Unsafe(ping()))
        .await
        .unwrap();
    assert_eq!(pong.request_id, "r-ok");
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let second: i64 = header(&seen[1], "x-tc-timestamp").unwrap().parse().unwrap();
    assert!(
        (second - (unix_now() + SKEW)).abs() < 5,
        "re-signed with the server's clock"
    );

    // Only once: a server that keeps refusing gets its error back after one re-sign.
    let refuse: fn(&Seen) -> Response = |_| expired(unix_now() + 5000);
    let script = vec![
        Box::new(refuse) as Reply,
        Box::new(refuse),
        Box::new(refuse),
    ];
    let (url, server) = serve(script).await;
    let err = call(&transport(&url, RetryPolicy::none()), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AuthFailure.SignatureExpire"));
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_logs_never_carry_secrets_or_sensitive_values() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let script = vec![
                service_error("InternalError"),
                service_error("ResourceNotFound.Flow"),
            ];
            let (url, _server) = serve(script).await;
            let t = transport(&url, fast_retries(3));
            let _ = call(&t, &Safe(ping())).await;
            let _ = call(&t, &Safe(ping())).await;
        });
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("CreateFlowSignUrl") && logs.contains("attempt"),
        "nothing was traced:\n{logs}"
    );
    assert!(
        logs.contains("request_id=\"r-err\""),
        "the RequestId is traced:\n{logs}"
    );
    for secret in [SECRET_KEY, TOKEN, MOBILE, "TC3-HMAC-SHA256", "Signature="] {
        assert!(
            !logs.contains(secret),
            "`{secret}` appears in the logs:\n{logs}"
        );
    }
}
