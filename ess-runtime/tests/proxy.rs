//! Proxies: an `https://` proxy gets TLS first, so the CONNECT and its Proxy-Authorization
//! never travel in clear text; a `socks5h://` proxy gets a SOCKS5 handshake naming the host
//! (it resolves it); credentials that would travel in clear text, and schemes the client does
//! not speak, are refused when the configuration is built, never silently dropped or sent.

#![cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

mod common;

use common::{Ca, Safe, ping};
use ess_runtime::{Config, ConfigError, Credentials, Endpoint, HttpTransport, RetryPolicy, call};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The endpoint the client is configured with: reachable only through the proxies below.
const ENDPOINT: &str = "https://ess.example.test";

/// The service behind the proxies: https with a certificate for `ess.example.test`.
async fn service(ca: &Ca) -> SocketAddr {
    let acceptor = ca.acceptor("ess.example.test");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        let _ = request.into_body().collect().await;
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(
                                br#"{"Response":{"RequestId":"r-proxied"}}"#,
                            )))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

/// Reads an HTTP head (up to the blank line) from `stream`.
async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// An `https://` proxy on 127.0.0.1: TLS, then a CONNECT whose head it records, then a
/// tunnel to `upstream` whatever host the CONNECT names. A client that speaks plain HTTP
/// to it fails the TLS handshake, and that is recorded too.
async fn https_proxy(ca: &Ca, upstream: SocketAddr) -> (u16, Arc<Mutex<Vec<String>>>) {
    let acceptor = ca.acceptor("127.0.0.1");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(stream).await {
                    Ok(tls) => tls,
                    Err(_) => {
                        seen.lock().unwrap().push("not TLS".to_owned());
                        return;
                    }
                };
                let head = read_head(&mut tls).await;
                seen.lock().unwrap().push(head);
                tls.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .unwrap();
                let mut upstream = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (port, heads)
}

/// A SOCKS5 proxy without authentication: records the host each request names and tunnels
/// to `upstream`.
async fn socks5_proxy(upstream: SocketAddr) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hosts = Arc::new(Mutex::new(Vec::new()));
    let seen = hosts.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                // Greeting: version 5, n methods; "no authentication" chosen.
                let mut greeting = [0u8; 2];
                stream.read_exact(&mut greeting).await.unwrap();
                let mut methods = vec![0u8; usize::from(greeting[1])];
                stream.read_exact(&mut methods).await.unwrap();
                stream.write_all(&[5, 0]).await.unwrap();
                // CONNECT: version, command, reserved, address type.
                let mut request = [0u8; 4];
                stream.read_exact(&mut request).await.unwrap();
                let host = match request[3] {
                    3 => {
                        let mut len = [0u8; 1];
                        stream.read_exact(&mut len).await.unwrap();
                        let mut name = vec![0u8; usize::from(len[0])];
                        stream.read_exact(&mut name).await.unwrap();
                        String::from_utf8(name).unwrap()
                    }
                    1 => {
                        let mut ip = [0u8; 4];
                        stream.read_exact(&mut ip).await.unwrap();
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    other => format!("address type {other}"),
                };
                let mut port = [0u8; 2];
                stream.read_exact(&mut port).await.unwrap();
                seen.lock()
                    .unwrap()
                    .push(format!("{host}:{}", u16::from_be_bytes(port)));
                stream
                    .write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
                    .await
                    .unwrap();
                let mut upstream = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
            });
        }
    });
    (port, hosts)
}

fn through(proxy: &str, ca: &Ca) -> Result<Config, ConfigError> {
    Config::builder(Credentials::new("AKIDproxy", "secret").unwrap())
        .endpoint(Endpoint::Url(ENDPOINT.to_owned()))
        .retry(RetryPolicy::none())
        .add_root_certificates_pem(ca.pem.clone())
        .proxy(proxy)
        .build()
}

#[tokio::test]
async fn an_https_proxy_gets_tls_before_the_connect_and_its_password() {
    let ca = Ca::new();
    let upstream = service(&ca).await;
    let (port, heads) = https_proxy(&ca, upstream).await;
    let config = through(&format!("https://alice:pa55word@127.0.0.1:{port}"), &ca).unwrap();
    let transport = HttpTransport::new(config).unwrap();
    let pong = call(&transport, &Safe(ping())).await.unwrap();
    assert_eq!(pong.request_id, "r-proxied");
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = heads[0].to_ascii_lowercase();
    assert!(head.starts_with("connect ess.example.test:443 "), "{head}");
    // base64("alice:pa55word"), inside TLS.
    assert!(
        head.contains("proxy-authorization: basic ywxpy2u6cge1nxdvcmq="),
        "{head}"
    );
}

#[tokio::test]
async fn a_socks5h_proxy_tunnels_to_the_host_it_resolves() {
    let ca = Ca::new();
    let upstream = service(&ca).await;
    let (port, hosts) = socks5_proxy(upstream).await;
    let config = through(&format!("socks5h://127.0.0.1:{port}"), &ca).unwrap();
    let transport = HttpTransport::new(config).unwrap();
    let pong = call(&transport, &Safe(ping())).await.unwrap();
    assert_eq!(pong.request_id, "r-proxied");
    assert_eq!(*hosts.lock().unwrap(), ["ess.example.test:443"]);
}

#[test]
fn credentials_in_clear_text_and_unknown_schemes_are_refused_when_built() {
    let ca = Ca::new();
    for (proxy, refused) in [
        ("http://alice:pa55word@proxy.example:3128", "clear text"),
        ("socks5h://alice:pa55word@proxy.example:1080", "clear text"),
        ("alice:pa55word@proxy.example:3128", "clear text"),
        ("socks4://proxy.example:1080", "`socks4` is not supported"),
        ("ftp://proxy.example:21", "`ftp` is not supported"),
    ] {
        let err = through(proxy, &ca).unwrap_err().to_string();
        assert!(err.contains(refused), "{proxy}: {err}");
        assert!(!err.contains("pa55word"), "{err}");
    }
    // Without credentials, or with them over TLS, or once allowed: built.
    for proxy in [
        "http://proxy.example:3128",
        "https://alice:pa55word@proxy.example:443",
        "socks5://proxy.example:1080",
    ] {
        through(proxy, &ca).unwrap();
    }
    Config::builder(Credentials::new("AKIDproxy", "secret").unwrap())
        .proxy("http://alice:pa55word@proxy.example:3128")
        .allow_cleartext_proxy_credentials(true)
        .build()
        .unwrap();
}
