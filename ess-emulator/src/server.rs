//! The running emulator: [`Emulator`] (start, URL, credentials, inspection, faults, stop),
//! the state its handlers share, and the accept loop that serves each connection with hyper
//! so that a handler can have its connection dropped on purpose.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Map, Value};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::auth::{Key, Verifier};
use crate::callbacks::{self, CallbackDelivery, CallbackFault, CallbackTarget, Callbacks};
use crate::catalog::Catalog;
use crate::control::{ControlError, FlowView, Override, Overrides, Signer};
use crate::faults::{Fault, FaultRule};
use crate::flows::Flows;
use crate::limit::Limiter;
use crate::schema::{self, Schema};
use crate::{admin, api, pages, random};

/// The largest request body accepted (the service's own limit is 10 MB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How many received calls [`Emulator::received`] keeps (the oldest go first).
pub const RECEIVED_CAPACITY: usize = 10_000;
/// How many bytes of bodies the received calls keep in all; the oldest go first.
pub const RECORDED_BYTES: usize = 64 * 1024 * 1024;
/// The largest body a received call keeps; a larger one is recorded by its size only, as
/// is the body of a call whose signature did not verify.
pub const RECORDED_BODY_BYTES: usize = 1024 * 1024;
/// How far the emulator's clock may run from the machine's: 100 years either way.
pub const MAX_CLOCK_OFFSET: i64 = 100 * 365 * 24 * 3600;
/// How long a connection may take to send a request's headers, and may stay idle between
/// requests, before it is closed; and how long a body may take to arrive. Longer than the
/// client's pooled-connection idle time (50 s), so the emulator never closes a connection a
/// client is about to reuse.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 1024;

/// A SecretId and SecretKey the emulator accepts (and an optional token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: String,
    /// When set, calls must send it as `X-TC-Token`, like temporary credentials.
    pub token: Option<String>,
    /// When set, the key is refused from then on (`AuthFailure.TokenFailure`), like
    /// temporary credentials that expired.
    pub expires_at: Option<SystemTime>,
    /// The sub-account the key belongs to. Rate limits hold per action and sub-account
    /// (upstream's API rate-limit doc: API, access region and sub-account), so keys of one
    /// sub-account share them. `None`: the key is a sub-account of its own.
    pub account: Option<String>,
}

impl Credential {
    /// A permanent key pair.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
            expires_at: None,
            account: None,
        }
    }

    /// The key belongs to sub-account `account` (see [`Credential::account`]).
    pub fn in_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// A fresh random key pair (the emulator's default; not for anything but tests).
    pub fn generate() -> Self {
        Self::new(
            format!("AKIDemu{}", random::alphanumeric(30)),
            random::alphanumeric(32),
        )
    }

    /// The fixed, published key pair ([`TEST_SECRET_ID`], [`TEST_SECRET_KEY`]) for tests
    /// that want to know the key before the emulator starts. Never a secret: anyone can
    /// read it here.
    pub fn test_default() -> Self {
        Self::new(TEST_SECRET_ID, TEST_SECRET_KEY)
    }
}

/// The SecretId of [`Credential::test_default`].
pub const TEST_SECRET_ID: &str = "AKIDessEmulatorTestKey000000000000";
/// The SecretKey of [`Credential::test_default`].
pub const TEST_SECRET_KEY: &str = "essEmulatorTestSecretKey00000000";

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("account", &self.account)
            .finish()
    }
}

/// A call the emulator received, and how it answered.
#[derive(Clone)]
#[non_exhaustive]
pub struct Received {
    /// `X-TC-Action` as sent (empty when missing).
    pub action: String,
    /// The SecretId it was signed with, once verified.
    pub secret_id: Option<String>,
    /// The JSON body, every member the spec marks sensitive (names, mobiles, ID numbers,
    /// links, callback keys and tokens) reading `"<redacted>"`; `Null` when it was not JSON,
    /// was not kept (see [`Received::body_bytes`]), or names no known action.
    pub body: Value,
    /// The body's size as it arrived. Bodies of calls that did not verify, and bodies over
    /// [`RECORDED_BODY_BYTES`], are not kept.
    pub body_bytes: usize,
    /// The error code answered; `None` for a success.
    pub code: Option<String>,
    /// The fault injected into the answer, if any.
    pub fault: Option<Fault>,
    /// The answer's `RequestId` (none when a fault replaced the envelope).
    pub request_id: String,
    /// When it arrived, on the emulator's clock, in Unix milliseconds.
    pub received_at_ms: i64,
    /// The headers that are not secrets: `Host`, `Content-Type`, `User-Agent` and the
    /// `X-TC-*` headers but `X-TC-Token` (never `Authorization`), lower-case.
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// Whether the action ran (its effects happened): the call was answered successfully,
    /// or a fault replaced its successful answer.
    pub fn executed(&self) -> bool {
        self.code.is_none()
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies carry personal data; Debug shows only their shape.
        let members = self.body.as_object().map_or(0, Map::len);
        f.debug_struct("Received")
            .field("action", &self.action)
            .field("secret_id", &self.secret_id)
            .field("body", &format_args!("<{members} members>"))
            .field("code", &self.code)
            .field("fault", &self.fault)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// A received call as logged: the body stays the bytes that arrived (shared, not copied)
/// and is parsed only when inspected, so logging costs the hot path nothing.
pub(crate) struct Record {
    pub(crate) action: String,
    pub(crate) secret_id: Option<String>,
    pub(crate) body: Bytes,
    pub(crate) body_bytes: usize,
    pub(crate) code: Option<String>,
    pub(crate) fault: Option<Fault>,
    pub(crate) request_id: String,
    received_at_ms: i64,
    /// When it arrived, for the request log's latency.
    arrived: std::time::Instant,
    headers: Vec<(String, String)>,
}

/// The headers a record keeps: none that carries a secret.
fn kept_header(name: &str) -> bool {
    matches!(name, "host" | "content-type" | "user-agent")
        || (name.starts_with("x-tc-") && name != "x-tc-token")
}

/// The longest header value a record keeps.
const RECORDED_HEADER_BYTES: usize = 256;

impl Record {
    /// A call as it arrives: its action and the headers worth keeping, with a fresh RequestId.
    pub(crate) fn new(shared: &Shared, headers: &axum::http::HeaderMap) -> Record {
        let text = |v: &axum::http::HeaderValue| v.to_str().unwrap_or_default().to_owned();
        let mut kept = Vec::new();
        for (name, value) in headers {
            if kept_header(name.as_str()) {
                let mut value = text(value);
                if value.len() > RECORDED_HEADER_BYTES {
                    let mut end = RECORDED_HEADER_BYTES;
                    while !value.is_char_boundary(end) {
                        end -= 1;
                    }
                    value.truncate(end);
                }
                kept.push((name.as_str().to_owned(), value));
            }
        }
        Record {
            action: headers.get("x-tc-action").map(text).unwrap_or_default(),
            secret_id: None,
            body: Bytes::new(),
            body_bytes: 0,
            code: None,
            fault: None,
            request_id: request_id(),
            received_at_ms: shared.now_ms(),
            arrived: std::time::Instant::now(),
            headers: kept,
        }
    }

    /// What it costs the log: its body, its kept headers and a fixed allowance for the rest.
    fn cost(&self) -> usize {
        const OVERHEAD: usize = 512;
        let headers: usize = self.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.body.len() + headers + OVERHEAD
    }

    fn to_received(&self, schema: &Schema) -> Received {
        let mut body = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        schema.redact(&self.action, &mut body);
        Received {
            action: self.action.clone(),
            secret_id: self.secret_id.clone(),
            body,
            body_bytes: self.body_bytes,
            code: self.code.clone(),
            fault: self.fault.clone(),
            request_id: self.request_id.clone(),
            received_at_ms: self.received_at_ms,
            headers: self.headers.clone(),
        }
    }
}

/// A RequestId in the service's form (a UUID).
pub(crate) fn request_id() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

/// The received calls, bounded by count and by bytes.
#[derive(Default)]
pub(crate) struct Log {
    records: VecDeque<Record>,
    bytes: usize,
}

impl Log {
    fn push(&mut self, record: Record) {
        self.bytes += record.cost();
        self.records.push_back(record);
        while self.records.len() > RECEIVED_CAPACITY || self.bytes > RECORDED_BYTES {
            let Some(oldest) = self.records.pop_front() else {
                break;
            };
            self.bytes -= oldest.cost();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct Builder {
    listen: SocketAddr,
    credentials: Vec<Credential>,
    faults: Vec<FaultRule>,
    clock_offset: i64,
    clock_skew: i64,
    seed_demo: bool,
    rate_limits: bool,
    threads: usize,
    callbacks: Vec<CallbackTarget>,
    admin: Option<bool>,
    idle_timeout: Duration,
    max_connections: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: Vec::new(),
            faults: Vec::new(),
            clock_offset: 0,
            clock_skew: 0,
            seed_demo: true,
            rate_limits: true,
            threads: 1,
            callbacks: Vec::new(),
            admin: None,
            idle_timeout: IDLE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

impl Builder {
    /// The address to listen on (`127.0.0.1:0`, any free port, by default).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Accept this key (repeatable). With none, one is generated.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credentials.push(credential);
        self
    }

    /// Start with this fault rule in place (repeatable).
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Run the emulator's business clock (flow deadlines, link expiry, reports) this many
    /// seconds ahead of the machine's (negative: behind), at most [`MAX_CLOCK_OFFSET`]
    /// either way ([`Builder::start`] refuses more). Signatures are still checked against
    /// real time, as ESS checks them, so every SDK keeps working.
    pub fn clock_offset(mut self, seconds: i64) -> Self {
        self.clock_offset = seconds;
        self
    }

    /// Run the service's own clock (what `X-TC-Timestamp` is checked against and `Date`
    /// reports) this many seconds off the machine's, as a server whose clock is wrong, or a
    /// client machine whose clock is, looks: for testing a client's recovery from clock
    /// skew. Bounded like [`clock_offset`](Self::clock_offset).
    pub fn clock_skew(mut self, seconds: i64) -> Self {
        self.clock_skew = seconds;
        self
    }

    /// Seed the demo flow ([`crate::DEMO_FLOW_ID`]); on by default.
    pub fn seed_demo(mut self, on: bool) -> Self {
        self.seed_demo = on;
        self
    }

    /// Enforce the spec's rate limits; on by default.
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.rate_limits = on;
        self
    }

    /// Send callbacks to this URL (repeatable), as if registered with
    /// ModifyApplicationCallbackInfo.
    pub fn callback(mut self, target: CallbackTarget) -> Self {
        self.callbacks.push(target);
        self
    }

    /// Serve the admin API under `/_emulator/` (see the crate's README). By default it is
    /// served only when the emulator listens on a loopback address, since it is not
    /// authenticated; `true` serves it on any address, `false` never.
    pub fn admin(mut self, on: bool) -> Self {
        self.admin = Some(on);
        self
    }

    /// Serve at most this many connections at once (1,024 by default, at least 1); at the
    /// bound, the oldest idle one is closed to make room for a new one.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long a connection may take to send its headers or stay idle between requests,
    /// and a body may take to arrive ([`IDLE_TIMEOUT`] by default).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Worker threads of the emulator's own runtime (1 by default; the binary uses one per
    /// core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Binds, and serves in the background on threads of its own: like a separate server,
    /// it neither competes with the caller's tasks nor follows the caller's (possibly
    /// paused) clock.
    pub async fn start(self) -> std::io::Result<Emulator> {
        check_clock_offset(self.clock_offset)
            .and_then(|()| check_clock_offset(self.clock_skew))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = std::net::TcpListener::bind(self.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let mut credentials = self.credentials;
        if credentials.is_empty() {
            credentials.push(Credential::generate());
        }
        let schema = schema::bundled();
        let keys = credentials
            .iter()
            .map(|c| {
                let key = Key {
                    secret_key: c.secret_key.clone(),
                    token: c.token.clone(),
                    expires_at: c.expires_at,
                    account: c.account.clone().unwrap_or_else(|| c.secret_id.clone()),
                };
                (c.secret_id.clone(), key)
            })
            .collect();
        for target in &self.callbacks {
            target
                .check()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        let (callbacks, outbox) = Callbacks::new(self.callbacks);
        let admin = admin_served(self.admin, addr);
        let shared = Arc::new(Shared {
            schema,
            verifier: Verifier::new(keys, &schema.signing_service),
            limiter: self.rate_limits.then(Limiter::default),
            faults: Mutex::new(self.faults.clone()),
            clock_offset: AtomicI64::new(self.clock_offset),
            clock_skew: AtomicI64::new(self.clock_skew),
            frozen_ms: AtomicI64::new(RUNNING),
            received: Mutex::new(Log::default()),
            flows: Mutex::new(Flows::default()),
            catalog: Mutex::new(Catalog::default()),
            overrides: Mutex::new(Overrides::default()),
            callbacks,
            url: url.clone(),
            idle_timeout: self.idle_timeout,
            initial: Initial {
                faults: self.faults,
                clock_offset: self.clock_offset,
                clock_skew: self.clock_skew,
                seed_demo: self.seed_demo,
            },
        });
        if self.seed_demo {
            lock(&shared.flows).seed_demo(shared.now());
        }
        let (stop, stopped) = oneshot::channel();
        let (done, finished) = oneshot::channel();
        let router = router(shared.clone(), admin);
        let idle_timeout = self.idle_timeout;
        let max_connections = self.max_connections;
        let sender = shared.clone();
        let runtime = if self.threads == 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(self.threads);
            builder
        }
        .enable_all()
        .thread_name("ess-emulator")
        .build()?;
        std::thread::Builder::new()
            .name("ess-emulator".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let ticking = tokio::spawn(expire_deadlines(sender.clone()));
                    let sending = tokio::spawn(callbacks::deliver(sender, outbox));
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            serve(listener, router, stopped, idle_timeout, max_connections).await
                        }
                        Err(e) => tracing::error!(error = %e, "cannot serve"),
                    }
                    sending.abort();
                    ticking.abort();
                });
                // Connection tasks end with the runtime.
                drop(runtime);
                let _ = done.send(());
            })?;
        Ok(Emulator {
            shared,
            addr,
            url,
            credentials,
            stop: Some(stop),
            finished: Some(finished),
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    credentials: Vec<Credential>,
    stop: Option<oneshot::Sender<()>>,
    finished: Option<oneshot::Receiver<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, a generated key, the demo flow, limits on.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts with the defaults.
    pub async fn start() -> std::io::Result<Emulator> {
        Builder::default().start().await
    }

    /// The base URL (`http://127.0.0.1:PORT`), for `Endpoint::Url` or `ESS_ENDPOINT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The keys it accepts; the first is the one to use.
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The calls received so far (at most [`RECEIVED_CAPACITY`] and [`RECORDED_BYTES`],
    /// oldest first).
    pub fn received(&self) -> Vec<Received> {
        self.shared.received(None)
    }

    /// The calls of `action` received so far.
    pub fn received_for(&self, action: &str) -> Vec<Received> {
        self.shared.received(Some(action))
    }

    /// Forgets the received calls.
    pub fn clear_received(&self) {
        lock(&self.shared.received).clear();
    }

    /// Adds a fault rule; rules apply in the order added. At most
    /// [`MAX_FAULTS`](crate::MAX_FAULTS) are kept: used-up rules go first, then the oldest.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.add_fault(rule);
    }

    /// The fault rules in place, in the order they apply (a rule used up shows `*0`).
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.shared.faults).clone()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Runs the emulator's clock `seconds` ahead of the machine's (negative: behind). Its
    /// signature window, `Date` header, links and deadlines follow this clock. Flows whose
    /// deadline the clock has passed expire at once.
    pub fn set_clock_offset(&self, seconds: i64) -> Result<(), ClockOffsetError> {
        self.shared.set_clock_offset(seconds)
    }

    /// The clock offset in seconds.
    pub fn clock_offset(&self) -> i64 {
        self.shared.clock_offset()
    }

    /// Moves the service's own clock (signatures, `Date`) this far off real time (see
    /// [`Builder::clock_skew`]).
    pub fn set_clock_skew(&self, seconds: i64) -> Result<(), ClockOffsetError> {
        self.shared.set_clock_skew(seconds)
    }

    /// The clock skew in seconds.
    pub fn clock_skew(&self) -> i64 {
        self.shared.clock_skew()
    }

    /// Stops the business clock where it stands (`true`), so that deadlines, link expiry
    /// and reports move only when the test moves the clock, or lets it run again (`false`).
    /// A reset lets it run.
    pub fn freeze_clock(&self, frozen: bool) {
        self.shared.freeze_clock(frozen);
    }

    /// Whether the business clock is frozen.
    pub fn clock_frozen(&self) -> bool {
        self.shared.clock_frozen()
    }

    /// A flow's status and its signers' statuses (DescribeFlowInfo's numbers).
    pub fn flow_status(&self, flow_id: &str) -> Option<(i64, Vec<i64>)> {
        let flow = self.flow(flow_id)?;
        Some((flow.status, flow.signers.iter().map(|a| a.status).collect()))
    }

    /// A flow as the emulator holds it.
    pub fn flow(&self, flow_id: &str) -> Option<FlowView> {
        self.shared.flow(flow_id)
    }

    /// Every flow, sorted by id.
    pub fn flows(&self) -> Vec<FlowView> {
        self.shared.flows()
    }

    /// The signer signs, as on their link's page (callbacks follow).
    pub fn sign(&self, flow_id: &str, signer: &Signer) -> Result<FlowView, ControlError> {
        self.shared.sign(flow_id, signer)
    }

    /// The signer rejects the contract with `reason` (callbacks follow).
    pub fn reject(
        &self,
        flow_id: &str,
        signer: &Signer,
        reason: &str,
    ) -> Result<FlowView, ControlError> {
        self.shared.reject(flow_id, signer, reason)
    }

    /// The flow's deadline passes now: it expires unless it is closed (callbacks follow).
    pub fn expire(&self, flow_id: &str) -> Result<FlowView, ControlError> {
        self.shared.expire(flow_id)
    }

    /// Adds a flow as CreateFlow would from `request` (a CreateFlow body), started when
    /// `started` (its document attached, then StartFlow's rules).
    pub fn seed_flow(&self, request: &Value, started: bool) -> Result<FlowView, ControlError> {
        self.shared.seed_flow(request, started)
    }

    /// Adds (or replaces) a template: a TemplateInfo-shaped object with at least its
    /// `TemplateId`. Once any is seeded, CreateDocument needs one of them, and
    /// DescribeFlowTemplates lists them.
    pub fn seed_template(&self, template: &Value) -> Result<String, ControlError> {
        self.shared.seed_template(template)
    }

    /// The seeded templates, by id.
    pub fn templates(&self) -> Vec<Value> {
        self.shared.templates()
    }

    /// Answers matching calls of an action with the override's answers instead of running it.
    pub fn add_override(&self, rule: Override) -> Result<(), ControlError> {
        self.shared.add_override(rule)
    }

    /// The answer overrides in place.
    pub fn overrides(&self) -> Vec<Override> {
        lock(&self.shared.overrides).list()
    }

    /// Removes every answer override.
    pub fn clear_overrides(&self) {
        self.shared.clear_overrides();
    }

    /// Back to the state it started in: no calls received, no flows but the demo flow (if
    /// seeded), no seals, roles, reports, templates or overrides, the launch's faults,
    /// clock offset and skew, fresh rate-limit windows; the launch's callback URLs only, no
    /// callback fault queued, an empty delivery log, and no message of before the reset
    /// sent or re-sent after it. Keys stay.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Makes an evidence report (a ReportId from CreateFlowEvidenceReport) fail: what
    /// DescribeFlowEvidenceReport answers for it from now on. `false` when no report has
    /// the id.
    pub fn fail_report(&self, report_id: &str) -> bool {
        lock(&self.shared.catalog).fail_report(report_id)
    }

    /// The ids of every flow it holds (the demo flow included), sorted.
    pub fn flow_ids(&self) -> Vec<String> {
        lock(&self.shared.flows).ids()
    }

    /// Sends callbacks to this URL too, as if registered with ModifyApplicationCallbackInfo
    /// (an URL already registered stays as it is); refused, as that call is, for a key that
    /// is not 32 characters (an empty one means plain JSON) or past the bound on URLs.
    pub fn add_callback(&self, target: CallbackTarget) -> Result<(), ControlError> {
        self.shared.callbacks.add(target)
    }

    /// Stops sending callbacks to this URL, as ModifyApplicationCallbackInfo's OperateType 2
    /// does.
    pub fn remove_callback(&self, url: &str) {
        self.shared.callbacks.remove(url);
    }

    /// The registered callback URLs.
    pub fn callback_urls(&self) -> Vec<String> {
        self.shared.callbacks.urls()
    }

    /// Misdelivers the next callback message (faults queue up, one per message).
    pub fn inject_callback(&self, fault: CallbackFault) {
        self.shared.callbacks.inject(fault);
    }

    /// What happened to each callback message at each URL, oldest first (the last
    /// [`crate::CALLBACK_LOG`]). A message still being sent is not listed yet.
    pub fn callback_deliveries(&self) -> Vec<CallbackDelivery> {
        self.shared.callbacks.deliveries()
    }

    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The spec the emulator serves.
    pub fn schema(&self) -> &'static Schema {
        self.shared.schema
    }

    /// Stops serving and closes every connection.
    pub async fn stop(mut self) {
        self.shutdown();
        if let Some(finished) = self.finished.take() {
            let _ = finished.await;
        }
    }

    /// Waits until the server stops (it only stops on its own if it fails).
    pub async fn wait(mut self) {
        if let Some(finished) = self.finished.take() {
            let _ = finished.await;
        }
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What every request handler shares.
pub(crate) struct Shared {
    pub(crate) schema: &'static Schema,
    pub(crate) verifier: Verifier,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) faults: Mutex<Vec<FaultRule>>,
    /// The business clock's offset from real time (deadlines, link expiry, reports): what
    /// tests move.
    pub(crate) clock_offset: AtomicI64,
    /// The service's own clock's offset from real time, as signatures and `Date` see it:
    /// ESS checks `X-TC-Timestamp` against real time, so moving the business clock never
    /// breaks an SDK that signs with the machine's clock; a skew tests clients' recovery.
    pub(crate) clock_skew: AtomicI64,
    /// Where the business clock stands while frozen (Unix ms before the offset), or
    /// [`RUNNING`]: a frozen clock moves only when a test moves it.
    pub(crate) frozen_ms: AtomicI64,
    pub(crate) received: Mutex<Log>,
    pub(crate) flows: Mutex<Flows>,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) overrides: Mutex<Overrides>,
    pub(crate) callbacks: Callbacks,
    pub(crate) url: String,
    pub(crate) idle_timeout: Duration,
    /// What [`Emulator::reset`] returns to.
    pub(crate) initial: Initial,
}

/// Whether the admin API is served: as configured, else only on a loopback address (it is
/// not authenticated).
fn admin_served(configured: Option<bool>, addr: SocketAddr) -> bool {
    configured.unwrap_or(addr.ip().is_loopback())
}

/// The launch configuration a reset restores.
pub(crate) struct Initial {
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) clock_offset: i64,
    pub(crate) clock_skew: i64,
    pub(crate) seed_demo: bool,
}

/// A clock offset beyond [`MAX_CLOCK_OFFSET`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a clock offset of {0} s is out of range: at most {MAX_CLOCK_OFFSET} s (100 years) either way"
)]
pub struct ClockOffsetError(pub i64);

/// Whether `seconds` is a clock offset the emulator takes (at most [`MAX_CLOCK_OFFSET`]
/// either way).
pub fn check_clock_offset(seconds: i64) -> Result<(), ClockOffsetError> {
    if seconds.checked_abs().is_some_and(|s| s <= MAX_CLOCK_OFFSET) {
        Ok(())
    } else {
        Err(ClockOffsetError(seconds))
    }
}

/// [`Shared::frozen_ms`] of a running clock.
const RUNNING: i64 = i64::MIN;

/// Real time, Unix milliseconds.
fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2))
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The emulator's clock, with the offset.
    pub(crate) fn now_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.now_ms()).unwrap_or(0))
    }

    /// Stops the business clock where it stands (`true`) or lets it run again from real
    /// time (`false`); the offset applies either way.
    pub(crate) fn freeze_clock(&self, frozen: bool) {
        let at = if frozen { real_ms() } else { RUNNING };
        if !frozen || self.frozen_ms.load(Ordering::Relaxed) == RUNNING {
            self.frozen_ms.store(at, Ordering::Relaxed);
        }
    }

    pub(crate) fn clock_frozen(&self) -> bool {
        self.frozen_ms.load(Ordering::Relaxed) != RUNNING
    }

    pub(crate) fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    pub(crate) fn clock_skew(&self) -> i64 {
        self.clock_skew.load(Ordering::Relaxed)
    }

    /// The service's own clock, as signatures and `Date` see it: real time with the skew
    /// (never the business clock's offset), Unix seconds.
    pub(crate) fn service_now(&self) -> i64 {
        real_ms().div_euclid(1000).saturating_add(self.clock_skew())
    }

    /// The emulator's clock: Unix seconds, with the offset.
    pub(crate) fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The emulator's clock: Unix milliseconds, with the offset (which is bounded, so this
    /// cannot overflow).
    pub(crate) fn now_ms(&self) -> i64 {
        let local = match self.frozen_ms.load(Ordering::Relaxed) {
            RUNNING => real_ms(),
            frozen => frozen,
        };
        local.saturating_add(
            self.clock_offset
                .load(Ordering::Relaxed)
                .saturating_mul(1000),
        )
    }

    pub(crate) fn add_fault(&self, rule: FaultRule) {
        let mut faults = lock(&self.faults);
        if faults.len() >= crate::faults::MAX_FAULTS {
            faults.retain(|r| r.remaining != Some(0));
        }
        if faults.len() >= crate::faults::MAX_FAULTS {
            faults.remove(0);
        }
        faults.push(rule);
    }

    pub(crate) fn take_fault(&self, action: &str, after: bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let rule = faults.iter_mut().find(|r| r.matches(action, after))?;
        if let Some(n) = &mut rule.remaining {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    /// Logs a call, keeping its body only when its signature verified and it is not over
    /// [`RECORDED_BODY_BYTES`].
    pub(crate) fn record(&self, mut received: Record) {
        if received.body_bytes == 0 {
            received.body_bytes = received.body.len();
        }
        // The request log: what was asked and answered, never a body, key or header value.
        tracing::info!(
            action = %received.action,
            code = %received.code.as_deref().unwrap_or("ok"),
            request_id = %received.request_id,
            latency_us = u64::try_from(received.arrived.elapsed().as_micros()).unwrap_or(u64::MAX),
            "call"
        );
        if received.secret_id.is_none() || received.body.len() > RECORDED_BODY_BYTES {
            received.body = Bytes::new();
        }
        lock(&self.received).push(received);
    }

    pub(crate) fn received(&self, action: Option<&str>) -> Vec<Received> {
        lock(&self.received)
            .records
            .iter()
            .filter(|r| action.is_none_or(|a| r.action == a))
            .map(|r| r.to_received(self.schema))
            .collect()
    }
}

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy)]
pub(crate) struct DropConnection;

fn router(shared: Arc<Shared>, admin: bool) -> axum::Router {
    let router = axum::Router::new()
        .route("/", get(api::index).post(api::call))
        .route("/sign/{token}", get(pages::sign_page).post(pages::sign))
        .route("/s/{token}", get(pages::short_link))
        .route("/preview/{document}", get(pages::preview));
    let router = if admin {
        // `/_emulator` and `/_emulator/` both describe the emulator.
        router
            .nest("/_emulator", admin::routes(shared.clone()))
            .route(
                "/_emulator/",
                get(admin::about).layer(axum::middleware::from_fn_with_state(
                    shared.clone(),
                    admin::guard,
                )),
            )
    } else {
        router
    };
    router
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(shared)
}

/// Expires flows as their deadlines pass on the emulator's clock, once a second, with
/// their callbacks (calls that touch a flow also expire it first, so none sees it late).
async fn expire_deadlines(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.expire_due();
    }
}

/// Accepts connections until `stopped`, serving each with hyper so that a handler can ask
/// for its connection to be dropped.
/// One open connection, as the accept loop sees it: how many requests it is serving, and
/// whether it is being closed to make room.
#[derive(Default)]
struct Openness {
    in_flight: std::sync::atomic::AtomicUsize,
    closing: std::sync::atomic::AtomicBool,
}

impl Openness {
    /// Claims it for closing if it serves nothing: `closing` is set first, then `in_flight`
    /// read, while a request increments `in_flight` first, then reads `closing` (both
    /// SeqCst), so a request either is seen (the connection is kept) or sees the claim and
    /// is refused before anything runs.
    fn claim_if_idle(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        // A busy connection is passed over without a claim, so that the scan for an idle one
        // does not turn away a request that starts on it meanwhile.
        if self.in_flight.load(SeqCst) != 0 || self.closing.swap(true, SeqCst) {
            return false;
        }
        if self.in_flight.load(SeqCst) == 0 {
            return true;
        }
        self.closing.store(false, SeqCst);
        false
    }

    /// Starts a request; `false` when the connection is being closed (nothing runs).
    fn begin(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.in_flight.fetch_add(1, SeqCst);
        if self.closing.load(SeqCst) {
            self.in_flight.fetch_sub(1, SeqCst);
            return false;
        }
        true
    }

    fn end(&self) {
        self.in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A request being served, until dropped.
struct Busy(Arc<Openness>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Accepts connections until `stopped`, serving each with hyper so that a handler can ask
/// for its connection to be dropped. At `max_connections`, the oldest connection that is
/// serving nothing (idle between requests, or silent since it opened) is closed to make room,
/// as nginx closes keep-alive connections: idle sockets cannot lock a caller out. Only when
/// every connection is busy does a new one wait.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    mut stopped: oneshot::Receiver<()>,
    idle_timeout: Duration,
    max_connections: usize,
) {
    let mut connections = JoinSet::new();
    // Open connections, oldest first.
    let mut open: std::collections::VecDeque<(Arc<Openness>, tokio::task::AbortHandle)> =
        std::collections::VecDeque::new();
    loop {
        while connections.try_join_next().is_some() {}
        open.retain(|(_, task)| !task.is_finished());
        if connections.len() >= max_connections {
            let idle = open
                .iter()
                .position(|(openness, _)| openness.claim_if_idle());
            match idle {
                Some(index) => {
                    if let Some((_, task)) = open.remove(index) {
                        task.abort();
                    }
                    // Reaped on the next turn.
                    let _ = connections.join_next().await;
                    continue;
                }
                None => {
                    tokio::select! {
                        _ = &mut stopped => break,
                        _ = connections.join_next() => continue,
                    }
                }
            }
        }
        let (stream, _) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let openness = Arc::new(Openness::default());
        let this = openness.clone();
        let task = connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut router = router.clone();
                    let openness = this.clone();
                    async move {
                        if !openness.begin() {
                            return Err(DroppedOnPurpose);
                        }
                        // Busy until its answer is written (or given up): the guard goes
                        // with the body, which hyper drops once it has sent it.
                        let busy = Busy(openness);
                        let response = match router.call(request.map(Body::new)).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        };
                        if response.extensions().get::<DropConnection>().is_some() {
                            return Err(DroppedOnPurpose);
                        }
                        Ok(response.map(|body| {
                            Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
                                let _ = &busy;
                                frame
                            }))
                        }))
                    }
                },
            );
            // hyper's header-read timeout also runs while a kept-alive connection waits for
            // its next request, so it bounds idle connections too.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(idle_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        open.push_back((openness, task));
    }
    connections.abort_all();
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct DroppedOnPurpose;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_api_is_served_on_loopback_unless_configured() {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 8080));
        let any = SocketAddr::from(([0, 0, 0, 0], 8080));
        let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080));
        assert!(admin_served(None, loopback));
        assert!(admin_served(None, v6));
        assert!(!admin_served(None, any));
        assert!(admin_served(Some(true), any));
        assert!(!admin_served(Some(false), loopback));
    }

    #[test]
    fn the_log_keeps_within_its_count_and_bytes() {
        let record = |bytes: usize| Record {
            action: String::new(),
            secret_id: Some("k".to_owned()),
            body: Bytes::from(vec![b' '; bytes]),
            body_bytes: bytes,
            code: None,
            fault: None,
            request_id: String::new(),
            received_at_ms: 0,
            arrived: std::time::Instant::now(),
            headers: Vec::new(),
        };
        let mut log = Log::default();
        for _ in 0..RECEIVED_CAPACITY + 5 {
            log.push(record(0));
        }
        assert_eq!(log.records.len(), RECEIVED_CAPACITY);
        log.clear();
        for _ in 0..70 {
            log.push(record(RECORDED_BODY_BYTES));
        }
        assert!(log.bytes <= RECORDED_BYTES, "{}", log.bytes);
        assert_eq!(
            log.records.len(),
            RECORDED_BYTES / (RECORDED_BODY_BYTES + 512)
        );
    }
}
