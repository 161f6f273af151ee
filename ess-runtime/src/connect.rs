//! Connections for the transport: TCP to the endpoint, or through the proxy the environment
//! names (a CONNECT tunnel for https), then rustls for https, all within the connect timeout.
//! hyper-util pools what this opens and hyper frames HTTP/1.1 over it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use http::uri::Scheme;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::config::{Config, is_loopback};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// The proxies the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`;
/// the system settings on macOS and Windows), read once. Loopback never goes through one:
/// a proxy elsewhere cannot reach this machine's emulator.
pub(crate) struct Proxies(Matcher);

impl Proxies {
    /// The proxy `ConfigBuilder::proxy` set (with the environment's `NO_PROXY`), or the
    /// environment's and the system's.
    pub(crate) fn of(config: &Config) -> Self {
        match &config.proxy {
            Some(url) => {
                let no_proxy = ["NO_PROXY", "no_proxy"]
                    .iter()
                    .find_map(|name| std::env::var(name).ok())
                    .unwrap_or_default();
                Proxies(Matcher::builder().all(url.clone()).no(no_proxy).build())
            }
            None => Proxies(Matcher::from_system()),
        }
    }

    /// No proxy at all.
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Proxies(Matcher::builder().build())
    }

    /// The proxy for requests to `uri`, if any.
    pub(crate) fn for_uri(&self, uri: &Uri) -> Option<Intercept> {
        if uri.host().is_none_or(is_loopback) {
            return None;
        }
        self.0.intercept(uri)
    }
}

impl std::fmt::Debug for Proxies {
    // A proxy URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proxies(..)")
    }
}

/// Opens connections: straight to the endpoint; through an http(s) proxy, a CONNECT tunnel
/// for https (TLS to the proxy first when it is an `https://` one), or the proxy itself for
/// plain http (whose requests then carry the absolute URL, as proxies expect); or through a
/// SOCKS5 proxy's tunnel. Proxy credentials go only where they travel encrypted, unless the
/// configuration allows clear text.
#[derive(Clone)]
pub(crate) struct Dialer {
    tcp: HttpConnector,
    /// TLS to an `https://` proxy; `None` without a TLS backend.
    to_proxy: Option<HttpsConnector<HttpConnector>>,
    proxies: Arc<Proxies>,
    cleartext_proxy_auth: bool,
}

/// A connection to an endpoint or a proxy: plain TCP, or TLS to an `https://` proxy.
type Io = MaybeHttpsStream<TokioIo<TcpStream>>;

/// A proxy the dialer will not use: its scheme is not one it speaks safely, or its
/// credentials would travel in clear text.
#[derive(Debug, thiserror::Error)]
#[error("the proxy for this endpoint cannot be used: {0}")]
pub(crate) struct RefusedProxy(&'static str);

impl Service<Uri> for Dialer {
    type Response = Stream;
    type Error = BoxError;
    type Future = Connecting<Stream>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        let to_proxy = self.to_proxy.clone();
        let proxy = self.proxies.for_uri(&dst);
        let cleartext_auth = self.cleartext_proxy_auth;
        Box::pin(async move {
            let Some(proxy) = proxy else {
                return Ok(Stream {
                    io: MaybeHttpsStream::Http(tcp.call(dst).await?),
                    proxied: false,
                });
            };
            let https_endpoint = dst.scheme() == Some(&Scheme::HTTPS);
            let auth = proxy.basic_auth().cloned();
            // The same rule as `Config::build`'s, for proxies it could not see (the system
            // settings on macOS and Windows): credentials only inside TLS, unless allowed.
            let has_credentials = auth.is_some() || proxy.raw_auth().is_some();
            if has_credentials && proxy.uri().scheme_str() != Some("https") && !cleartext_auth {
                return Err(RefusedProxy(
                    "its credentials would travel in clear text (use an https:// proxy)",
                )
                .into());
            }
            let (io, proxied) = match proxy.uri().scheme_str() {
                Some("https") => {
                    let mut to_proxy =
                        to_proxy.ok_or(RefusedProxy("this build has no TLS backend"))?;
                    if https_endpoint {
                        let mut tunnel = Tunnel::new(proxy.uri().clone(), to_proxy);
                        if let Some(auth) = auth {
                            tunnel = tunnel.with_auth(auth);
                        }
                        (tunnel.call(dst).await?, false)
                    } else {
                        // Absolute-URL requests over TLS to the proxy (their
                        // Proxy-Authorization comes with each request).
                        (to_proxy.call(proxy.uri().clone()).await?, true)
                    }
                }
                Some("http") => {
                    if https_endpoint {
                        let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
                        if let Some(auth) = auth {
                            tunnel = tunnel.with_auth(auth);
                        }
                        (MaybeHttpsStream::Http(tunnel.call(dst).await?), false)
                    } else {
                        (
                            MaybeHttpsStream::Http(tcp.call(proxy.uri().clone()).await?),
                            true,
                        )
                    }
                }
                Some(scheme @ ("socks5" | "socks5h")) => {
                    let mut socks = SocksV5::new(proxy.uri().clone(), tcp)
                        // socks5h: the proxy resolves names (no DNS leak); socks5: we do.
                        .local_dns(scheme == "socks5");
                    if let Some((user, password)) = proxy.raw_auth() {
                        socks = socks.with_auth(user.to_owned(), password.to_owned());
                    }
                    (MaybeHttpsStream::Http(socks.call(dst).await?), false)
                }
                _ => {
                    return Err(
                        RefusedProxy("its scheme is not http, https, socks5 or socks5h").into(),
                    );
                }
            };
            Ok(Stream { io, proxied })
        })
    }
}

/// A connection, and whether it goes to a proxy that takes absolute URLs.
pub(crate) struct Stream {
    io: Io,
    proxied: bool,
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        let connected = match &self.io {
            MaybeHttpsStream::Http(tcp) => tcp.connected(),
            MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().connected(),
        };
        connected.proxy(self.proxied)
    }
}

impl Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The connect timeout passed before a connection (and its TLS handshake) was ready.
#[derive(Debug, thiserror::Error)]
#[error("no connection within the connect timeout")]
pub(crate) struct ConnectTimedOut;

/// What the pooled client calls for a new connection: the [`Dialer`], then TLS for https,
/// within the connect timeout.
#[derive(Clone)]
pub(crate) struct Connector {
    dialer: Dialer,
    /// `None` in a build without a TLS backend (which refuses https endpoints when built).
    tls: Option<HttpsConnector<Dialer>>,
    timeout: Duration,
}

impl Connector {
    pub(crate) fn new(config: &Config) -> Result<Connector, BoxError> {
        let mut tcp = HttpConnector::new();
        // The Dialer picks the scheme's handling; https goes through TLS after it.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let tls_config = tls_config(config)?;
        let to_proxy = tls_config.clone().map(|tls| {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_only()
                .enable_http1()
                .wrap_connector(tcp.clone())
        });
        let dialer = Dialer {
            tcp,
            to_proxy,
            proxies: Arc::new(Proxies::of(config)),
            cleartext_proxy_auth: config.cleartext_proxy_auth,
        };
        let tls = tls_config.map(|tls| {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_only()
                .enable_http1()
                .wrap_connector(dialer.clone())
        });
        Ok(Connector {
            dialer,
            tls,
            timeout: config.connect_timeout,
        })
    }

    /// The proxies it connects through.
    pub(crate) fn proxies(&self) -> Arc<Proxies> {
        self.dialer.proxies.clone()
    }
}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<Stream>;
    type Error = BoxError;
    type Future = Connecting<MaybeHttpsStream<Stream>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting: Connecting<MaybeHttpsStream<Stream>> =
            match (&mut self.tls, dst.scheme() == Some(&Scheme::HTTPS)) {
                (Some(tls), true) => tls.call(dst),
                (None, true) => Box::pin(async { Err("this build has no TLS backend".into()) }),
                (_, false) => {
                    let dialing = self.dialer.call(dst);
                    Box::pin(async move { Ok(MaybeHttpsStream::Http(dialing.await?)) })
                }
            };
        let timeout = self.timeout;
        Box::pin(async move {
            tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| Box::new(ConnectTimedOut) as BoxError)?
        })
    }
}

/// The TLS client configuration of the crate's features: the chosen crypto provider, the
/// platform's verifier (or Mozilla's roots with `webpki-roots`) and the configured extra
/// roots. `None` without a TLS backend.
#[cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]
fn tls_config(config: &Config) -> Result<Option<rustls::ClientConfig>, BoxError> {
    #[cfg(feature = "rustls-aws-lc-rs")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "rustls-aws-lc-rs"))]
    let provider = rustls::crypto::ring::default_provider();
    let provider = Arc::new(provider);
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    #[cfg(feature = "webpki-roots")]
    let tls = {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        for root in &config.root_certificates {
            roots.add(root.clone())?;
        }
        builder.with_root_certificates(roots)
    };
    #[cfg(not(feature = "webpki-roots"))]
    let tls = {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            config.root_certificates.iter().cloned(),
            provider,
        )?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    };
    Ok(Some(tls.with_no_client_auth()))
}

#[cfg(not(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring")))]
fn tls_config(_: &Config) -> Result<Option<rustls::ClientConfig>, BoxError> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_never_goes_through_a_proxy() {
        let proxies = Proxies(
            Matcher::builder()
                .all("http://proxy.example:3128".to_owned())
                .build(),
        );
        for local in [
            "http://127.0.0.1:8080/",
            "https://localhost/",
            "http://[::1]:1/",
        ] {
            assert!(
                proxies.for_uri(&local.parse().unwrap()).is_none(),
                "{local}"
            );
        }
        let remote = proxies
            .for_uri(&"https://ess.tencentcloudapi.com/".parse().unwrap())
            .expect("a remote host goes through the proxy");
        assert_eq!(remote.uri(), "http://proxy.example:3128/");
    }
}
