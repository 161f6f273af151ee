//! The path production takes: https (TLS 1.3, rustls) to a local server whose certificate a
//! test CA issued, trusted the way a user adds a root (`add_root_certificates_pem`), with
//! keep-alive. Without that root the handshake fails before anything is sent.

#![cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use common::{Ca, Safe, ping};
use ess_runtime::{Config, Credentials, Endpoint, Error, HttpTransport, RetryPolicy, call};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// What the server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// `Host` and the TLS version of the last request.
    last: std::sync::Mutex<Option<(String, String)>>,
}

/// A test CA (PEM) and an https server on 127.0.0.1 with a certificate it issued.
async fn tls_server() -> (String, String, Arc<Seen>) {
    let ca = Ca::new();
    let acceptor = ca.acceptor("127.0.0.1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let server_seen = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = server_seen.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let version = format!("{:?}", tls.get_ref().1.protocol_version());
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        let version = version.clone();
                        async move {
                            let host = request.headers()["host"].to_str().unwrap_or("").to_owned();
                            let _ = request.into_body().collect().await;
                            seen.requests.fetch_add(1, Ordering::SeqCst);
                            *seen.last.lock().unwrap() = Some((host, version));
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(
                                    br#"{"Response":{"RequestId":"r-tls"}}"#,
                                )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, ca.pem, seen)
}

fn client(url: &str, ca_pem: Option<&str>) -> HttpTransport {
    let mut builder = Config::builder(Credentials::new("AKIDtls", "secret").unwrap())
        .endpoint(Endpoint::Url(url.to_owned()))
        .retry(RetryPolicy::none());
    if let Some(pem) = ca_pem {
        builder = builder.add_root_certificates_pem(pem);
    }
    HttpTransport::new(builder.build().unwrap()).unwrap()
}

#[tokio::test]
async fn https_to_a_server_of_a_root_the_user_added() {
    let (url, ca_pem, seen) = tls_server().await;
    let authority = url.trim_start_matches("https://").to_owned();

    // Not trusted: refused in the handshake, before anything was sent.
    let err = call(&client(&url, None), &Safe(ping())).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err}");
    assert!(!err.may_have_executed(), "{err}");
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0);

    // Trusted: TLS 1.3, the authority as Host, and one kept-alive connection for two calls.
    let transport = client(&url, Some(&ca_pem));
    for _ in 0..2 {
        let pong = call(&transport, &Safe(ping())).await.unwrap();
        assert_eq!(pong.request_id, "r-tls");
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1, "keep-alive");
    let (host, version) = seen.last.lock().unwrap().clone().unwrap();
    assert_eq!(host, authority);
    assert_eq!(version, "Some(TLSv1_3)");
}

#[test]
fn a_root_bundle_that_holds_no_certificate_is_refused_when_built() {
    let built = Config::builder(Credentials::new("AKIDtls", "secret").unwrap())
        .add_root_certificates_pem("not a certificate")
        .build();
    assert!(
        matches!(built, Err(ess_runtime::ConfigError::RootCertificates(_))),
        "{built:?}"
    );
}
