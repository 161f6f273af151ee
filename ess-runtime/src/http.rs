//! The HTTP transport: signs each attempt (TC3), sends it through one reqwest client (rustls,
//! pooled keep-alive HTTP/1.1, no redirects), rate-limits per action, retries only what
//! cannot run a write twice, and recovers once from clock skew using the server's `Date`.
//! One deadline bounds the whole call. Cloning shares the pool, the limiter and the key cache.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, DATE, HOST, HeaderMap, HeaderName, HeaderValue,
};
use tokio::time::Instant;
use tracing::Instrument;

use crate::action::{CallInfo, EndpointHosts, Probe, Transport, may_hold_error};
use crate::config::{Config, Endpoint, is_header_value};
use crate::error::{Error, TransportError, is_refusal};
use crate::rate_limit::RateLimiter;
use crate::retry::{Failure, is_retryable};
use crate::signer::{self, Signer};

const JSON: &str = "application/json";

/// The largest clock offset learned from a server's `Date`: beyond it, the answer is more
/// likely wrong than the local clock.
const MAX_CLOCK_OFFSET_SECONDS: i64 = 86_400;
/// How long a learned offset is used before calls try the local clock again.
const CLOCK_OFFSET_LIFETIME: Duration = Duration::from_secs(600);

/// Sends signed requests over HTTP(S). Build it from a [`Config`].
#[derive(Clone, Debug)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    /// Every request goes through it: the application's, or one built from `config`.
    client: reqwest::Client,
    signer: Signer,
    limiter: RateLimiter,
    /// Where each endpoint group's requests go.
    targets: Targets,
    /// Server time minus local time, in seconds, learned from a `SignatureExpire` answer,
    /// and when it was learned.
    clock_offset: Mutex<Option<(i64, Instant)>>,
}

/// Where requests go: one target for a base URL, or a target per host for the production
/// and test hosts, which each call names (its action's endpoint group, from the spec).
#[derive(Debug)]
enum Targets {
    /// `Endpoint::Url`: every group goes to the one URL.
    Fixed(Target),
    /// `Endpoint::Production` or `Endpoint::Test`: https to each group's host, with each
    /// host's target worked out when a call first names it.
    ByHost {
        made: RwLock<Vec<(&'static str, Arc<Target>)>>,
    },
}

/// A target borrowed from [`Targets::Fixed`] or shared from [`Targets::ByHost`].
enum TargetRef<'a> {
    Borrowed(&'a Target),
    Shared(Arc<Target>),
}

impl std::ops::Deref for TargetRef<'_> {
    type Target = Target;

    fn deref(&self) -> &Target {
        match self {
            TargetRef::Borrowed(target) => target,
            TargetRef::Shared(target) => target,
        }
    }
}

impl Targets {
    fn new(config: &Config) -> Result<Targets, Error> {
        Ok(match &config.endpoint {
            Endpoint::Url(url) => Targets::Fixed(Target::new(url)?),
            Endpoint::Production | Endpoint::Test => Targets::ByHost {
                made: RwLock::new(Vec::new()),
            },
        })
    }

    /// The target of `hosts` (the call's endpoint group) under `config`'s endpoint.
    fn get(&self, config: &Config, hosts: &EndpointHosts) -> Result<TargetRef<'_>, Error> {
        let made = match self {
            Targets::Fixed(target) => return Ok(TargetRef::Borrowed(target)),
            Targets::ByHost { made } => made,
        };
        let host = match config.endpoint {
            Endpoint::Test => hosts.test,
            _ => hosts.production,
        };
        let find = |made: &[(&'static str, Arc<Target>)]| {
            made.iter()
                .find(|(h, _)| *h == host)
                .map(|(_, target)| TargetRef::Shared(target.clone()))
        };
        if let Some(target) = find(&made.read().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(target);
        }
        let mut made = made.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(target) = find(&made) {
            return Ok(target);
        }
        let target = Arc::new(Target::new(&config.endpoint.base_url(hosts))?);
        made.push((host, target.clone()));
        Ok(TargetRef::Shared(target))
    }
}

/// Where one endpoint group's requests go.
#[derive(Debug)]
struct Target {
    url: reqwest::Url,
    /// The `Host` header: the URL's authority.
    host: String,
}

impl Target {
    /// The target for `base`.
    fn new(base: &str) -> Result<Target, Error> {
        let bad =
            |problem: &str| TransportError::new(format!("endpoint `{base}`: {problem}")).not_sent();
        let url = reqwest::Url::parse(&format!("{}/", base.trim_end_matches('/')))
            .map_err(|e| Error::Transport(bad("not a URL").with_source(e)))?;
        let host = authority(&url).ok_or_else(|| Error::Transport(bad("no host")))?;
        if !is_header_value(&host) {
            return Err(Error::Transport(bad("unusable host")));
        }
        Ok(Target { url, host })
    }
}

/// How long an unused connection stays in the pool: shorter than the keep-alive of the
/// servers and load balancers in front of APIs (60 s for most cloud load balancers, 75 s for
/// nginx), so the client, not the server, closes an idle connection, and a request is not
/// written into one the server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The most idle connections kept per host (32 calls in flight need 32).
const POOL_MAX_IDLE_PER_HOST: usize = 64;

/// The reqwest client for `config`: its TLS backend and roots, no redirects (a redirect
/// would carry the signed body and the token to another URL), HTTP/1.1 keep-alive.
fn reqwest_client(config: &Config) -> Result<reqwest::Client, Error> {
    let builder = tls(reqwest::Client::builder(), config)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .http1_only();
    builder.build().map_err(|e| {
        Error::Transport(
            TransportError::new("cannot build the HTTP client")
                .not_sent()
                .with_source(e),
        )
    })
}

/// Header names, parsed once.
mod names {
    use reqwest::header::HeaderName;

    pub(super) static ACTION: HeaderName = HeaderName::from_static("x-tc-action");
    pub(super) static VERSION: HeaderName = HeaderName::from_static("x-tc-version");
    pub(super) static TIMESTAMP: HeaderName = HeaderName::from_static("x-tc-timestamp");
    pub(super) static LANGUAGE: HeaderName = HeaderName::from_static("x-tc-language");
    pub(super) static REQUEST_CLIENT: HeaderName = HeaderName::from_static("x-tc-requestclient");
    pub(super) static REGION: HeaderName = HeaderName::from_static("x-tc-region");
    pub(super) static TOKEN: HeaderName = HeaderName::from_static("x-tc-token");
}

/// The outcome of one attempt.
enum Attempt {
    /// An API envelope: the body, the error code if it is an error, the server's `Date`.
    Answer {
        body: Vec<u8>,
        code: Option<String>,
        /// The raw `Date` header, parsed only when needed (clock skew).
        date: Option<String>,
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
        let targets = Targets::new(&config)?;
        let client = match &config.http {
            Some(client) => client.clone(),
            None => reqwest_client(&config)?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                targets,
                signer: Signer::new(),
                limiter: config.limiter.clone(),
                clock_offset: Mutex::new(None),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The offset in force (dropped once it has served its lifetime).
    fn clock_offset(&self) -> i64 {
        let mut offset = self
            .inner
            .clock_offset
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match *offset {
            Some((seconds, learned)) if learned.elapsed() < CLOCK_OFFSET_LIFETIME => seconds,
            Some(_) => {
                *offset = None;
                0
            }
            None => 0,
        }
    }

    /// Learns `server - local` from an authenticated `SignatureExpire` answer; refuses an
    /// absurd one.
    fn learn_clock_offset(&self, server: SystemTime) -> bool {
        let offset = unix(server) - unix(SystemTime::now());
        if offset.abs() > MAX_CLOCK_OFFSET_SECONDS {
            tracing::warn!(offset_s = offset, "ignoring an implausible server clock");
            return false;
        }
        *self
            .inner
            .clock_offset
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((offset, Instant::now()));
        tracing::info!(
            offset_s = offset,
            "clock skew: re-signing with the server's time"
        );
        true
    }

    async fn attempt(
        &self,
        info: &CallInfo,
        target: &Target,
        body: &Bytes,
        traced: bool,
    ) -> Attempt {
        let config = &self.inner.config;
        // Asked per attempt, so rotated keys take effect without rebuilding the client.
        let credentials = match config.credentials.credentials().await {
            Ok(credentials) => credentials,
            Err(e) => {
                return Attempt::Failed {
                    error: Error::Credentials(e),
                    failure: FailureKind::Fatal,
                };
            }
        };
        let timestamp = unix(SystemTime::now()) + self.clock_offset();
        let authorization = self.inner.signer.authorization(
            credentials.secret_id(),
            credentials.secret_key().expose(),
            &signer::Request {
                service: info.service,
                host: &target.host,
                content_type: JSON,
                payload: body,
                timestamp,
            },
        );
        let mut timestamp_text = itoa::Buffer::new();
        let headers = Headers {
            info,
            config,
            host: &target.host,
            timestamp: timestamp_text.format(timestamp),
            authorization: &authorization,
            token: credentials.token().map(|t| t.expose()),
        };
        if let Err(error) = headers.check() {
            return Attempt::Failed {
                error,
                failure: FailureKind::Fatal,
            };
        }
        let Answer { status, date, body } =
            match send_once(&self.inner.client, target, &headers, body, config).await {
                Ok(answer) => answer,
                Err(failed) => return failed,
            };
        // A plain success that nobody traces needs no probe: `decode` reads it once, and
        // refuses it there if it is no API answer or lacks its RequestId.
        if status == 200 && !traced && !may_hold_error(&body) {
            return Attempt::Answer {
                body,
                code: None,
                date,
            };
        }
        let probe = serde_json::from_slice::<Probe>(&body).ok();
        let request_id = probe.as_ref().and_then(|p| p.response.request_id());
        if let Some(id) = request_id {
            tracing::Span::current().record("request_id", id);
        }
        let code = probe.as_ref().and_then(|p| p.response.error_code());
        if (300..400).contains(&status) {
            // Never followed: the signed body and the token would go to another URL.
            return bad_answer(
                status,
                "the server answered with a redirect, which is not followed (it would carry the signed request elsewhere)",
                &body,
                FailureKind::Fatal,
            );
        }
        if status != 200 {
            // An error envelope on any status is the service's answer, classified by its
            // code exactly as on a 200 (a 429 without one is refused before running).
            if let (Some(_), Some(code)) = (&probe, code) {
                return Attempt::Answer {
                    body,
                    code: Some(code),
                    date,
                };
            }
            return bad_answer(
                status,
                "unexpected HTTP status",
                &body,
                FailureKind::Status(status),
            );
        }
        match (&probe, request_id) {
            (None, _) => bad_answer(
                status,
                "the body is not an API response",
                &body,
                FailureKind::Fatal,
            ),
            (Some(_), None) => bad_answer(
                status,
                "the answer has no RequestId",
                &body,
                FailureKind::Fatal,
            ),
            (Some(_), Some(_)) => Attempt::Answer { body, code, date },
        }
    }
}

/// The headers of one attempt.
struct Headers<'a> {
    info: &'a CallInfo,
    /// Its language, request client and region were checked by `Config::build`.
    config: &'a Config,
    host: &'a str,
    timestamp: &'a str,
    authorization: &'a str,
    token: Option<&'a str>,
}

impl Headers<'_> {
    /// Calls `f` with each header's name, value and whether it is a secret.
    fn each(&self, mut f: impl FnMut(&HeaderName, &str, bool)) {
        let config = self.config;
        f(&HOST, self.host, false);
        f(&CONTENT_TYPE, JSON, false);
        f(&names::ACTION, self.info.action, false);
        f(&names::VERSION, self.info.version, false);
        f(&names::TIMESTAMP, self.timestamp, false);
        f(&names::LANGUAGE, config.language.as_str(), false);
        f(&names::REQUEST_CLIENT, &config.request_client, false);
        if let Some(region) = config.region.as_deref().filter(|r| !r.is_empty()) {
            f(&names::REGION, region, false);
        }
        if let Some(token) = self.token {
            f(&names::TOKEN, token, true);
        }
        f(&AUTHORIZATION, self.authorization, true);
    }

    /// A value that cannot be sent is an error, never dropped or sent broken. Credentials,
    /// the host and the configured values were checked when they were built; the action
    /// and version come with each call.
    fn check(&self) -> Result<(), Error> {
        for (name, value) in [
            ("X-TC-Action", self.info.action),
            ("X-TC-Version", self.info.version),
        ] {
            if !is_header_value(value) {
                return Err(Error::Transport(TransportError::new(format!(
                    "`{name}` cannot be sent as a header value (control characters or non-ASCII)"
                ))));
            }
        }
        Ok(())
    }
}

/// What one exchange brought back.
struct Answer {
    status: u16,
    /// The raw `Date` header, parsed only when needed (clock skew).
    date: Option<String>,
    body: Vec<u8>,
}

/// One exchange: the request written, the answer read up to the body cap.
async fn send_once(
    client: &reqwest::Client,
    target: &Target,
    headers: &Headers<'_>,
    body: &Bytes,
    config: &Config,
) -> Result<Answer, Attempt> {
    let limit = config.max_response_bytes;
    let mut map = HeaderMap::with_capacity(10);
    headers.each(|name, value, secret| {
        // Checked by `Headers::check`.
        if let Ok(mut value) = HeaderValue::from_str(value) {
            value.set_sensitive(secret);
            map.insert(name.clone(), value);
        }
    });
    let sent = client
        .post(target.url.clone())
        .headers(map)
        .body(body.clone())
        .send()
        .await;
    let too_large = || Attempt::Failed {
        error: Error::ResponseTooLarge { limit },
        failure: FailureKind::Fatal,
    };
    let mut response = sent.map_err(|e| failed_request(e, config))?;
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .map(str::to_owned);
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    // Read chunk by chunk, never past the cap (Content-Length may lie or be absent).
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed_request(e, config))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, date, body })
}

/// The TLS backend the crate's features chose, with the configured extra roots.
#[cfg_attr(
    not(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring")),
    allow(unused_variables)
)]
fn tls(builder: reqwest::ClientBuilder, config: &Config) -> reqwest::ClientBuilder {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    {
        // reqwest without a provider uses the process default; install ring's unless the
        // application installed one (an error here means it did).
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    #[cfg(all(
        feature = "webpki-roots",
        any(feature = "rustls-aws-lc-rs", feature = "rustls-ring")
    ))]
    let builder = builder.tls_certs_only(
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok()),
    );
    #[cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]
    let builder = builder.tls_certs_merge(config.root_certificates.iter().cloned());
    builder
}

/// Milliseconds since `start` (evaluated only when the event that reports it is enabled).
fn ms_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

fn unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An answer that is not a usable API response: a transport error (with an excerpt only
/// of a non-JSON body).
fn bad_answer(status: u16, message: &str, body: &[u8], failure: FailureKind) -> Attempt {
    let error = Error::Transport(TransportError::with_response(status, message, body));
    Attempt::Failed { error, failure }
}

fn failed_request(error: reqwest::Error, config: &Config) -> Attempt {
    // A failed connect sent nothing, timed out or not: safe to retry for any action.
    if error.is_connect() {
        let error = if error.is_timeout() {
            Error::ConnectTimeout(config.connect_timeout)
        } else {
            Error::Transport(TransportError::connect("cannot connect").with_source(error))
        };
        return Attempt::Failed {
            error,
            failure: FailureKind::Connect,
        };
    }
    let error = if error.is_timeout() {
        Error::AttemptTimeout(config.timeout)
    } else {
        // reqwest's errors name the URL and the cause, never headers or bodies.
        Error::Transport(TransportError::new("the request failed").with_source(error))
    };
    Attempt::Failed {
        error,
        failure: FailureKind::Network,
    }
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
        let target = self.inner.targets.get(config, &info.endpoint)?;
        // Shared by every attempt without copying.
        let body = Bytes::from(body);
        let span = tracing::info_span!(
            "ess.call",
            action = info.action,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        let traced = !span.is_disabled();
        let policy = &config.retry;
        // The call's own options win over the client's.
        let call_deadline = info.options.deadline.unwrap_or(policy.deadline);
        let attempt_timeout = info.options.attempt_timeout.unwrap_or(config.timeout);
        let started = Instant::now();
        let deadline = started + call_deadline;
        // Whether any attempt so far may have executed: a deadline that passes later says so.
        let mut executed = false;
        let timed_out = |may_have_executed: bool| Error::Deadline {
            deadline: call_deadline,
            may_have_executed,
        };
        async {
            let mut attempt = 0u32;
            let mut resigned = false;
            // The time read at the start, until anything may have waited.
            let mut fresh = Some(started);
            loop {
                if config.rate_limit
                    && let Some(limit) = info.rate_limit
                {
                    let wait = self.inner.limiter.acquire(info.action, limit);
                    if tokio::time::timeout_at(deadline, wait).await.is_err() {
                        return Err(timed_out(executed));
                    }
                    fresh = None;
                }
                let sent = fresh.take().unwrap_or_else(Instant::now);
                // Tokio's timers fire on the driver's next turn: a deadline that has
                // passed is checked here, so no attempt starts after it.
                if sent >= deadline {
                    return Err(timed_out(executed));
                }
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                // One timer bounds the attempt: its own timeout, or the call's deadline.
                let attempt_ends = deadline.min(sent + attempt_timeout);
                let outcome =
                    match tokio::time::timeout_at(attempt_ends, self.attempt(info, &target, &body, traced))
                        .await
                    {
                        Ok(outcome) => outcome,
                        // The request may be out: retried only where that is safe.
                        Err(_) if attempt_ends < deadline => Attempt::Failed {
                            error: Error::AttemptTimeout(attempt_timeout),
                            failure: FailureKind::Network,
                        },
                        // The attempt was in flight: it may have been sent.
                        Err(_) => return Err(timed_out(true)),
                    };
                // A retryable outcome: what to return if no attempt is left.
                let last = match outcome {
                    Attempt::Answer {
                        body: answer,
                        code: None,
                        ..
                    } => {
                        tracing::debug!(latency_ms = ms_since(sent), "ok");
                        return Ok(answer);
                    }
                    Attempt::Answer {
                        body: answer,
                        code: Some(code),
                        date,
                    } => {
                        tracing::debug!(latency_ms = ms_since(sent), code = %code, "service error");
                        if code == "AuthFailure.SignatureExpire"
                            && !resigned
                            && let Some(server) = date
                                .as_ref()
                                .and_then(|d| httpdate::parse_http_date(d).ok())
                            && self.learn_clock_offset(server)
                        {
                            resigned = true;
                            attempt -= 1;
                            continue;
                        }
                        if !is_retryable(Failure::Service(&code), info.retry_safe) {
                            return Ok(answer);
                        }
                        executed |= !is_refusal(&code);
                        Ok(answer)
                    }
                    Attempt::Failed { error, failure } => {
                        tracing::debug!(latency_ms = ms_since(sent), error = %error, "attempt failed");
                        let failure = match failure {
                            FailureKind::Connect => Failure::Connect,
                            FailureKind::Network => Failure::Network,
                            FailureKind::Status(s) => Failure::Status(s),
                            FailureKind::Fatal => return Err(error),
                        };
                        if !is_retryable(failure, info.retry_safe) {
                            return Err(error);
                        }
                        executed |= error.may_have_executed();
                        Err(error)
                    }
                };
                if attempt >= policy.max_attempts {
                    return last;
                }
                let backoff = policy.backoff(attempt);
                if Instant::now() + backoff >= deadline {
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

    const DEFAULT: EndpointHosts = EndpointHosts {
        group: "default",
        production: "ess.tencentcloudapi.com",
        test: "ess.test.ess.tencent.cn",
    };
    const FILE: EndpointHosts = EndpointHosts {
        group: "file",
        production: "file.ess.tencent.cn",
        test: "file.test.ess.tencent.cn",
    };

    fn config(endpoint: Endpoint) -> Config {
        let credentials = crate::Credentials::new("AKIDx", "key").unwrap();
        Config::builder(credentials)
            .endpoint(endpoint)
            .build()
            .unwrap()
    }

    /// The `Host` and URL each call goes to, for calls of the default, file and file groups.
    fn destinations(config: &Config, targets: &Targets) -> Vec<(String, String)> {
        [DEFAULT, FILE, FILE]
            .iter()
            .map(|hosts| {
                let target = targets.get(config, hosts).unwrap();
                (target.host.clone(), target.url.to_string())
            })
            .collect()
    }

    // Production and test hosts are https: a build without TLS refuses them (config.rs).
    #[cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]
    #[test]
    fn each_endpoint_group_goes_to_the_host_its_call_names() {
        let test = config(Endpoint::Test);
        let targets = Targets::new(&test).unwrap();
        assert_eq!(
            destinations(&test, &targets),
            [
                (
                    "ess.test.ess.tencent.cn",
                    "https://ess.test.ess.tencent.cn/"
                ),
                (
                    "file.test.ess.tencent.cn",
                    "https://file.test.ess.tencent.cn/"
                ),
                (
                    "file.test.ess.tencent.cn",
                    "https://file.test.ess.tencent.cn/"
                ),
            ]
            .map(|(h, u)| (h.to_owned(), u.to_owned()))
        );
        // Worked out once per host, then shared.
        let Targets::ByHost { made } = &targets else {
            panic!("production and test hosts are per group");
        };
        assert_eq!(made.read().unwrap().len(), 2);

        let production = config(Endpoint::Production);
        let targets = Targets::new(&production).unwrap();
        assert_eq!(
            destinations(&production, &targets)[1].0,
            "file.ess.tencent.cn"
        );
    }

    #[test]
    fn a_base_url_takes_every_endpoint_group() {
        let local = config(Endpoint::parse("http://127.0.0.1:8080"));
        let targets = Targets::new(&local).unwrap();
        assert!(matches!(targets, Targets::Fixed(_)));
        assert!(
            destinations(&local, &targets)
                .iter()
                .all(|(host, url)| host == "127.0.0.1:8080" && url == "http://127.0.0.1:8080/")
        );
    }

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
