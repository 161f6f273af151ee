//! The limiter is a choice of the configuration: every attempt of a rate-limited action asks
//! the configured one for its start, keyed by the action and a hash of the SecretId (never
//! the SecretId); a limiter that cannot decide fails the call before anything is sent.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ess_runtime::{
    Acquire, Config, Endpoint, Error, HttpTransport, LimitKey, Limiter, LimiterError, call,
};

/// Records what it is asked; refuses from the `fail_from`-th request on.
#[derive(Debug, Default)]
struct Recording {
    asked: Mutex<Vec<(String, &'static str, u32)>>,
    fail_from: usize,
}

impl Limiter for Recording {
    fn acquire<'a>(
        &'a self,
        key: LimitKey<'a>,
        per_second: u32,
        _deadline: tokio::time::Instant,
    ) -> Acquire<'a> {
        let mut asked = self.asked.lock().unwrap();
        asked.push((key.account.to_owned(), key.action, per_second));
        let refuse = asked.len() >= self.fail_from;
        Box::pin(async move {
            if refuse {
                Err(LimiterError::Unavailable(
                    "the store is unreachable".to_owned(),
                ))
            } else {
                Ok(())
            }
        })
    }
}

fn with_limiter(url: &str, limiter: Arc<Recording>) -> HttpTransport {
    let config = Config::builder(credentials())
        .endpoint(Endpoint::Url(url.to_owned()))
        .rate_limiter(limiter)
        .build()
        .unwrap();
    HttpTransport::new(config).unwrap()
}

#[tokio::test]
async fn each_call_asks_the_configured_limiter_by_action_and_account_hash() {
    let (url, server) = serve(vec![]).await;
    let limiter = Arc::new(Recording {
        fail_from: 3,
        ..Recording::default()
    });
    let transport = with_limiter(&url, limiter.clone());
    call(&transport, &Limited(ping())).await.unwrap();
    // An action without a documented limit does not ask.
    call(&transport, &Safe(ping())).await.unwrap();
    call(&transport, &Limited(ping())).await.unwrap();
    let asked = limiter.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2);
    let (account, action, per_second) = &asked[0];
    assert_eq!((*action, *per_second), ("CreateFlowSignUrl", 20));
    // SHA-256 of the SecretId, hex: the SecretId itself never reaches a limiter.
    assert_eq!(account.len(), 64);
    assert!(!account.contains("AKIDtest"));
    assert_eq!(asked[1].0, *account, "one key, one account");
    // A limiter that cannot decide fails the call before anything is sent.
    let sent = server.seen.lock().unwrap().len();
    let err = call(&transport, &Limited(ping())).await.unwrap_err();
    assert!(matches!(err, Error::RateLimiter(_)), "{err}");
    assert!(!err.may_have_executed());
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), sent);
}

#[tokio::test]
async fn a_named_account_is_what_limits_count_for_whatever_key_signs() {
    let (url, _server) = serve(vec![]).await;
    let limiter = Arc::new(Recording {
        fail_from: usize::MAX,
        ..Recording::default()
    });
    // Two keys of one account (temporary keys differ per process and per refresh).
    for secret_id in ["AKIDfirst", "AKIDsecond"] {
        let config = Config::builder(ess_runtime::Credentials::new(secret_id, SECRET_KEY).unwrap())
            .endpoint(Endpoint::Url(url.clone()))
            .rate_limiter(limiter.clone())
            .rate_limit_account("100012345678")
            .build()
            .unwrap();
        call(&HttpTransport::new(config).unwrap(), &Limited(ping()))
            .await
            .unwrap();
    }
    let asked = limiter.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].0, asked[1].0, "one account, one budget");
    assert_eq!(asked[0].0.len(), 64);
    assert!(
        !asked[0].0.contains("100012345678"),
        "only a hash of the name"
    );
}
