//! Callbacks the emulator sends, as ESS does: every flow change it models (start; sign, and
//! finish on completion; cancel) is posted as a FlowStatusChange to each registered URL,
//! version 2 (`{"encrypt": ...}`, AES-256-CBC with the URL's key), signed when the URL has a
//! token. Anything but HTTP 200 is sent again with backoff, a bounded number of times, from
//! a bounded queue. URLs come from ModifyApplicationCallbackInfo, the in-process API and the
//! binary's flags. Faults make deliveries duplicate, out of order, late or version 1.
//!
//! Only plain `http://` URLs are reached (a test's local receiver); an https URL is recorded
//! as a failed delivery.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ess_runtime::callback::{CallbackFormat, CallbackKeys, Sealed};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::control::ControlError;
use crate::faults::MAX_FAULT_DELAY;
use crate::flows::{Refused, Why, refused};
use crate::server::lock;

/// Messages waiting to be sent; more are recorded as failed, not queued.
pub const CALLBACK_QUEUE: usize = 1024;
/// Deliveries the emulator remembers (the oldest are forgotten first).
pub const CALLBACK_LOG: usize = 1024;
/// Attempts per message and URL: the first and the re-sends.
pub const CALLBACK_ATTEMPTS: u32 = 4;
/// The wait before the first re-send; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Registered URLs at most (the service's own limit is not documented).
const MAX_TARGETS: usize = 16;

/// A URL callbacks go to, with its key (32 characters; none: callbacks go as plain JSON)
/// and optional token.
#[derive(Clone)]
pub struct CallbackTarget {
    url: String,
    key: String,
    token: Option<String>,
}

impl std::fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl CallbackTarget {
    /// Callbacks to `url`, encrypted with `key` (32 ASCII characters), or sent as plain
    /// JSON when `key` is empty (as ESS sends them to a URL registered without a key).
    pub fn new(url: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key: key.into(),
            token: None,
        }
    }

    /// Signed with `token` too.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Its key is the 32 characters of an AES-256 key, or none (plain JSON).
    pub(crate) fn check(&self) -> Result<(), ControlError> {
        if self.key.is_empty() || self.key.len() == ess_runtime::callback::KEY_LEN {
            Ok(())
        } else {
            Err(ControlError::Invalid(
                "a callback key is the 32 characters of an AES-256 key".to_owned(),
            ))
        }
    }

    /// A registration as ModifyApplicationCallbackInfo and the admin API take it: an empty
    /// key or token is none.
    pub(crate) fn registered(url: &str, key: &str, token: &str) -> Self {
        let target = Self::new(url, key);
        if token.is_empty() {
            target
        } else {
            target.token(token)
        }
    }

    fn keys(&self) -> Option<CallbackKeys> {
        match &self.token {
            Some(token) => CallbackKeys::new(&self.key, token).ok(),
            None => CallbackKeys::unsigned(&self.key).ok(),
        }
    }

    /// What to post: sealed with the key, or, without one, the envelope (or a version 1
    /// message's data) as plain JSON, signed when a token is set. `None` for a key that
    /// cannot be used.
    fn seal(&self, message: &Message, v1: bool) -> Option<Sealed> {
        let plaintext = if v1 { &message.data } else { &message.envelope };
        if self.key.is_empty() {
            let signature = self
                .token
                .as_deref()
                .map(|token| ess_runtime::callback::signature(token, plaintext));
            return Some(Sealed::plain(plaintext.clone(), signature));
        }
        let format = if v1 {
            CallbackFormat::V1
        } else {
            CallbackFormat::V2
        };
        Some(self.keys()?.seal(format, plaintext))
    }
}

/// How the emulator misdelivers, as ESS may: each applies to the next message only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackFault {
    /// Sent twice, the same MsgId both times.
    Duplicate,
    /// Held back and sent after the message that follows it (never, if none follows
    /// before the emulator stops).
    Reorder,
    /// Sent after this long.
    Delay(Duration),
    /// Sent in version 1: the bare data, base64 as a `text/plain` body.
    V1,
}

impl std::str::FromStr for CallbackFault {
    type Err = String;

    /// `duplicate`, `reorder`, `v1` or `delay:MS` (at most [`MAX_FAULT_DELAY`]).
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "duplicate" => CallbackFault::Duplicate,
            "reorder" => CallbackFault::Reorder,
            "v1" => CallbackFault::V1,
            other => match other
                .strip_prefix("delay:")
                .and_then(|ms| ms.parse::<u64>().ok())
                .map(Duration::from_millis)
            {
                Some(delay) if delay <= MAX_FAULT_DELAY => CallbackFault::Delay(delay),
                _ => {
                    return Err(format!(
                        "a callback fault is duplicate, reorder, v1 or delay:MS (at most {} ms)",
                        MAX_FAULT_DELAY.as_millis()
                    ));
                }
            },
        })
    }
}

/// What happened to one message at one URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CallbackDelivery {
    /// The URL.
    pub url: String,
    /// The message's id.
    pub msg_id: String,
    /// Its type (`FlowStatusChange`).
    pub msg_type: String,
    /// The flow it is about.
    pub flow_id: String,
    /// What happened to the flow (`start`, `sign`, `finish`, `cancel`).
    pub operate: String,
    /// The flow's status after it (FlowCallbackStatus).
    pub status: i64,
    /// Attempts made.
    pub attempts: u32,
    /// Whether an attempt got HTTP 200.
    pub delivered: bool,
    /// The last attempt's HTTP status, when it got an answer.
    pub last_status: Option<u16>,
}

/// One message: its envelope's facts and the plaintexts of both versions.
#[derive(Clone)]
struct Message {
    /// The reset epoch it was queued in.
    epoch: u64,
    msg_id: String,
    flow_id: String,
    operate: String,
    status: i64,
    /// `{"MsgId", "MsgType", "MsgVersion", "MsgData"}`.
    envelope: Vec<u8>,
    /// The bare data (version 1).
    data: Vec<u8>,
}

/// The callback state of an emulator.
pub(crate) struct Callbacks {
    targets: Mutex<Vec<CallbackTarget>>,
    /// The targets the emulator was launched with, which a reset restores.
    initial: Vec<CallbackTarget>,
    faults: Mutex<VecDeque<CallbackFault>>,
    queue: mpsc::Sender<(Message, Option<CallbackFault>)>,
    log: Mutex<VecDeque<CallbackDelivery>>,
    /// Bumped by a reset: messages queued (or being re-sent) before it are dropped, so one
    /// test's URLs, faults and re-sends never reach the next.
    epoch: AtomicU64,
    /// Wakes a sender that waits (a delay fault, a re-send's backoff) when a reset comes.
    reset_signal: tokio::sync::Notify,
}

/// What the sending task reads.
pub(crate) struct Outbox(mpsc::Receiver<(Message, Option<CallbackFault>)>);

impl Callbacks {
    pub(crate) fn new(targets: Vec<CallbackTarget>) -> (Callbacks, Outbox) {
        let (queue, outbox) = mpsc::channel(CALLBACK_QUEUE);
        let callbacks = Callbacks {
            initial: targets.clone(),
            targets: Mutex::new(targets),
            faults: Mutex::new(VecDeque::new()),
            queue,
            log: Mutex::new(VecDeque::new()),
            epoch: AtomicU64::new(0),
            reset_signal: tokio::sync::Notify::new(),
        };
        (callbacks, Outbox(outbox))
    }

    /// Registers `target`, whichever door it comes through (ModifyApplicationCallbackInfo,
    /// the admin API, `Emulator::add_callback`); an URL already registered is left as it is
    /// (as the service does). Refused: a key that is not the 32 characters of an AES-256 key
    /// (none: plain JSON), or the emulator's bound on URLs.
    pub(crate) fn add(&self, target: CallbackTarget) -> Result<(), ControlError> {
        target.check()?;
        let mut targets = lock(&self.targets);
        if targets.iter().any(|t| t.url == target.url) {
            return Ok(());
        }
        if targets.len() >= MAX_TARGETS {
            return Err(ControlError::Full(format!(
                "the emulator keeps at most {MAX_TARGETS} callback URLs"
            )));
        }
        targets.push(target);
        Ok(())
    }

    /// Removes the URL's registration.
    pub(crate) fn remove(&self, url: &str) {
        lock(&self.targets).retain(|t| t.url != url);
    }

    pub(crate) fn urls(&self) -> Vec<String> {
        lock(&self.targets).iter().map(|t| t.url.clone()).collect()
    }

    pub(crate) fn inject(&self, fault: CallbackFault) {
        lock(&self.faults).push_back(fault);
    }

    /// Back to the launch: its URLs only, no fault queued, an empty delivery log, and
    /// nothing queued or being re-sent from before.
    pub(crate) fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        *lock(&self.targets) = self.initial.clone();
        lock(&self.faults).clear();
        lock(&self.log).clear();
        self.reset_signal.notify_waiters();
    }

    /// Waits `wait` before going on with `message`; `false` (at once) when a reset comes
    /// meanwhile or came before.
    async fn pause(&self, message: &Message, wait: Duration) -> bool {
        let reset = self.reset_signal.notified();
        tokio::pin!(reset);
        // Registered before the check, so a reset between the two still wakes it.
        reset.as_mut().enable();
        if !self.current(message) {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => self.current(message),
            () = reset => false,
        }
    }

    fn current(&self, message: &Message) -> bool {
        message.epoch == self.epoch.load(Ordering::SeqCst)
    }

    pub(crate) fn deliveries(&self) -> Vec<CallbackDelivery> {
        lock(&self.log).iter().cloned().collect()
    }

    fn record(&self, delivery: CallbackDelivery) {
        let mut log = lock(&self.log);
        if log.len() == CALLBACK_LOG {
            log.pop_front();
        }
        log.push_back(delivery);
    }

    /// Queues a FlowStatusChange with `data` (the flow's MsgData) for every URL.
    pub(crate) fn flow_changed(&self, data: Map<String, Value>) {
        if lock(&self.targets).is_empty() {
            return;
        }
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
        let msg_id = crate::flows::new_id().to_lowercase();
        let message = Message {
            epoch: self.epoch.load(Ordering::SeqCst),
            msg_id: msg_id.clone(),
            flow_id: text("FlowId").to_owned(),
            operate: text("Operate").to_owned(),
            status: data
                .get("FlowCallbackStatus")
                .and_then(Value::as_i64)
                .unwrap_or_default(),
            envelope: json!({
                "MsgId": msg_id,
                "MsgType": "FlowStatusChange",
                "MsgVersion": "CustomApp",
                "MsgData": &data,
            })
            .to_string()
            .into_bytes(),
            data: Value::Object(data).to_string().into_bytes(),
        };
        let fault = lock(&self.faults).pop_front();
        if self.queue.try_send((message.clone(), fault)).is_err() {
            for url in self.urls() {
                self.record(message.delivery(&url, 0, false, None));
            }
        }
    }
}

impl Callbacks {
    /// ModifyApplicationCallbackInfo: OperateType 1 adds the URL (an URL already present
    /// stays as it is), 2 removes it. Without a CallbackKey the registration stands and
    /// callbacks go as plain JSON, as ESS sends them; the shape of those is unconfirmed, and
    /// the emulator sends the envelope an encrypted one holds. A key given must be the
    /// 32 characters of an AES-256 key.
    pub(crate) fn modify(
        &self,
        request: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Refused> {
        let info = request
            .get("CallbackInfo")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let text = |key: &str| info.get(key).and_then(Value::as_str).unwrap_or_default();
        let url = text("CallbackUrl");
        match request.get("OperateType").and_then(Value::as_i64) {
            Some(1) => {
                let target =
                    CallbackTarget::registered(url, text("CallbackKey"), text("CallbackToken"));
                self.add(target).map_err(|e| match e {
                    ControlError::Full(why) => refused(Why::CallbackCapacity, why),
                    other => refused(
                        Why::BadCallbackInfo,
                        format!("`CallbackInfo.CallbackKey`: {other}"),
                    ),
                })?;
            }
            Some(2) => self.remove(url),
            _ => {
                return Err(refused(
                    Why::BadCallbackInfo,
                    "`OperateType` is 1 (add) or 2 (remove)",
                ));
            }
        }
        Ok(Map::new())
    }
}

impl Message {
    fn delivery(
        &self,
        url: &str,
        attempts: u32,
        delivered: bool,
        last_status: Option<u16>,
    ) -> CallbackDelivery {
        CallbackDelivery {
            url: url.to_owned(),
            msg_id: self.msg_id.clone(),
            msg_type: "FlowStatusChange".to_owned(),
            flow_id: self.flow_id.clone(),
            operate: self.operate.clone(),
            status: self.status,
            attempts,
            delivered,
            last_status,
        }
    }
}

/// Sends what is queued until the emulator stops, one message at a time, in order (but for
/// the faults).
pub(crate) async fn deliver(shared: std::sync::Arc<crate::server::Shared>, outbox: Outbox) {
    let Outbox(mut outbox) = outbox;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut held: Option<(Message, bool)> = None;
    while let Some((message, fault)) = outbox.recv().await {
        if !shared.callbacks.current(&message) {
            continue;
        }
        if held
            .as_ref()
            .is_some_and(|(earlier, _)| !shared.callbacks.current(earlier))
        {
            held = None;
        }
        let mut v1 = false;
        match fault {
            Some(CallbackFault::Reorder) => {
                if let Some((earlier, earlier_v1)) = held.replace((message, false)) {
                    send(&shared.callbacks, &client, &earlier, earlier_v1).await;
                }
                continue;
            }
            // Reset while it waited: dropped.
            Some(CallbackFault::Delay(wait)) if !shared.callbacks.pause(&message, wait).await => {
                continue;
            }
            Some(CallbackFault::Delay(_)) => {}
            Some(CallbackFault::V1) => v1 = true,
            Some(CallbackFault::Duplicate) => {
                send(&shared.callbacks, &client, &message, v1).await;
            }
            None => {}
        }
        send(&shared.callbacks, &client, &message, v1).await;
        if let Some((earlier, earlier_v1)) = held.take() {
            send(&shared.callbacks, &client, &earlier, earlier_v1).await;
        }
    }
}

/// One message to every URL, re-sent with backoff until HTTP 200 or the attempts run out.
async fn send(
    callbacks: &Callbacks,
    client: &Client<HttpConnector, Full<Bytes>>,
    message: &Message,
    v1: bool,
) {
    let targets = lock(&callbacks.targets).clone();
    for target in targets {
        if !callbacks.current(message) {
            return;
        }
        let Some(sealed) = target.seal(message, v1) else {
            callbacks.record(message.delivery(&target.url, 0, false, None));
            continue;
        };
        let mut attempts = 0;
        let mut last_status = None;
        let mut backoff = FIRST_BACKOFF;
        let delivered = loop {
            attempts += 1;
            let mut request = http::Request::post(target.url.as_str())
                .header(http::header::CONTENT_TYPE, sealed.content_type);
            if let Some(signature) = &sealed.signature {
                request = request.header("Content-Signature", signature.as_str());
            }
            let status = match request.body(Full::new(Bytes::from(sealed.body.clone()))) {
                Ok(request) => {
                    match tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(request)).await {
                        Ok(Ok(response)) => {
                            let status = response.status().as_u16();
                            // Read (and drop) the answer so the connection can be reused.
                            let _ = tokio::time::timeout(
                                ATTEMPT_TIMEOUT,
                                http_body_util::Limited::new(response.into_body(), 64 * 1024)
                                    .collect(),
                            )
                            .await;
                            Some(status)
                        }
                        _ => None,
                    }
                }
                // Not a URL hyper can send to (https, or malformed): no attempt helps.
                Err(_) => break false,
            };
            last_status = status.or(last_status);
            if status == Some(200) {
                break true;
            }
            if attempts >= CALLBACK_ATTEMPTS {
                break false;
            }
            // A reset meanwhile ends this test's re-sends here, unrecorded.
            if !callbacks.pause(message, backoff).await {
                return;
            }
            backoff *= 2;
        };
        callbacks.record(message.delivery(&target.url, attempts, delivered, last_status));
    }
}
