//! Every wait of a call has a bound: a credential source that never answers, a refusal for the rate (which waits for the next window,
//! or what `Retry-After` asks, but never past the deadline), and a deadline of
//! `Duration::MAX` (no limit), which must not overflow.

mod common;

use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use common::*;
use ess_runtime::{
    CallOptions, Config, Credentials, CredentialsError, Endpoint, Error, HttpTransport,
    RefreshingCredentials, RetryPolicy, WithOptions, call,
};

fn policy(deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        deadline,
        ..fast_retries(3)
    }
}

#[tokio::test]
async fn a_credential_source_that_never_answers_ends_at_the_deadline() {
    let (url, server) = serve(vec![]).await;
    let hanging = RefreshingCredentials::new(|| async {
        std::future::pending::<Result<Credentials, CredentialsError>>().await
    });
    let config = Config::builder(hanging)
        .endpoint(Endpoint::Url(url))
        .retry(policy(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = call(&HttpTransport::new(config).unwrap(), &Safe(ping()))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Deadline { .. }), "{err}");
    assert!(!err.may_have_executed());
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert!(server.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_deadline_without_limit_does_not_overflow() {
    let (url, _server) = serve(vec![service_error("InternalError")]).await;
    let transport = transport(&url, fast_retries(2));
    let unlimited = CallOptions::new()
        .deadline(Duration::MAX)
        .attempt_timeout(Duration::MAX);
    let pong = call(&WithOptions::new(&transport, unlimited), &Safe(ping()))
        .await
        .unwrap();
    assert_eq!(pong.request_id, "r-ok");
}

fn throttled(retry_after: Option<&'static str>) -> Reply {
    Box::new(move |_| {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain")],
            "slow down",
        )
            .into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.parse().unwrap());
        }
        response
    })
}

#[tokio::test]
async fn a_refusal_for_the_rate_is_retried_in_the_next_window_or_when_asked() {
    // RequestLimitExceeded: the retry waits at least a window (1 s), not milliseconds.
    let (url, server) = serve(vec![service_error("RequestLimitExceeded")]).await;
    let started = Instant::now();
    call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen.lock().unwrap().len(), 2);

    // A 429 with Retry-After: 2 waits two seconds.
    let (url, server) = serve(vec![throttled(Some("2"))]).await;
    let started = Instant::now();
    call(&transport(&url, fast_retries(3)), &Unsafe(ping()))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen.lock().unwrap().len(), 2);

    // A wait past the deadline is not slept: the refusal comes back at once.
    let (url, server) = serve(vec![throttled(Some("30"))]).await;
    let started = Instant::now();
    let err = call(
        &transport(&url, policy(Duration::from_secs(5))),
        &Unsafe(ping()),
    )
    .await
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_retryable() && !err.may_have_executed(), "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_drained_retry_budget_stops_retries_until_calls_succeed_again() {
    let failing = (0..100).map(|_| service_error("InternalError")).collect();
    let (url, server) = serve(failing).await;
    // Room for four retries (5 tokens each).
    let transport = transport(
        &url,
        RetryPolicy {
            budget: 20,
            ..fast_retries(3)
        },
    );
    for _ in 0..10 {
        let err = call(&transport, &Safe(ping())).await.unwrap_err();
        assert_eq!(err.code_str(), Some("InternalError"));
    }
    // Ten first attempts and the four retries the budget allowed (not twenty).
    assert_eq!(server.seen.lock().unwrap().len(), 14);
    // Clones share it: still no retry.
    let clone = transport.clone();
    call(&clone, &Safe(ping())).await.unwrap_err();
    assert_eq!(server.seen.lock().unwrap().len(), 15);
    // Successes refill it, one token each: five of them pay for the next retry.
    server.script.lock().unwrap().clear();
    for _ in 0..5 {
        call(&transport, &Safe(ping())).await.unwrap();
    }
    server
        .script
        .lock()
        .unwrap()
        .extend([service_error("InternalError")]);
    let before = server.seen.lock().unwrap().len();
    call(&transport, &Safe(ping())).await.unwrap();
    assert_eq!(
        server.seen.lock().unwrap().len(),
        before + 2,
        "retried once"
    );
}
