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
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::auth::{Key, Verifier};
use crate::callbacks::{self, CallbackDelivery, CallbackFault, CallbackTarget, Callbacks};
use crate::catalog::Catalog;
use crate::faults::{Fault, FaultRule};
use crate::flows::Flows;
use crate::limit::Limiter;
use crate::schema::{self, Schema};
use crate::{api, pages};

/// The largest request body accepted (the service's own limit is 10 MB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How many received calls [`Emulator::received`] keeps (the oldest go first).
pub const RECEIVED_CAPACITY: usize = 10_000;
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
}

impl Credential {
    /// A permanent key pair.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
            expires_at: None,
        }
    }

    /// A fresh random key pair (the emulator's default; not for anything but tests).
    pub fn generate() -> Self {
        let random = |n: usize| (0..n).map(|_| fastrand::alphanumeric()).collect::<String>();
        Self::new(format!("AKIDemu{}", random(30)), random(32))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A call the emulator received, and how it answered.
#[derive(Clone)]
pub struct Received {
    /// `X-TC-Action` as sent (empty when missing).
    pub action: String,
    /// The SecretId it was signed with, once verified.
    pub secret_id: Option<String>,
    /// The JSON body (`Null` when it was not JSON).
    pub body: Value,
    /// The error code answered; `None` for a success.
    pub code: Option<String>,
    /// The fault injected into the answer, if any.
    pub fault: Option<Fault>,
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
            .finish()
    }
}

/// A received call as logged: the body stays the bytes that arrived (shared, not copied)
/// and is parsed only when inspected, so logging costs the hot path nothing.
pub(crate) struct Record {
    pub(crate) action: String,
    pub(crate) secret_id: Option<String>,
    pub(crate) body: Bytes,
    pub(crate) code: Option<String>,
    pub(crate) fault: Option<Fault>,
}

impl Record {
    fn to_received(&self) -> Received {
        Received {
            action: self.action.clone(),
            secret_id: self.secret_id.clone(),
            body: serde_json::from_slice(&self.body).unwrap_or(Value::Null),
            code: self.code.clone(),
            fault: self.fault.clone(),
        }
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct Builder {
    listen: SocketAddr,
    credentials: Vec<Credential>,
    faults: Vec<FaultRule>,
    clock_offset: i64,
    seed_demo: bool,
    rate_limits: bool,
    threads: usize,
    callbacks: Vec<CallbackTarget>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: Vec::new(),
            faults: Vec::new(),
            clock_offset: 0,
            seed_demo: true,
            rate_limits: true,
            threads: 1,
            callbacks: Vec::new(),
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

    /// Run the emulator's clock this many seconds ahead of the machine's (negative: behind).
    pub fn clock_offset(mut self, seconds: i64) -> Self {
        self.clock_offset = seconds;
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
                };
                (c.secret_id.clone(), key)
            })
            .collect();
        let (callbacks, outbox) = Callbacks::new(self.callbacks);
        let shared = Arc::new(Shared {
            schema,
            verifier: Verifier::new(keys, &schema.signing_service),
            limiter: self.rate_limits.then(Limiter::default),
            faults: Mutex::new(self.faults),
            clock_offset: AtomicI64::new(self.clock_offset),
            received: Mutex::new(VecDeque::new()),
            flows: Mutex::new(Flows::default()),
            catalog: Mutex::new(Catalog::default()),
            callbacks,
            url: url.clone(),
        });
        if self.seed_demo {
            lock(&shared.flows).seed_demo(shared.now());
        }
        let (stop, stopped) = oneshot::channel();
        let (done, finished) = oneshot::channel();
        let router = router(shared.clone());
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
                    let sending = tokio::spawn(callbacks::deliver(sender, outbox));
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, router, stopped).await,
                        Err(e) => tracing::error!(error = %e, "cannot serve"),
                    }
                    sending.abort();
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

    /// The calls received so far (at most [`RECEIVED_CAPACITY`], oldest first).
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received)
            .iter()
            .map(Record::to_received)
            .collect()
    }

    /// The calls of `action` received so far.
    pub fn received_for(&self, action: &str) -> Vec<Received> {
        lock(&self.shared.received)
            .iter()
            .filter(|r| r.action == action)
            .map(Record::to_received)
            .collect()
    }

    /// Forgets the received calls.
    pub fn clear_received(&self) {
        lock(&self.shared.received).clear();
    }

    /// Adds a fault rule; rules apply in the order added.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Runs the emulator's clock `seconds` ahead of the machine's (negative: behind). Its
    /// signature window and `Date` header follow this clock.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.shared.clock_offset.store(seconds, Ordering::Relaxed);
    }

    /// A flow's status and its signers' statuses (DescribeFlowInfo's numbers).
    pub fn flow_status(&self, flow_id: &str) -> Option<(i64, Vec<i64>)> {
        let flows = lock(&self.shared.flows);
        let flow = flows.get(flow_id)?;
        Some((
            flow.status,
            flow.approvers.iter().map(|a| a.status).collect(),
        ))
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
    /// (an URL already registered stays as it is).
    pub fn add_callback(&self, target: CallbackTarget) {
        self.shared.callbacks.add(target);
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
    faults: Mutex<Vec<FaultRule>>,
    clock_offset: AtomicI64,
    received: Mutex<VecDeque<Record>>,
    pub(crate) flows: Mutex<Flows>,
    pub(crate) catalog: Mutex<Catalog>,
    pub(crate) callbacks: Callbacks,
    pub(crate) url: String,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The emulator's clock, with the offset.
    pub(crate) fn now_time(&self) -> SystemTime {
        let offset = self.clock_offset.load(Ordering::Relaxed);
        let magnitude = Duration::from_secs(offset.unsigned_abs());
        if offset >= 0 {
            SystemTime::now() + magnitude
        } else {
            SystemTime::now() - magnitude
        }
    }

    /// The emulator's clock: Unix seconds, with the offset.
    pub(crate) fn now(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        local + self.clock_offset.load(Ordering::Relaxed)
    }

    pub(crate) fn take_fault(&self, action: &str, after: bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let rule = faults.iter_mut().find(|r| r.matches(action, after))?;
        if let Some(n) = &mut rule.remaining {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    pub(crate) fn record(&self, received: Record) {
        let mut log = lock(&self.received);
        if log.len() == RECEIVED_CAPACITY {
            log.pop_front();
        }
        log.push_back(received);
    }
}

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy)]
pub(crate) struct DropConnection;

fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/", get(api::index).post(api::call))
        .route("/sign/{token}", get(pages::sign_page).post(pages::sign))
        .route("/s/{token}", get(pages::short_link))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(shared)
}

/// Accepts connections until `stopped`, serving each with hyper so that a handler can ask
/// for its connection to be dropped.
async fn serve(listener: TcpListener, router: axum::Router, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONNECTIONS {
            tokio::select! {
                _ = &mut stopped => break,
                _ = connections.join_next() => continue,
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
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut router = router.clone();
                    async move {
                        let response = match router.call(request.map(Body::new)).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        };
                        if response.extensions().get::<DropConnection>().is_some() {
                            return Err(DroppedOnPurpose);
                        }
                        Ok(response)
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.abort_all();
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct DroppedOnPurpose;
