//! The HTTP transport: signs each attempt (TC3), sends it through one pooled hyper client
//! (HTTP/1.1 keep-alive, rustls, no redirects), rate-limits per action, retries only what
//! cannot run a write twice, and recovers once from clock skew using the server's `Date`.
//! One deadline bounds the whole call. Cloning shares the pool, the limiter and the key cache.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HOST, HeaderMap, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;
use tracing::Instrument;

use crate::action::{CallInfo, EndpointHosts, Probe, Transport, may_hold_error};
use crate::config::{Config, Endpoint, is_header_value};
use crate::connect::{ConnectTimedOut, Connector, Proxies};
use crate::error::{Error, TransportError, is_rate_limited, is_refusal};
use crate::rate_limit::{LimitKey, Limiter, LimiterError};
use crate::retry::{
    Failure, RETRY_COST, RetryBudget, TIMEOUT_RETRY_COST, after, is_retryable, throttle_backoff,
};
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

type HttpClient = Client<Connector, Full<Bytes>>;

#[derive(Debug)]
struct Inner {
    config: Config,
    /// Every request goes through it: a pool of keep-alive connections per host.
    client: HttpClient,
    signer: Signer,
    limiter: std::sync::Arc<dyn Limiter>,
    /// Where each endpoint group's requests go.
    targets: Targets,
    /// The environment's proxies (the connector's), for the targets made later.
    proxies: Arc<Proxies>,
    /// Server time minus local time, in seconds, learned from a `SignatureExpire` answer,
    /// and when it was learned.
    clock_offset: Mutex<Option<(i64, Instant)>>,
    /// The retries this client and its clones may still make.
    retry_budget: RetryBudget,
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
    fn new(config: &Config, proxies: &Proxies) -> Result<Targets, Error> {
        Ok(match &config.endpoint {
            Endpoint::Url(url) => Targets::Fixed(Target::new(url, config, proxies)?),
            Endpoint::Production | Endpoint::Test => Targets::ByHost {
                made: RwLock::new(Vec::new()),
            },
        })
    }

    /// The target of `hosts` (the call's endpoint group) under `config`'s endpoint.
    fn get(
        &self,
        config: &Config,
        proxies: &Proxies,
        hosts: &EndpointHosts,
    ) -> Result<TargetRef<'_>, Error> {
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
        let target = Arc::new(Target::new(
            &config.endpoint.base_url(hosts),
            config,
            proxies,
        )?);
        made.push((host, target.clone()));
        Ok(TargetRef::Shared(target))
    }
}

/// Where one endpoint group's requests go, and the headers every request to it carries.
#[derive(Debug)]
struct Target {
    uri: Uri,
    /// The `Host` header: the URL's authority.
    host: String,
    /// Host, Content-Type and the configured language, request client and region (checked
    /// by `Config::build`), made once and copied into each attempt's request.
    headers: HeaderMap,
}

impl Target {
    /// The target for `base`.
    fn new(base: &str, config: &Config, proxies: &Proxies) -> Result<Target, Error> {
        let bad =
            |problem: &str| TransportError::new(format!("endpoint `{base}`: {problem}")).not_sent();
        let url = url::Url::parse(&format!("{}/", base.trim_end_matches('/')))
            .map_err(|e| Error::Transport(bad("not a URL").with_source(e)))?;
        let host = authority(&url).ok_or_else(|| Error::Transport(bad("no host")))?;
        let uri = Uri::try_from(url.as_str())
            .map_err(|e| Error::Transport(bad("not a URL").with_source(e)))?;
        let value = |value: &str| {
            HeaderValue::from_str(value).map_err(|_| Error::Transport(bad("unusable header value")))
        };
        let mut headers = HeaderMap::with_capacity(12);
        headers.insert(HOST, value(&host)?);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        headers.insert(
            names::LANGUAGE.clone(),
            HeaderValue::from_static(config.language.as_str()),
        );
        headers.insert(
            names::REQUEST_CLIENT.clone(),
            value(&config.request_client)?,
        );
        if let Some(region) = config.region.as_deref().filter(|r| !r.is_empty()) {
            headers.insert(names::REGION.clone(), value(region)?);
        }
        // Plain http through a proxy: the proxy, not a tunnel, reads the request.
        if uri.scheme() == Some(&http::uri::Scheme::HTTP)
            && let Some(auth) = proxies.for_uri(&uri).and_then(|p| p.basic_auth().cloned())
        {
            let mut auth = auth;
            auth.set_sensitive(true);
            headers.insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        Ok(Target { uri, host, headers })
    }
}

/// How long an unused connection stays in the pool: shorter than the keep-alive of the
/// servers and load balancers in front of APIs (60 s for most cloud load balancers, 75 s for
/// nginx), so the client, not the server, closes an idle connection, and a request is not
/// written into one the server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The most idle connections kept per host (32 calls in flight need 32).
const POOL_MAX_IDLE_PER_HOST: usize = 64;

/// The pooled client for `config`: HTTP/1.1 keep-alive over the [`Connector`] (its TLS
/// backend and roots, the environment's proxy, the connect timeout). hyper's client never
/// follows a redirect, which would carry the signed body and the token to another URL.
fn http_client(config: &Config) -> Result<(HttpClient, Arc<Proxies>), Error> {
    let connector = Connector::new(config).map_err(|e| {
        Error::Transport(
            TransportError::new("cannot build the HTTP client")
                .not_sent()
                .with_boxed_source(e),
        )
    })?;
    let proxies = connector.proxies();
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .pool_timer(TokioTimer::new())
        .build(connector);
    Ok((client, proxies))
}

/// Header names, parsed once.
mod names {
    use http::header::HeaderName;

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
        /// The `Retry-After` header, when sent.
        retry_after: Option<Duration>,
    },
    /// Anything else.
    Failed { error: Error, failure: FailureKind },
}

enum FailureKind {
    Connect,
    Network,
    Status(u16),
    /// HTTP 429 without an error envelope, with its `Retry-After`.
    Throttled(Option<Duration>),
    Fatal,
}

impl HttpTransport {
    /// A transport for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let (client, proxies) = http_client(&config)?;
        let targets = Targets::new(&config, &proxies)?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                proxies,
                targets,
                signer: Signer::new(),
                limiter: config.limiter.clone(),
                clock_offset: Mutex::new(None),
                retry_budget: RetryBudget::new(config.retry.budget),
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
        credentials: &crate::Credentials,
    ) -> Attempt {
        let config = &self.inner.config;
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
        let headers = match attempt_headers(
            info,
            target,
            timestamp,
            &authorization,
            credentials.token().map(|t| t.expose()),
        ) {
            Ok(headers) => headers,
            Err(error) => {
                return Attempt::Failed {
                    error,
                    failure: FailureKind::Fatal,
                };
            }
        };
        let Answer {
            status,
            date,
            retry_after,
            body,
        } = match send_once(&self.inner.client, target, headers, body, config).await {
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
                retry_after,
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
                    retry_after,
                };
            }
            let failure = if status == 429 {
                FailureKind::Throttled(retry_after)
            } else {
                FailureKind::Status(status)
            };
            return bad_answer(status, "unexpected HTTP status", &body, failure);
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
            (Some(_), Some(_)) => Attempt::Answer {
                body,
                code,
                date,
                retry_after,
            },
        }
    }
}

/// The headers of one attempt: the target's, then the call's and the signature. A value
/// that cannot be sent is an error, never dropped or sent broken: credentials, the host and
/// the configured values were checked when they were built; the action and version come
/// with each call.
fn attempt_headers(
    info: &CallInfo,
    target: &Target,
    timestamp: i64,
    authorization: &str,
    token: Option<&str>,
) -> Result<HeaderMap, Error> {
    let value = |name: &str, value: &str, secret: bool| {
        let mut value = HeaderValue::from_str(value)
            .ok()
            .filter(|_| is_header_value(value))
            .ok_or_else(|| {
                Error::Transport(
                    TransportError::new(format!(
                        "`{name}` cannot be sent as a header value (control characters or non-ASCII)"
                    ))
                    .not_sent(),
                )
            })?;
        value.set_sensitive(secret);
        Ok::<_, Error>(value)
    };
    let mut headers = target.headers.clone();
    headers.insert(
        names::ACTION.clone(),
        value("X-TC-Action", info.action, false)?,
    );
    headers.insert(
        names::VERSION.clone(),
        value("X-TC-Version", info.version, false)?,
    );
    headers.insert(names::TIMESTAMP.clone(), HeaderValue::from(timestamp));
    if let Some(token) = token {
        headers.insert(names::TOKEN.clone(), value("X-TC-Token", token, true)?);
    }
    headers.insert(AUTHORIZATION, value("Authorization", authorization, true)?);
    Ok(headers)
}

/// What one exchange brought back.
struct Answer {
    status: u16,
    /// The raw `Date` header, parsed only when needed (clock skew).
    date: Option<String>,
    /// `Retry-After`, in seconds or as a date.
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// The wait a `Retry-After` value asks for: delay-seconds, or an HTTP date from now.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// One exchange: the request written, the answer read up to the body cap.
async fn send_once(
    client: &HttpClient,
    target: &Target,
    headers: HeaderMap,
    body: &Bytes,
    config: &Config,
) -> Result<Answer, Attempt> {
    let limit = config.max_response_bytes;
    let mut request = Request::new(Full::new(body.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = target.uri.clone();
    *request.headers_mut() = headers;
    let too_large = || Attempt::Failed {
        error: Error::ResponseTooLarge { limit },
        failure: FailureKind::Fatal,
    };
    let response = client
        .request(request)
        .await
        .map_err(|e| failed_request(e, config))?;
    let (parts, incoming) = response.into_parts();
    let status = parts.status.as_u16();
    let date = parts
        .headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .map(str::to_owned);
    let retry_after = parts
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| retry_after(v.to_str().ok()?));
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|len| len.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    // Never past the cap, whatever Content-Length says (it may lie or be absent).
    let body = Limited::new(incoming, usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                too_large()
            } else {
                Attempt::Failed {
                    error: Error::Transport(
                        TransportError::new("reading the answer failed").with_boxed_source(e),
                    ),
                    failure: FailureKind::Network,
                }
            }
        })?
        .to_bytes();
    Ok(Answer {
        status,
        date,
        retry_after,
        body: Vec::from(body),
    })
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

fn failed_request(error: hyper_util::client::legacy::Error, config: &Config) -> Attempt {
    // A failed connect sent nothing, timed out or not: safe to retry for any action.
    if error.is_connect() {
        let timed_out =
            std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.is::<ConnectTimedOut>());
        let error = if timed_out {
            Error::ConnectTimeout(config.connect_timeout)
        } else {
            Error::Transport(TransportError::connect("cannot connect").with_source(error))
        };
        return Attempt::Failed {
            error,
            failure: FailureKind::Connect,
        };
    }
    // hyper's errors name the cause, never headers or bodies.
    Attempt::Failed {
        error: Error::Transport(TransportError::new("the request failed").with_source(error)),
        failure: FailureKind::Network,
    }
}

/// The URL authority as it goes in `Host` (`127.0.0.1:8080`; no port when it is the default).
fn authority(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

impl Transport for HttpTransport {
    async fn send(&self, info: &CallInfo, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let config = &self.inner.config;
        let target = self
            .inner
            .targets
            .get(config, &self.inner.proxies, &info.endpoint)?;
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
        // A deadline of `Duration::MAX` (no limit) saturates instead of overflowing.
        let deadline = after(started, call_deadline);
        // Whether any attempt so far may have executed: a deadline that passes later says so.
        let mut executed = false;
        let timed_out = |may_have_executed: bool| Error::Deadline {
            deadline: call_deadline,
            may_have_executed,
        };
        async {
            let mut attempt = 0u32;
            let mut resigned = false;
            // Tokens this call's retries took from the budget.
            let mut spent = 0u32;
            // The time read at the start, until anything may have waited.
            let mut fresh = Some(started);
            loop {
                // Asked per attempt, so rotated keys take effect without rebuilding the
                // client; the deadline bounds a source that does not answer.
                let credentials_by = |deadline| async move {
                    match tokio::time::timeout_at(deadline, config.credentials.credentials()).await {
                        Ok(credentials) => credentials.map_err(Error::Credentials),
                        Err(_) => Err(timed_out(executed)),
                    }
                };
                let mut credentials = credentials_by(deadline).await?;
                if config.rate_limit
                    && let Some(limit) = info.rate_limit
                {
                    // The service counts per account: the limiter sees the account the
                    // user named, or the SecretId's hash (made once per key).
                    let key = LimitKey {
                        account: config
                            .rate_limit_account
                            .as_deref()
                            .unwrap_or(credentials.account()),
                        action: info.action,
                    };
                    let wait = self.inner.limiter.acquire(key, limit, deadline);
                    match tokio::time::timeout_at(deadline, wait).await {
                        Err(_) | Ok(Err(LimiterError::AfterDeadline)) => {
                            return Err(timed_out(executed));
                        }
                        Ok(Err(e)) => return Err(Error::RateLimiter(e)),
                        Ok(Ok(())) => {}
                    }
                    fresh = None;
                    // The wait may have outlasted temporary keys: sign with the current ones.
                    credentials = credentials_by(deadline).await?;
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
                let attempt_ends = deadline.min(after(sent, attempt_timeout));
                let outcome =
                    match tokio::time::timeout_at(attempt_ends, self.attempt(info, &target, &body, traced, &credentials))
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
                // Refused for the rate (429, `RequestLimitExceeded*`), with its Retry-After.
                let mut throttled = None;
                // Whether a lost connection or a timeout failed it: a costlier retry.
                let mut lost = false;
                // A retryable outcome: what to return if no attempt is left.
                let last = match outcome {
                    Attempt::Answer {
                        body: answer,
                        code: None,
                        ..
                    } => {
                        tracing::debug!(latency_ms = ms_since(sent), "ok");
                        // What this call's retries took comes back; a first-time success
                        // adds one.
                        self.inner.retry_budget.deposit(spent.max(1));
                        return Ok(answer);
                    }
                    Attempt::Answer {
                        body: answer,
                        code: Some(code),
                        date,
                        retry_after,
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
                        if is_rate_limited(&code) {
                            throttled = Some(retry_after);
                        }
                        Ok(answer)
                    }
                    Attempt::Failed { error, failure } => {
                        tracing::debug!(latency_ms = ms_since(sent), error = %error, "attempt failed");
                        let failure = match failure {
                            FailureKind::Connect => Failure::Connect,
                            FailureKind::Network => {
                                lost = true;
                                Failure::Network
                            }
                            FailureKind::Status(s) => Failure::Status(s),
                            FailureKind::Throttled(retry_after) => {
                                throttled = Some(retry_after);
                                Failure::Status(429)
                            }
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
                // Refused for the rate: the next window, not the next few milliseconds
                // (which fall in the same window and are refused again).
                let backoff = match throttled {
                    Some(retry_after) => throttle_backoff(policy, attempt, retry_after),
                    None => policy.backoff(attempt),
                };
                if after(Instant::now(), backoff) >= deadline {
                    return last;
                }
                let cost = if lost { TIMEOUT_RETRY_COST } else { RETRY_COST };
                if !self.inner.retry_budget.withdraw(cost) {
                    tracing::debug!("the retry budget is spent: no retry");
                    return last;
                }
                spent = spent.saturating_add(cost);
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
                let target = targets.get(config, &Proxies::none(), hosts).unwrap();
                (target.host.clone(), target.uri.to_string())
            })
            .collect()
    }

    // Production and test hosts are https: a build without TLS refuses them (config.rs).
    #[cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]
    #[test]
    fn each_endpoint_group_goes_to_the_host_its_call_names() {
        let test = config(Endpoint::Test);
        let targets = Targets::new(&test, &Proxies::none()).unwrap();
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
        let targets = Targets::new(&production, &Proxies::none()).unwrap();
        assert_eq!(
            destinations(&production, &targets)[1].0,
            "file.ess.tencent.cn"
        );
    }

    #[test]
    fn a_base_url_takes_every_endpoint_group() {
        let local = config(Endpoint::parse("http://127.0.0.1:8080"));
        let targets = Targets::new(&local, &Proxies::none()).unwrap();
        assert!(matches!(targets, Targets::Fixed(_)));
        assert!(
            destinations(&local, &targets)
                .iter()
                .all(|(host, url)| host == "127.0.0.1:8080" && url == "http://127.0.0.1:8080/")
        );
    }

    #[test]
    fn host_is_the_rfc_authority() {
        let url = |s: &str| url::Url::parse(s).unwrap();
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
