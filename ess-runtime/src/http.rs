//! The HTTP transport: signs each attempt (TC3), sends it with a pooled keep-alive reqwest
//! client, rate-limits per action, retries what is worth retrying, and recovers once from
//! clock skew using the server's `Date`. Cloning shares the pool, the limiter and the key cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HOST, HeaderMap, HeaderValue};
use tracing::Instrument;

use crate::action::{CallInfo, Transport};
use crate::config::Config;
use crate::error::{Error, TransportError};
use crate::rate_limit::RateLimiter;
use crate::retry::{Failure, is_retryable};
use crate::signer::{self, Signer};

const JSON: &str = "application/json";

/// Sends signed requests over HTTP(S). Build it from a [`Config`].
#[derive(Clone, Debug)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    http: reqwest::Client,
    signer: Signer,
    limiter: RateLimiter,
    /// Server time minus local time, in seconds, learned from a `SignatureExpire` answer.
    clock_offset: AtomicI64,
}

/// Just enough of `{"Response": {"Error": {"Code": ..}, "RequestId": ..}}` to classify an
/// answer. Lenient: a member of an unexpected type is left for `decode` to report.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "Response")]
    response: ProbeResponse,
}

#[derive(serde::Deserialize)]
struct ProbeResponse {
    #[serde(rename = "Error", default)]
    error: Option<serde_json::Value>,
    #[serde(rename = "RequestId", default)]
    request_id: Option<serde_json::Value>,
}

/// The outcome of one attempt.
enum Attempt {
    /// An API response (success or service error): the body, and the server's `Date`.
    Answer {
        body: Vec<u8>,
        code: Option<String>,
        date: Option<SystemTime>,
    },
    /// Anything else.
    Failed { error: Error, failure: FailureKind },
}

enum FailureKind {
    Connect,
    Network,
    Status(u16),
    Fatal,
}

impl HttpTransport {
    /// A transport for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = match &config.http {
            Some(client) => client.clone(),
            None => reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .timeout(config.timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| {
                    Error::Transport(TransportError::new(format!(
                        "cannot build the HTTP client: {e}"
                    )))
                })?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                signer: Signer::new(),
                limiter: RateLimiter::new(),
                clock_offset: AtomicI64::new(0),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn now(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        local + self.inner.clock_offset.load(Ordering::Relaxed)
    }

    async fn attempt(&self, info: &CallInfo, url: &str, host: &str, body: &Bytes) -> Attempt {
        let config = &self.inner.config;
        let credentials = &config.credentials;
        let timestamp = self.now();
        let authorization = self.inner.signer.authorization(
            credentials.secret_id(),
            credentials.secret_key().expose(),
            &signer::Request {
                service: info.service,
                host,
                content_type: JSON,
                payload: body,
                timestamp,
            },
        );
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        put("x-tc-action", info.action);
        put("x-tc-version", info.version);
        put("x-tc-timestamp", &timestamp.to_string());
        put("x-tc-language", config.language.as_str());
        put("x-tc-requestclient", &config.request_client);
        if let Some(region) = &config.region {
            put("x-tc-region", region);
        }
        if let Some(token) = credentials.token() {
            let mut value =
                HeaderValue::from_str(token.expose()).unwrap_or(HeaderValue::from_static(""));
            value.set_sensitive(true);
            headers.insert("x-tc-token", value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        if let Ok(value) = HeaderValue::from_str(host) {
            headers.insert(HOST, value);
        }
        if let Ok(mut value) = HeaderValue::from_str(&authorization) {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let response = match self
            .inner
            .http
            .post(url)
            .headers(headers)
            .body(body.clone())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return failed_request(&e, config.timeout),
        };
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get(DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok());
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return failed_request(&e, config.timeout),
        };
        if status != 200 {
            return bad_answer(
                status,
                "unexpected HTTP status",
                &body,
                FailureKind::Status(status),
            );
        }
        // The envelope is checked here (any Content-Type) so service errors can drive retries;
        // the probe skips everything but the error code and RequestId without building a tree.
        let Ok(Probe { response }) = serde_json::from_slice::<Probe>(&body) else {
            return bad_answer(
                status,
                "the body is not an API response",
                &body,
                FailureKind::Fatal,
            );
        };
        if let Some(id) = response.request_id.as_ref().and_then(|v| v.as_str()) {
            tracing::Span::current().record("request_id", id);
        }
        let code = response.error.map(|e| {
            e.get("Code")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_owned()
        });
        Attempt::Answer { body, code, date }
    }
}

/// An answer that is not a usable API response: a transport error keeping a body excerpt.
fn bad_answer(status: u16, message: &str, body: &[u8], failure: FailureKind) -> Attempt {
    let error = Error::Transport(TransportError::with_response(status, message, body));
    Attempt::Failed { error, failure }
}

fn failed_request(error: &reqwest::Error, timeout: Duration) -> Attempt {
    if error.is_timeout() {
        return Attempt::Failed {
            error: Error::Timeout(timeout),
            failure: FailureKind::Network,
        };
    }
    let failure = if error.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Network
    };
    // reqwest's errors name the URL and the cause, never headers or bodies.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let error = Error::Transport(TransportError::new(message));
    Attempt::Failed { error, failure }
}

/// The URL authority as it goes in `Host` (`127.0.0.1:8080`; no port when it is the default).
fn authority(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

impl Transport for HttpTransport {
    async fn send(&self, info: &CallInfo, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let config = &self.inner.config;
        let url = config.endpoint.base_url(info.endpoint);
        let parsed = reqwest::Url::parse(&url).map_err(|e| {
            Error::Transport(TransportError::new(format!("bad endpoint `{url}`: {e}")))
        })?;
        let host = authority(&parsed).ok_or_else(|| {
            Error::Transport(TransportError::new(format!("endpoint `{url}` has no host")))
        })?;
        let url = format!("{}/", url.trim_end_matches('/'));
        // Shared by every attempt without copying.
        let body = Bytes::from(body);
        let span = tracing::info_span!(
            "ess.call",
            action = info.action,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        async {
            let started = Instant::now();
            let policy = &config.retry;
            let mut attempt = 0u32;
            let mut resigned = false;
            loop {
                if config.rate_limit
                    && let Some(limit) = info.rate_limit
                {
                    self.inner.limiter.acquire(info.action, limit).await;
                }
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                let sent = Instant::now();
                let outcome = self.attempt(info, &url, &host, &body).await;
                let latency_ms = sent.elapsed().as_millis() as u64;
                // A retryable outcome: what to return if no attempt is left.
                let last = match outcome {
                    Attempt::Answer {
                        body: answer,
                        code: None,
                        ..
                    } => {
                        tracing::debug!(latency_ms, "ok");
                        return Ok(answer);
                    }
                    Attempt::Answer {
                        body: answer,
                        code: Some(code),
                        date,
                    } => {
                        tracing::debug!(latency_ms, code = %code, "service error");
                        if code == "AuthFailure.SignatureExpire"
                            && !resigned
                            && let Some(server) = date
                        {
                            resigned = true;
                            let server = server
                                .duration_since(UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs() as i64);
                            let local = SystemTime::now()
                                .duration_since(UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs() as i64);
                            self.inner
                                .clock_offset
                                .store(server - local, Ordering::Relaxed);
                            tracing::info!(
                                offset_s = server - local,
                                "clock skew: re-signing with the server's time"
                            );
                            attempt -= 1;
                            continue;
                        }
                        if !is_retryable(Failure::Service(&code), info.retry_safe) {
                            return Ok(answer);
                        }
                        Ok(answer)
                    }
                    Attempt::Failed { error, failure } => {
                        tracing::debug!(latency_ms, error = %error, "attempt failed");
                        let failure = match failure {
                            FailureKind::Connect => Failure::Connect,
                            FailureKind::Network => Failure::Network,
                            FailureKind::Status(s) => Failure::Status(s),
                            FailureKind::Fatal => return Err(error),
                        };
                        if !is_retryable(failure, info.retry_safe) {
                            return Err(error);
                        }
                        Err(error)
                    }
                };
                if attempt >= policy.max_attempts {
                    return last;
                }
                let backoff = policy.backoff(attempt);
                if started.elapsed() + backoff >= policy.deadline {
                    return last;
                }
                tokio::time::sleep(backoff).await;
            }
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_the_rfc_authority() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(
            authority(&url("http://127.0.0.1:8080")).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            authority(&url("https://ess.tencentcloudapi.com")).as_deref(),
            Some("ess.tencentcloudapi.com")
        );
        assert_eq!(
            authority(&url("https://ess.tencentcloudapi.com:443/")).as_deref(),
            Some("ess.tencentcloudapi.com")
        );
    }
}
