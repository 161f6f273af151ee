//! The running emulator: [`Emulator`] (start, URL, credentials, inspection, faults, stop),
//! the API pipeline of one call (faults, TC3, action and version, rate limit, spec check,
//! idempotency, handler), and the HTTP plumbing that can also drop a connection on purpose.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::auth::{Key, Verifier};
use crate::faults::{Fault, FaultRule};
use crate::flows::{Flows, SignRefusal};
use crate::limit::Limiter;
use crate::pages;
use crate::schema::{self, Problem, Schema};

/// The largest request body accepted (the service's own limit is 10 MB).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How many received calls [`Emulator::received`] keeps (the oldest go first).
pub const RECEIVED_CAPACITY: usize = 10_000;
/// How many ClientToken answers are remembered for idempotent replays.
const IDEMPOTENCY_CAPACITY: usize = 10_000;
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
}

impl Credential {
    /// A permanent key pair.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
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
struct Record {
    action: String,
    secret_id: Option<String>,
    body: Bytes,
    code: Option<String>,
    fault: Option<Fault>,
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
                };
                (c.secret_id.clone(), key)
            })
            .collect();
        let shared = Arc::new(Shared {
            schema,
            verifier: Verifier::new(keys, &schema.signing_service),
            limiter: self.rate_limits.then(Limiter::default),
            faults: Mutex::new(self.faults),
            clock_offset: AtomicI64::new(self.clock_offset),
            received: Mutex::new(VecDeque::new()),
            flows: Mutex::new(Flows::default()),
            replays: Mutex::new(Replays::default()),
            url: url.clone(),
        });
        if self.seed_demo {
            lock(&shared.flows).seed_demo(shared.now());
        }
        let (stop, stopped) = oneshot::channel();
        let (done, finished) = oneshot::channel();
        let router = router(shared.clone());
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
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, router, stopped).await,
                        Err(e) => tracing::error!(error = %e, "cannot serve"),
                    }
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
struct Shared {
    schema: &'static Schema,
    verifier: Verifier,
    limiter: Option<Limiter>,
    faults: Mutex<Vec<FaultRule>>,
    clock_offset: AtomicI64,
    received: Mutex<VecDeque<Record>>,
    flows: Mutex<Flows>,
    replays: Mutex<Replays>,
    url: String,
}

/// Answers remembered by (SecretId, action, ClientToken), so a retried write with the same
/// token gets the first answer instead of running again.
#[derive(Default)]
struct Replays {
    answers: HashMap<(String, String, String), Map<String, Value>>,
    order: VecDeque<(String, String, String)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The emulator's clock: Unix seconds, with the offset.
    fn now(&self) -> i64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        local + self.clock_offset.load(Ordering::Relaxed)
    }

    fn take_fault(&self, action: &str, after: bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let rule = faults.iter_mut().find(|r| r.matches(action, after))?;
        if let Some(n) = &mut rule.remaining {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    fn record(&self, received: Record) {
        let mut log = lock(&self.received);
        if log.len() == RECEIVED_CAPACITY {
            log.pop_front();
        }
        log.push_back(received);
    }
}

/// Marks a response whose connection must be closed without sending it.
#[derive(Clone, Copy)]
struct DropConnection;

fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/", get(index).post(api))
        .route("/sign/{token}", get(sign_page).post(sign))
        .route("/s/{token}", get(short_link))
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

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let text = format!(
        "ess emulator (API version {}): POST TC3-signed JSON calls to {}/\n",
        shared.schema.version, shared.url
    );
    (StatusCode::OK, text).into_response()
}

/// One API call, from the raw request to the JSON answer.
async fn api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let action = header_text(&parts.headers, "x-tc-action").to_owned();
    let mut received = Record {
        action,
        secret_id: None,
        body: Bytes::new(),
        code: None,
        fault: None,
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return shared.refuse(
                received,
                "RequestSizeLimitExceeded",
                format!("the body exceeds {MAX_BODY_BYTES} bytes"),
            );
        }
    };
    received.body = body.clone();
    // Like a real server, a call that has arrived runs to the end even if the client hangs
    // up (times out) meanwhile: the case where the caller cannot know whether it executed.
    let task = tokio::spawn(process(shared, parts, body, received));
    task.await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn process(
    shared: Arc<Shared>,
    parts: axum::http::request::Parts,
    body: Bytes,
    mut received: Record,
) -> Response {
    let action = received.action.clone();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(fault) = shared.take_fault(&action, false) {
        if let Fault::Delay(delay) = fault {
            tokio::time::sleep(delay).await;
        } else {
            received.code = Some(format!("fault:{fault}"));
            received.fault = Some(fault.clone());
            shared.record(received);
            return faulty(&shared, fault, None);
        }
    }
    let answer = shared.answer(
        &parts.headers,
        &parts.method,
        &parts.uri,
        &body,
        &parsed,
        &mut received,
    );
    let after = answer
        .is_ok()
        .then(|| shared.take_fault(&action, true))
        .flatten();
    let (envelope, code) = shared.envelope(answer);
    received.code = code;
    match after {
        None => {
            shared.record(received);
            json_response(&shared, envelope)
        }
        Some(Fault::Delay(delay)) => {
            received.fault = Some(Fault::Delay(delay));
            shared.record(received);
            tokio::time::sleep(delay).await;
            json_response(&shared, envelope)
        }
        Some(fault) => {
            received.fault = Some(fault.clone());
            shared.record(received);
            faulty(&shared, fault, Some(envelope))
        }
    }
}

type Answer = Result<Map<String, Value>, (&'static str, String)>;

impl Shared {
    /// Authenticates, routes and runs one call.
    fn answer(
        &self,
        headers: &HeaderMap,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        body: &Bytes,
        parsed: &Value,
        received: &mut Record,
    ) -> Answer {
        let secret_id = self
            .verifier
            .verify(
                headers,
                method.as_str(),
                uri.path(),
                uri.query().unwrap_or_default(),
                body,
                self.now(),
            )
            .map_err(|r| (r.code, r.message))?;
        received.secret_id = Some(secret_id.to_owned());
        let name = header_text(headers, "x-tc-action");
        if name.is_empty() {
            return Err((
                "MissingParameter",
                "the X-TC-Action header is missing".to_owned(),
            ));
        }
        let Some(action) = self.schema.action(name) else {
            return Err((
                "InvalidAction",
                "the action is not an action of ess 2020-11-11".to_owned(),
            ));
        };
        match header_text(headers, "x-tc-version") {
            "" => {
                return Err((
                    "MissingParameter",
                    "the X-TC-Version header is missing".to_owned(),
                ));
            }
            v if v != self.schema.version => {
                return Err((
                    "NoSuchVersion",
                    format!("ess has no API version `{v}`; use {}", self.schema.version),
                ));
            }
            _ => {}
        }
        if let (Some(limiter), Some(limit)) = (&self.limiter, action.rate_limit)
            && !limiter.admit(secret_id, action.name, limit, Instant::now())
        {
            return Err((
                "RequestLimitExceeded",
                format!(
                    "{} allows {limit} calls per second per SecretId",
                    action.name
                ),
            ));
        }
        let content_type = header_text(headers, "content-type");
        if !content_type.starts_with("application/json") {
            return Err((
                "InvalidParameter",
                "the emulator takes JSON bodies (Content-Type: application/json)".to_owned(),
            ));
        }
        let Value::Object(request) = parsed else {
            return Err((
                "InvalidParameter",
                "the body must be a JSON object".to_owned(),
            ));
        };
        let problems = self.schema.check(action, request);
        if let Some(first) = problems.first() {
            return Err((first.code, describe_problems(&problems)));
        }
        let token = request
            .get("ClientToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(|t| (secret_id.to_owned(), action.name.to_owned(), t.to_owned()));
        if let Some(key) = &token
            && let Some(answer) = lock(&self.replays).answers.get(key)
        {
            return Ok(answer.clone());
        }
        let answer = self.run(action.name, request, action)?;
        if let Some(key) = token {
            let mut replays = lock(&self.replays);
            if replays.order.len() == IDEMPOTENCY_CAPACITY
                && let Some(oldest) = replays.order.pop_front()
            {
                replays.answers.remove(&oldest);
            }
            replays.order.push_back(key.clone());
            replays.answers.insert(key, answer.clone());
        }
        Ok(answer)
    }

    fn run(&self, name: &str, request: &Map<String, Value>, action: &schema::ActionDef) -> Answer {
        let now = self.now();
        let mut flows = lock(&self.flows);
        let result = match name {
            "CreateFlow" => flows.create(request, now, false),
            "CreateFlowByFiles" => flows.create(request, now, true),
            "CreateDocument" => flows.create_document(request, &self.url),
            "StartFlow" => flows.start(request),
            "CreateFlowSignUrl" => flows.sign_urls(request, now, &self.url),
            "DescribeFlowInfo" => flows.describe(request),
            "CancelFlow" => flows.cancel(request),
            _ => Ok(self.schema.example_response(action)),
        };
        result.map_err(|r| (r.code, r.message))
    }

    /// `{"Response": {...}}` with a RequestId, and the error code if it is an error.
    fn envelope(
        &self,
        answer: Result<Map<String, Value>, (&str, String)>,
    ) -> (Value, Option<String>) {
        let request_id = request_id();
        match answer {
            Ok(mut response) => {
                response.insert("RequestId".to_owned(), Value::String(request_id));
                (envelope_of(response), None)
            }
            Err((code, message)) => {
                let mut response = Map::new();
                let mut error = Map::new();
                error.insert("Code".to_owned(), Value::String(code.to_owned()));
                error.insert("Message".to_owned(), Value::String(message));
                response.insert("Error".to_owned(), Value::Object(error));
                response.insert("RequestId".to_owned(), Value::String(request_id));
                (envelope_of(response), Some(code.to_owned()))
            }
        }
    }

    fn refuse(&self, mut received: Record, code: &'static str, message: String) -> Response {
        let (envelope, code) = self.envelope(Err((code, message)));
        received.code = code;
        self.record(received);
        json_response(self, envelope)
    }

    fn date(&self) -> HeaderValue {
        let at = UNIX_EPOCH + Duration::from_secs(self.now().max(0) as u64);
        HeaderValue::from_str(&httpdate::fmt_http_date(at)).unwrap_or(HeaderValue::from_static(""))
    }
}

fn envelope_of(response: Map<String, Value>) -> Value {
    let mut envelope = Map::new();
    envelope.insert("Response".to_owned(), Value::Object(response));
    Value::Object(envelope)
}

/// Every problem, each with its path; the code is the first problem's.
fn describe_problems(problems: &[Problem]) -> String {
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{} ({})", p.message, p.code))
        .collect();
    list.join("; ")
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn request_id() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
            .collect()
    };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

/// HTTP 200, exactly `Content-Type: application/json` (the Python SDK recognises errors only
/// with that header), and a `Date` from the emulator's clock.
fn json_response(shared: &Shared, envelope: Value) -> Response {
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::DATE, shared.date());
    response
}

fn faulty(shared: &Shared, fault: Fault, envelope: Option<Value>) -> Response {
    let html = |status: StatusCode, text: &str| {
        let mut response = (status, pages::error_page(text)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response.headers_mut().insert(header::DATE, shared.date());
        response
    };
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            html(status, &format!("{code} (injected by the emulator)"))
        }
        Fault::Html => html(
            StatusCode::OK,
            "The service is busy (an HTML page injected by the emulator)",
        ),
        Fault::Drop => {
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(DropConnection);
            response
        }
        Fault::Truncated => {
            let envelope = envelope.unwrap_or_else(|| shared.envelope(Ok(Map::new())).0);
            let mut body = serde_json::to_vec(&envelope).unwrap_or_default();
            body.truncate(body.len() / 2);
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Fault::Error { code, message } => {
            json_response(shared, shared.envelope(Err((&code, message))).0)
        }
        Fault::Delay(_) => json_response(shared, envelope.unwrap_or(Value::Null)),
    }
}

async fn short_link(Path(token): Path<String>) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/sign/{token}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn sign_page(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let now = shared.now();
    let flows = lock(&shared.flows);
    match flows.link(&token) {
        None => (
            StatusCode::NOT_FOUND,
            pages::error_page("This link does not exist."),
        )
            .into_response(),
        Some((link, _)) if link.expires_at <= now => {
            (StatusCode::GONE, pages::expired_page(link.expires_at)).into_response()
        }
        Some((link, flow)) => pages::sign_page(&token, link, flow, now).into_response(),
    }
}

async fn sign(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let now = shared.now();
    let result = lock(&shared.flows).sign(&token, now);
    match result {
        Ok(Some(jump)) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) = HeaderValue::from_str(&jump) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Ok(None) => (StatusCode::OK, pages::signed_page()).into_response(),
        Err(refusal) => {
            let (status, text) = match refusal {
                SignRefusal::NotFound => (StatusCode::NOT_FOUND, "This link does not exist."),
                SignRefusal::Expired => (StatusCode::GONE, "This link has expired."),
                SignRefusal::PreviewOnly => (
                    StatusCode::FORBIDDEN,
                    "This is a preview link: it cannot sign.",
                ),
                SignRefusal::FlowClosed => (
                    StatusCode::CONFLICT,
                    "The contract is not open for signing.",
                ),
                SignRefusal::AlreadySigned => {
                    (StatusCode::CONFLICT, "This signer has already signed.")
                }
            };
            (status, pages::error_page(text)).into_response()
        }
    }
}
