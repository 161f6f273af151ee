//! A callback receiver on axum: what ESS posts to the URL an enterprise registered (console,
//! or ModifyApplicationCallbackInfo), verified, decrypted and decoded into typed events.
//!
//! ```text
//! ESS_CALLBACK_KEY=<32 characters> ESS_CALLBACK_TOKEN=<token> \
//!     cargo run -p ess-generated --example callback_server -- [--listen 127.0.0.1:8090]
//! ```
//!
//! What a receiver must do, and this one does:
//! - answer 200 to what it accepted (anything else makes ESS send it again), and to probes;
//! - refuse what does not verify or decrypt (401 or 400; nothing of it is read or logged);
//! - dedupe on MsgId: a re-sent message is acknowledged and not applied twice;
//! - move each flow only forward: delivery order is not guaranteed (a "signed by all" may
//!   arrive before the "started"), and a terminal status is final.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use ess_generated::callback::{CallbackError, CallbackKeys, Delivery};
use ess_generated::{CallbackEvent, FlowCallbackStatus};

/// How many MsgIds the receiver remembers to dedupe re-sends (the oldest are forgotten
/// first). A real service keeps them in its database, with the flows.
const REMEMBERED_MSG_IDS: usize = 100_000;

/// What the receiver knows: each flow's latest status, and the messages already applied.
#[derive(Default)]
pub(crate) struct Flows {
    statuses: HashMap<String, FlowCallbackStatus>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    /// Events received, duplicates and stale deliveries included (for the demo's output).
    pub(crate) received: usize,
    /// Re-sent messages that were acknowledged and not applied.
    pub(crate) duplicates: usize,
    /// Deliveries older than what the receiver already knew (not applied).
    pub(crate) stale: usize,
}

impl Flows {
    /// A flow's latest status.
    pub(crate) fn status(&self, flow_id: &str) -> Option<&FlowCallbackStatus> {
        self.statuses.get(flow_id)
    }

    /// Whether `msg_id` is new (and now remembered).
    fn first_time(&mut self, msg_id: &str) -> bool {
        if self.seen.contains(msg_id) {
            return false;
        }
        if self.seen_order.len() == REMEMBERED_MSG_IDS
            && let Some(oldest) = self.seen_order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(msg_id.to_owned());
        self.seen_order.push_back(msg_id.to_owned());
        true
    }

    /// Applies a flow's new status if it moves the flow forward.
    fn advance(&mut self, flow_id: &str, status: FlowCallbackStatus) {
        let forward = match self.statuses.get(flow_id) {
            None => true,
            Some(current) => stage(&status) > stage(current),
        };
        if forward {
            self.statuses.insert(flow_id.to_owned(), status);
        } else {
            self.stale += 1;
        }
    }
}

/// How far along a status is: created (or waiting to be filled), signing, then a terminal
/// status, which nothing after it replaces. A status this crate does not know is not applied
/// over a known one.
fn stage(status: &FlowCallbackStatus) -> u8 {
    match status {
        FlowCallbackStatus::Created | FlowCallbackStatus::WaitingForFill => 1,
        FlowCallbackStatus::Signing => 2,
        FlowCallbackStatus::Rejected
        | FlowCallbackStatus::AllSigned
        | FlowCallbackStatus::Expired
        | FlowCallbackStatus::Cancelled
        | FlowCallbackStatus::Invalid
        | FlowCallbackStatus::Released => 3,
        _ => 0,
    }
}

/// The receiver's state: the URL's keys and what it learned.
pub(crate) struct App {
    keys: CallbackKeys,
    pub(crate) flows: Mutex<Flows>,
}

impl App {
    pub(crate) fn new(keys: CallbackKeys) -> Arc<App> {
        Arc::new(App {
            keys,
            flows: Mutex::new(Flows::default()),
        })
    }
}

/// `POST /` receives callbacks; `GET /flows/{flow_id}` tells a flow's latest status.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", post(receive))
        .route("/flows/{flow_id}", get(flow_status))
        .with_state(app)
}

async fn flow_status(
    State(app): State<Arc<App>>,
    Path(flow_id): Path<String>,
) -> Result<String, StatusCode> {
    let flows = app.flows.lock().unwrap_or_else(|p| p.into_inner());
    let status = flows.status(&flow_id).ok_or(StatusCode::NOT_FOUND)?;
    Ok(format!("{status:?}\n"))
}

async fn receive(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> StatusCode {
    // Read through the receiver's own size cap and timeout.
    let callback = match app
        .keys
        .receive_body::<CallbackEvent, _>(&headers, body)
        .await
    {
        Ok(Delivery::Event(callback)) => callback,
        Ok(_) => return StatusCode::OK,
        Err(error) => {
            // What failed, never what the body held.
            eprintln!("refused a callback: {error}");
            return match error {
                CallbackError::MissingSignature | CallbackError::BadSignature => {
                    StatusCode::UNAUTHORIZED
                }
                _ => StatusCode::BAD_REQUEST,
            };
        }
    };
    let mut flows = app.flows.lock().unwrap_or_else(|p| p.into_inner());
    flows.received += 1;
    if let Some(msg_id) = &callback.msg_id
        && !flows.first_time(msg_id)
    {
        flows.duplicates += 1;
        return StatusCode::OK;
    }
    if let CallbackEvent::FlowStatusChange(change) = &callback.event
        && let (Some(flow_id), Some(status)) = (&change.flow_id, &change.flow_callback_status)
    {
        let operate = change
            .operate
            .as_ref()
            .map_or_else(|| "-".to_owned(), |o| format!("{o:?}"));
        println!(
            "callback {} {flow_id}: {status:?} (operate {operate})",
            callback.msg_type
        );
        flows.advance(flow_id, status.clone());
    } else {
        println!("callback {}", callback.msg_type);
    }
    StatusCode::OK
}

#[allow(dead_code)] // The tests use the router without `main`.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::args()
        .skip_while(|a| a != "--listen")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let key = std::env::var("ESS_CALLBACK_KEY")
        .map_err(|_| "set ESS_CALLBACK_KEY to the URL's 32-character callback key")?;
    let keys = match std::env::var("ESS_CALLBACK_TOKEN") {
        Ok(token) => CallbackKeys::new(&key, &token)?,
        // The opt-in to unsigned callbacks: nothing proves who sent them.
        Err(_) if std::env::var("ESS_CALLBACK_UNSIGNED").is_ok_and(|v| v == "1") => {
            CallbackKeys::unsigned(&key)?
        }
        Err(_) => {
            return Err("set ESS_CALLBACK_TOKEN to the URL's callback token (or ESS_CALLBACK_UNSIGNED=1 to accept unsigned callbacks)".into());
        }
    };
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "receiving ESS callbacks at http://{}/",
        listener.local_addr()?
    );
    axum::serve(listener, router(App::new(keys))).await?;
    Ok(())
}
