//! The defects one transport must not have: a redirect followed (re-sending the signed body,
//! carrying the token elsewhere), a hung answer never retried, a non-200 error envelope
//! classified differently from a 200 one, an answer's body reachable from `Debug`; and a
//! call's own limits.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use common::*;
use ess_runtime::{
    CallOptions, Config, Endpoint, Error, HttpTransport, RetryPolicy, WithOptions, call,
};

fn redirect_to(location: String, status: StatusCode) -> Reply {
    Box::new(move |_| (status, [(header::LOCATION, location.clone())], "").into_response())
}

#[tokio::test]
async fn redirects_are_refused_and_nothing_is_sent_twice() {
    for status in [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ] {
        // Where a followed redirect would go: it must see nothing.
        let (elsewhere, elsewhere_server) = serve(vec![]).await;
        let (url, server) = serve(vec![redirect_to(elsewhere.clone(), status)]).await;
        // Retry-safe and retried on 5xx: a redirect is still not followed nor retried.
        let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
            .await
            .unwrap_err();
        let Error::Transport(t) = &err else {
            panic!("{status}: {err}")
        };
        assert_eq!(t.status, Some(status.as_u16()));
        assert!(t.message.contains("redirect"), "{t}");
        assert_eq!(server.seen.lock().unwrap().len(), 1, "{status}: sent once");
        assert!(
            elsewhere_server.seen.lock().unwrap().is_empty(),
            "{status}: the signed request and its token went to the redirect target"
        );
    }
}

#[tokio::test]
async fn an_error_envelope_is_classified_by_its_code_whatever_the_status() {
    let envelope = |status: StatusCode, code: &'static str| -> Reply {
        Box::new(move |_| {
            let body = format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-1"}}}}"#
            );
            json_owned(status, body)
        })
    };
    // InternalError on a 500: retried for a read, as on a 200.
    let (url, server) = serve(vec![envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
    )])
    .await;
    call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap();
    assert_eq!(server.seen.lock().unwrap().len(), 2);
    // ... and not for a write, which says it may have executed.
    let (url, server) = serve(vec![envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
    )])
    .await;
    let err = call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("InternalError"));
    assert_eq!(err.request_id(), Some("r-1"));
    assert!(err.may_have_executed());
    assert_eq!(server.seen.lock().unwrap().len(), 1);
    // RequestLimitExceeded on a 429 or a 403: refused before running, retried for a write.
    for status in [StatusCode::TOO_MANY_REQUESTS, StatusCode::FORBIDDEN] {
        let (url, server) = serve(vec![envelope(status, "RequestLimitExceeded")]).await;
        call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
            .await
            .unwrap();
        assert_eq!(server.seen.lock().unwrap().len(), 2, "{status}");
    }
    // A plain refusal on a 400: the service's error, not retried.
    let (url, server) = serve(vec![envelope(
        StatusCode::BAD_REQUEST,
        "ResourceNotFound.Flow",
    )])
    .await;
    let err = call(&transport(&url, fast_retries(3)), &Safe(ping()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err}");
    assert_eq!(err.code_str(), Some("ResourceNotFound.Flow"));
    assert!(!err.may_have_executed());
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_hung_answer_to_a_read_is_retried_within_the_deadline() {
    // The defaults leave room for it: an attempt ends well before the call's deadline.
    let defaults = Config::builder(credentials()).build().unwrap();
    assert!(
        defaults.attempt_timeout() * 2 < RetryPolicy::default().deadline,
        "{:?}",
        defaults.attempt_timeout()
    );
    // The first answer never comes; the second does.
    let (url, server) = serve(vec![]).await;
    let hung = black_hole_once(&url).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(hung))
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy {
            deadline: Duration::from_secs(5),
            ..fast_retries(3)
        })
        .build()
        .unwrap();
    let started = Instant::now();
    call(&HttpTransport::new(config).unwrap(), &Safe(ping()))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        server.seen.lock().unwrap().len(),
        1,
        "the second attempt answered"
    );
}

/// A port whose first connection is accepted and never answered; later connections are
/// passed to `upstream`.
async fn black_hole_once(upstream: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        let mut held = Vec::new();
        let mut first = true;
        while let Ok((mut socket, _)) = listener.accept().await {
            if std::mem::take(&mut first) {
                held.push(socket);
                continue;
            }
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut socket, &mut out).await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn nothing_of_an_answer_is_reachable_from_debug() {
    let answer: Reply = Box::new(|_| {
        json_owned(
            StatusCode::OK,
            format!(r#"{{"Response":{{"RequestId":"r","ApproverMobile":"{MOBILE}"}}}}"#),
        )
    });
    let (url, _server) = serve(vec![answer]).await;
    let t = transport(&url, RetryPolicy::none());
    call(&t, &Safe(ping())).await.unwrap();
    let debug = format!("{t:?}");
    assert!(!debug.contains(MOBILE), "{debug}");
    assert!(!debug.contains(SECRET_KEY), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

#[tokio::test]
async fn one_call_carries_its_own_deadline_and_attempt_timeout() {
    // The client's limits are short; this call's are long enough for a slow answer.
    let (url, server) = serve(vec![]).await;
    let delayed = delay_proxy(&url, Duration::from_millis(400)).await;
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(delayed))
        .timeout(Duration::from_millis(150))
        .retry(RetryPolicy {
            deadline: Duration::from_millis(200),
            ..RetryPolicy::none()
        })
        .build()
        .unwrap();
    let client = HttpTransport::new(config).unwrap();
    let err = call(&client, &Unsafe(ping())).await.unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout(_)), "{err}");
    let options = CallOptions::new()
        .deadline(Duration::from_secs(5))
        .attempt_timeout(Duration::from_secs(2));
    call(&WithOptions::new(&client, options), &Unsafe(ping()))
        .await
        .unwrap();
    // The options were that call's only: the next one has the client's limits again.
    let err = call(&client, &Unsafe(ping())).await.unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout(_)), "{err}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.seen.lock().unwrap().len(), 3);
}

/// A port that forwards each connection to `upstream`, holding every chunk of the answers
/// back for `delay` (so each answer on a kept-alive connection is late too).
async fn delay_proxy(upstream: &str, delay: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = Arc::new(upstream.trim_start_matches("http://").to_owned());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(out) = tokio::net::TcpStream::connect(upstream.as_str()).await else {
                    return;
                };
                let (mut from_client, mut to_client) = socket.into_split();
                let (mut from_server, mut to_server) = out.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                });
                let mut buffer = vec![0; 64 * 1024];
                while let Ok(n) = from_server.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    if to_client.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}
