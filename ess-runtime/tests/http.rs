//! The HTTP transport against a local server (loopback, port 0): headers and signature,
//! error classification, retries, deadlines, body caps, the rate limiter and clock-skew
//! recovery.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::*;
use ess_runtime::signer::{Request as SignedRequest, Signer};
use ess_runtime::{Config, Endpoint, Error, HttpTransport, Language, RetryPolicy, call};

#[tokio::test]
async fn requests_carry_the_official_headers_and_a_valid_signature() {
    let (url, server) = serve(vec![]).await;
    let t = transport(&url, RetryPolicy::none());
    let pong = call(&t, &Safe(ping())).await.unwrap();
    assert_eq!(pong.request_id, "r-ok");
    let seen = server.seen.lock().unwrap()[0].clone();
    assert_official_request(&seen, &url);
}

fn assert_official_request(seen: &Seen, url: &str) {
    assert_eq!(header(seen, "x-tc-action"), Some("CreateFlowSignUrl"));
    assert_eq!(header(seen, "x-tc-version"), Some("2020-11-11"));
    assert_eq!(header(seen, "x-tc-language"), Some("zh-CN"));
    assert_eq!(header(seen, "x-tc-requestclient"), Some("ess-rs"));
    assert_eq!(header(seen, "x-tc-token"), Some(TOKEN));
    assert_eq!(header(seen, "x-tc-region"), None, "no region is configured");
    assert_eq!(header(seen, "content-type"), Some("application/json"));
    let host = url.trim_start_matches("http://");
    assert_eq!(
        header(seen, "host"),
        Some(host),
        "Host is the RFC authority"
    );
    let timestamp: i64 = header(seen, "x-tc-timestamp").unwrap().parse().unwrap();
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
    assert_eq!(header(seen, "authorization"), Some(expected.as_str()));
}

#[tokio::test]
async fn region_and_language_when_configured() {
    let (url, server) = serve(vec![]).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .region("ap-guangzhou")
        .language(Language::EnUs)
        .request_client_suffix("tests")
        .build()
        .unwrap();
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

    // A success needs a RequestId (a string): refused when decoded, and not retried.
    let numbered: fn(&Seen) -> Response =
        |_| json(StatusCode::OK, r#"{"Response":{"RequestId":7}}"#);
    let anonymous: fn(&Seen) -> Response = |_| json(StatusCode::OK, r#"{"Response":{}}"#);
    for (reply, path) in [(numbered, "$.RequestId"), (anonymous, "$")] {
        let (url, server) = serve(vec![Box::new(reply)]).await;
        let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
            .await
            .unwrap_err();
        let Error::Decode { path: at, message } = &err else {
            panic!("{err}")
        };
        assert_eq!(at, path);
        assert!(
            message.contains("RequestId") || message.contains("string"),
            "{err}"
        );
        assert_eq!(server.seen.lock().unwrap().len(), 1);
    }

    // A response of the wrong shape names the JSON path.
    let wrong: fn(&Seen) -> Response = |_| {
        json(
            StatusCode::OK,
            r#"{"Response":{"RequestId":"r","Items":[{"N":1},{"N":"x"}]}}"#,
        )
    };
    let (url, _server) = serve(vec![Box::new(wrong)]).await;
    let err = call(&transport(&url, fast_retries(1)), &Listing(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, .. } if path == "$.Items[1].N"),
        "{err}"
    );

    // An error envelope on a non-200 status keeps its code and RequestId.
    let refused: fn(&Seen) -> Response = |_| {
        json(
            StatusCode::FORBIDDEN,
            r#"{"Response":{"Error":{"Code":"UnauthorizedOperation","Message":"no"},"RequestId":"r-403"}}"#,
        )
    };
    let (url, _server) = serve(vec![Box::new(refused)]).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("UnauthorizedOperation"), "{err}");
    assert_eq!(err.request_id(), Some("r-403"));
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
    assert_eq!(err.code_str(), Some("InternalError"));
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
    assert_eq!(err.code_str(), Some("FailedOperation"));
    assert_eq!(server.seen.lock().unwrap().len(), 1);

    // Attempts are bounded.
    let script = (0..5).map(|_| service_error("InternalError")).collect();
    let (url, server) = serve(script).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("InternalError"));
    assert_eq!(server.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn no_sleep_after_the_last_attempt_and_the_deadline_holds() {
    let slow = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(5),
        deadline: Duration::from_secs(60),
        ..RetryPolicy::default()
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
    let (url, server) = serve(vec![]).await;
    let err = call(&transport(&url, no_time), &Safe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Deadline { deadline, may_have_executed: false } if deadline.is_zero()),
        "{err}"
    );
    assert!(err.is_retryable() && !err.may_have_executed());
    assert_eq!(
        server.seen.lock().unwrap().len(),
        0,
        "a spent deadline sends nothing"
    );
}

/// A server that accepts connections and reads requests but never answers.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

#[tokio::test]
async fn the_deadline_bounds_a_hung_attempt_and_a_long_limiter_wait() {
    let short = |deadline_ms| RetryPolicy {
        deadline: Duration::from_millis(deadline_ms),
        ..fast_retries(3)
    };
    // The attempt's own timeout (60 s) is far away; the call's deadline is not.
    let url = black_hole().await;
    let started = Instant::now();
    let err = call(&transport(&url, short(300)), &Safe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Deadline { deadline, may_have_executed: true } if deadline == Duration::from_millis(300)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // 20 calls use the second's budget; the 21st would wait about a second.
    let (url, server) = serve(vec![]).await;
    let t = transport(&url, short(200));
    for _ in 0..20 {
        call(&t, &Limited(ping())).await.unwrap();
    }
    let started = Instant::now();
    let err = call(&t, &Limited(ping())).await.unwrap_err();
    // Refused by the limiter before anything was sent.
    assert!(
        matches!(
            err,
            Error::Deadline {
                may_have_executed: false,
                ..
            }
        ),
        "{err}"
    );
    // At once: the limiter knows its next start is past the deadline, so nobody sleeps
    // until the deadline only to fail then.
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.seen.lock().unwrap().len(),
        20,
        "the 21st was never sent"
    );
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused_whatever_content_length_says() {
    let big: fn(&Seen) -> Response = |_| {
        let body = format!(
            r#"{{"Response":{{"RequestId":"r","Pad":"{}"}}}}"#,
            "x".repeat(5000)
        );
        json_owned(StatusCode::OK, body)
    };
    let (url, _server) = serve(vec![Box::new(big)]).await;
    assert_capped(url).await;

    // A chunked answer (no Content-Length) is cut off at the cap just the same.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let _ = socket.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        let chunk = "x".repeat(1000);
        for _ in 0..100 {
            let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
            if socket.write_all(framed.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    assert_capped(url).await;
}

/// A call to `url` with a 4 KiB cap fails as too large (without retrying).
async fn assert_capped(url: String) {
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .max_response_bytes(4096)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = call(&HttpTransport::new(config).unwrap(), &Safe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 4096 }),
        "{err}"
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
    // The cause is kept as a source chain: Error -> TransportError -> the HTTP stack's.
    let err = result.unwrap_err();
    let mut chain = Vec::new();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert!(chain.len() >= 2, "{chain:?}");

    let (url, count) = hang_up().await;
    assert!(
        call(&transport(&url, fast_retries(3)), &Safe(ping()))
            .await
            .is_err()
    );
    assert_eq!(*count.lock().unwrap(), 3);
}

#[tokio::test]
async fn timeouts_are_errors_of_their_own() {
    // A server on a thread of its own that answers after 600 ms: late for a 200 ms timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut socket, _) = listener.accept().unwrap();
        let _ = socket.read(&mut [0u8; 4096]);
        std::thread::sleep(Duration::from_millis(600));
        let body = r#"{"Response":{"RequestId":"late"}}"#;
        let _ = write!(
            socket,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
    });
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = call(&HttpTransport::new(config).unwrap(), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::AttemptTimeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
    assert!(err.may_have_executed() && !err.is_retryable());
    assert!(started.elapsed() < Duration::from_millis(550));
    server.join().unwrap();
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
    // 20 at once, then 10 more a second later.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert_eq!(server.seen.lock().unwrap().len(), 30);

    // Two transports built from one Config share it too.
    let (url, server) = serve(vec![]).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url))
        .build()
        .unwrap();
    let a = HttpTransport::new(config.clone()).unwrap();
    let b = HttpTransport::new(config).unwrap();
    let started = Instant::now();
    for i in 0..30 {
        call(if i % 2 == 0 { &a } else { &b }, &Limited(ping()))
            .await
            .unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(950));
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
    assert_eq!(err.code_str(), Some("AuthFailure.SignatureExpire"));
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_absurd_server_clock_is_not_learned() {
    let far = |_: &Seen| expired(unix_now() + 10 * 86_400);
    let (url, server) = serve(vec![Box::new(far), Box::new(far)]).await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("AuthFailure.SignatureExpire"), "{err}");
    assert_eq!(
        server.seen.lock().unwrap().len(),
        1,
        "no re-signing with a clock 10 days off"
    );
}

#[tokio::test]
async fn a_connect_timeout_is_a_connect_failure_and_says_so() {
    // A listener that never accepts, its backlog filled: further SYNs are dropped, so a
    // connect hangs until its timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut filler = Vec::new();
    for _ in 0..1024 {
        let Ok(stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(50))
        else {
            break;
        };
        filler.push(stream);
    }
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(format!("http://{addr}")))
        .connect_timeout(Duration::from_millis(150))
        .timeout(Duration::from_secs(30))
        .retry(fast_retries(2))
        .build()
        .unwrap();
    let started = Instant::now();
    // Not retry-safe, yet retried: nothing was sent.
    let err = call(&HttpTransport::new(config).unwrap(), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectTimeout(d) if d == Duration::from_millis(150)),
        "{err}"
    );
    assert!(!err.may_have_executed() && err.is_retryable());
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "two attempts: {:?}",
        started.elapsed()
    );
    drop((listener, filler));
}
