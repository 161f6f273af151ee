//! The admin API under `/_emulator/`: JSON over HTTP for tests in any language, the same
//! operations as [`Emulator`](crate::Emulator)'s methods (module `control`). Unauthenticated,
//! so served only on loopback unless the emulator is told otherwise. The crate's README lists
//! every route.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::control::{ControlError, Override, Signer};
use crate::faults::FaultRule;
use crate::server::{Received, Shared, lock};

type Shared_ = State<Arc<Shared>>;

/// Every public method of [`Emulator`](crate::Emulator) and the admin route that performs
/// the same operation, or why it has none: what a test in another language can do is what a
/// Rust test can. A test holds the table to `Emulator`'s methods (one missing here fails) and
/// to the router (a listed route that is not served fails).
pub const OPERATIONS: &[(&str, &str)] = &[
    ("builder", "in process: the binary's options configure it"),
    ("start", "in process: the binary starts it"),
    ("url", "GET /_emulator/"),
    ("addr", "GET /_emulator/"),
    (
        "credentials",
        "in process: keys are never served (the banner prints the published or a drawn one)",
    ),
    ("received", "GET /_emulator/calls"),
    ("received_for", "GET /_emulator/calls"),
    ("clear_received", "DELETE /_emulator/calls"),
    ("inject", "POST /_emulator/faults"),
    ("faults", "GET /_emulator/faults"),
    ("clear_faults", "DELETE /_emulator/faults"),
    ("set_clock_offset", "POST /_emulator/clock"),
    ("clock_offset", "GET /_emulator/clock"),
    ("set_clock_skew", "POST /_emulator/clock"),
    ("clock_skew", "GET /_emulator/clock"),
    ("freeze_clock", "POST /_emulator/clock"),
    ("clock_frozen", "GET /_emulator/clock"),
    ("flow_status", "GET /_emulator/flows/{id}"),
    ("flow", "GET /_emulator/flows/{id}"),
    ("flows", "GET /_emulator/flows"),
    ("flow_ids", "GET /_emulator/flows"),
    ("sign", "POST /_emulator/flows/{id}/sign"),
    ("reject", "POST /_emulator/flows/{id}/reject"),
    ("expire", "POST /_emulator/flows/{id}/expire"),
    ("seed_flow", "POST /_emulator/flows"),
    ("seed_template", "POST /_emulator/templates"),
    ("templates", "GET /_emulator/templates"),
    ("add_override", "POST /_emulator/overrides"),
    ("overrides", "GET /_emulator/overrides"),
    ("clear_overrides", "DELETE /_emulator/overrides"),
    ("reset", "POST /_emulator/reset"),
    ("fail_report", "POST /_emulator/reports/{id}/fail"),
    ("add_callback", "POST /_emulator/callbacks"),
    ("remove_callback", "DELETE /_emulator/callbacks"),
    ("callback_urls", "GET /_emulator/callbacks"),
    ("inject_callback", "POST /_emulator/callbacks/faults"),
    ("callback_deliveries", "GET /_emulator/callbacks"),
    (
        "schema",
        "in process: the spec is the crate's own (spec/ess.yaml)",
    ),
    ("stop", "in process: the binary stops on Ctrl-C"),
    ("wait", "in process: the binary serves until stopped"),
];

pub(crate) fn routes(shared: Arc<Shared>) -> axum::Router<Arc<Shared>> {
    axum::Router::new()
        .route("/", get(about))
        .route("/templates", get(templates).post(seed_template))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/calls", get(calls).delete(clear_calls))
        .route("/flows", get(flows).post(seed_flow))
        .route("/flows/{id}", get(flow))
        .route("/flows/{id}/sign", post(sign))
        .route("/flows/{id}/reject", post(reject))
        .route("/flows/{id}/expire", post(expire))
        .route("/clock", get(clock).post(set_clock))
        .route(
            "/overrides",
            get(overrides).post(add_override).delete(clear_overrides),
        )
        .route("/reset", post(reset))
        .route(
            "/callbacks",
            get(callbacks).post(add_callback).delete(remove_callback),
        )
        .route("/callbacks/faults", post(inject_callback))
        .route("/reports/{id}/fail", post(fail_report))
        .fallback(|| async { AdminError::status(StatusCode::NOT_FOUND, "no such admin route") })
        .method_not_allowed_fallback(|| async {
            AdminError::status(
                StatusCode::METHOD_NOT_ALLOWED,
                "the route does not take this method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(shared, guard))
}

/// Refuses what a web page could send: the admin API is unauthenticated, so a page the
/// developer opens must not reach it. A `Host` that is not a loopback name or the emulator's
/// own address (DNS rebinding), an `Origin` other than the emulator's own (a cross-site
/// request), and a POST whose body is not declared JSON (a form or a `text/plain` fetch,
/// which browsers send without asking first) are refused with 403 or 415.
pub(crate) async fn guard(
    State(shared): Shared_,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let own = shared.url.trim_end_matches('/');
    let own_authority = own.split_once("://").map_or(own, |(_, a)| a);
    let host_ok = text(header::HOST)
        .is_some_and(|host| host.eq_ignore_ascii_case(own_authority) || is_loopback_name(&host));
    if !host_ok {
        return AdminError::status(
            StatusCode::FORBIDDEN,
            "the Host is not this emulator's address or a loopback name",
        )
        .into_response();
    }
    if let Some(origin) = text(header::ORIGIN)
        && !origin.eq_ignore_ascii_case(own)
    {
        return AdminError::status(
            StatusCode::FORBIDDEN,
            "cross-site requests are refused (the Origin is not this emulator)",
        )
        .into_response();
    }
    let json_body = text(header::CONTENT_TYPE).is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if request.method() == axum::http::Method::POST && !json_body {
        return AdminError::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the admin API JSON, with Content-Type: application/json",
        )
        .into_response();
    }
    // The body, read within the idle timeout and up to the API's own cap, as a call's is: a
    // client that trickles it does not hold a connection open indefinitely.
    let (parts, body) = request.into_parts();
    let reading = axum::body::to_bytes(body, crate::server::MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(shared.idle_timeout, reading).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return AdminError::status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body exceeds {} bytes", crate::server::MAX_BODY_BYTES),
            )
            .into_response();
        }
        Err(_) => {
            return AdminError::status(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive within the idle timeout",
            )
            .into_response();
        }
    };
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    next.run(request).await
}

/// Whether `host` (a Host header: name and optional port) names this machine by a loopback
/// name or address.
fn is_loopback_name(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        // `[::1]:8080`, `127.0.0.1:8080`, `localhost:8080`; a bare IPv6 literal has colons too.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty() => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn json(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn ok(value: Value) -> Response {
    json(StatusCode::OK, &value)
}

/// A refused admin call: `{"error": ...}` with its status.
struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    fn bad(message: impl std::fmt::Display) -> AdminError {
        Self::status(StatusCode::BAD_REQUEST, message)
    }

    fn status(status: StatusCode, message: impl std::fmt::Display) -> AdminError {
        AdminError {
            status,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        json(self.status, &json!({"error": self.message}))
    }
}

impl From<ControlError> for AdminError {
    fn from(e: ControlError) -> AdminError {
        let status = match e {
            ControlError::FlowNotFound | ControlError::SignerNotFound => StatusCode::NOT_FOUND,
            ControlError::Conflict(_) => StatusCode::CONFLICT,
            ControlError::Full(_) => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::BAD_REQUEST,
        };
        AdminError {
            status,
            message: e.to_string(),
        }
    }
}

type Answer = Result<Response, AdminError>;

/// The request body as JSON; an empty body reads as `{}`.
fn body(bytes: &Bytes) -> Result<Value, AdminError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|e| AdminError::bad(format!("the body is not JSON: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(crate) async fn about(State(shared): Shared_) -> Response {
    ok(json!({
        "emulator": env!("CARGO_PKG_VERSION"),
        "api_version": shared.schema.version,
        "url": shared.url,
        "clock_offset_seconds": shared.clock_offset(),
        "now": shared.now(),
    }))
}

async fn faults(State(shared): Shared_) -> Response {
    let rules: Vec<String> = lock(&shared.faults)
        .iter()
        .map(ToString::to_string)
        .collect();
    ok(json!({ "faults": rules }))
}

async fn add_fault(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let text = value.get("rule").and_then(Value::as_str).ok_or_else(|| {
        AdminError::bad("give {\"rule\": \"[ACTION=]KIND[@after][*N]\"}, as --fault takes")
    })?;
    let rule = text.parse::<FaultRule>().map_err(AdminError::bad)?;
    let text = rule.to_string();
    shared.add_fault(rule);
    Ok(json(StatusCode::CREATED, &json!({ "rule": text })))
}

async fn clear_faults(State(shared): Shared_) -> Response {
    lock(&shared.faults).clear();
    ok(json!({}))
}

/// `?action=NAME` picks one action's calls.
fn action_filter(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("action="))
        .map(str::to_owned)
}

fn call_json(call: &Received) -> Value {
    let headers: serde_json::Map<String, Value> = call
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "action": call.action,
        "secret_id": call.secret_id,
        "request_id": call.request_id,
        "received_at_ms": call.received_at_ms,
        "code": call.code,
        "fault": call.fault.as_ref().map(ToString::to_string),
        "headers": headers,
        "body": call.body,
        "body_bytes": call.body_bytes,
    })
}

async fn calls(State(shared): Shared_, uri: Uri) -> Response {
    let action = action_filter(&uri);
    let calls: Vec<Value> = shared
        .received(action.as_deref())
        .iter()
        .map(call_json)
        .collect();
    ok(json!({ "calls": calls }))
}

async fn clear_calls(State(shared): Shared_) -> Response {
    lock(&shared.received).clear();
    ok(json!({}))
}

async fn flows(State(shared): Shared_) -> Response {
    ok(json!({ "flows": to_json(&shared.flows()) }))
}

async fn flow(State(shared): Shared_, Path(id): Path<String>) -> Answer {
    let flow = shared.flow(&id).ok_or(ControlError::FlowNotFound)?;
    Ok(ok(to_json(&flow)))
}

/// `{"request": <a CreateFlow body>, "started": true}`.
async fn seed_flow(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let started = value.get("started").and_then(Value::as_bool) == Some(true);
    let request = value.get("request").cloned().unwrap_or(Value::Null);
    let flow = shared.seed_flow(&request, started)?;
    Ok(json(StatusCode::CREATED, &to_json(&flow)))
}

/// `"signer"`: a position from 0, or a RecipientId.
fn signer(value: &Value) -> Result<Signer, AdminError> {
    match value.get("signer") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Signer::Index)
            .ok_or_else(|| AdminError::bad("`signer` is a position from 0")),
        Some(Value::String(id)) => Ok(Signer::RecipientId(id.clone())),
        _ => Err(AdminError::bad(
            "give `signer`: the signer's position from 0, or its RecipientId",
        )),
    }
}

async fn sign(State(shared): Shared_, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let who = signer(&body(&bytes)?)?;
    Ok(ok(to_json(&shared.sign(&id, &who)?)))
}

async fn reject(State(shared): Shared_, Path(id): Path<String>, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let who = signer(&value)?;
    let reason = value
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(ok(to_json(&shared.reject(&id, &who, reason)?)))
}

async fn expire(State(shared): Shared_, Path(id): Path<String>) -> Answer {
    Ok(ok(to_json(&shared.expire(&id)?)))
}

async fn clock(State(shared): Shared_) -> Response {
    ok(json!({
        "offset_seconds": shared.clock_offset(),
        "now": shared.now(),
        "skew_seconds": shared.clock_skew(),
        "frozen": shared.clock_frozen(),
    }))
}

/// `{"offset_seconds": N}` sets the business clock's offset; `{"advance_seconds": N}` adds
/// to it; `{"skew_seconds": N}` sets the service clock's skew (signatures, `Date`).
async fn set_clock(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    if let Some(frozen) = value.get("frozen") {
        let frozen = frozen
            .as_bool()
            .ok_or_else(|| AdminError::bad("`frozen` is true or false"))?;
        shared.freeze_clock(frozen);
        return Ok(clock(State(shared)).await);
    }
    if let Some(skew) = value.get("skew_seconds") {
        let skew = skew
            .as_i64()
            .ok_or_else(|| AdminError::bad("`skew_seconds` is an integer"))?;
        shared.set_clock_skew(skew).map_err(ControlError::from)?;
        return Ok(clock(State(shared)).await);
    }
    let offset = match (
        value.get("offset_seconds").and_then(Value::as_i64),
        value.get("advance_seconds").and_then(Value::as_i64),
    ) {
        (Some(offset), None) => offset,
        (None, Some(advance)) => shared.clock_offset().saturating_add(advance),
        _ => {
            return Err(AdminError::bad(
                "give one of `offset_seconds` or `advance_seconds` (integers)",
            ));
        }
    };
    shared
        .set_clock_offset(offset)
        .map_err(ControlError::from)?;
    Ok(clock(State(shared)).await)
}

async fn templates(State(shared): Shared_) -> Response {
    ok(json!({ "templates": shared.templates() }))
}

async fn seed_template(State(shared): Shared_, bytes: Bytes) -> Answer {
    let id = shared.seed_template(&body(&bytes)?)?;
    Ok(json(StatusCode::CREATED, &json!({ "TemplateId": id })))
}

async fn overrides(State(shared): Shared_) -> Response {
    ok(json!({ "overrides": to_json(&lock(&shared.overrides).list()) }))
}

async fn add_override(State(shared): Shared_, bytes: Bytes) -> Answer {
    let rule: Override = serde_json::from_slice(&bytes).map_err(|e| {
        AdminError::bad(format!(
            "an override is {{\"action\", \"when\", \"answers\", \"repeat\"}}: {e}"
        ))
    })?;
    shared.add_override(rule)?;
    Ok(json(StatusCode::CREATED, &json!({})))
}

async fn clear_overrides(State(shared): Shared_) -> Response {
    shared.clear_overrides();
    ok(json!({}))
}

async fn reset(State(shared): Shared_) -> Response {
    shared.reset();
    ok(json!({}))
}

/// The registered callback URLs and what happened to each message at each.
async fn callbacks(State(shared): Shared_) -> Response {
    ok(json!({
        "urls": shared.callbacks.urls(),
        "deliveries": to_json(&shared.callbacks.deliveries()),
    }))
}

/// `{"url": .., "key": .. (32 characters, or none for plain JSON), "token": ..}`.
async fn add_callback(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let text = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("url").is_empty() {
        return Err(AdminError::bad("give the callback's `url`"));
    }
    let target = crate::CallbackTarget::registered(text("url"), text("key"), text("token"));
    shared.callbacks.add(target)?;
    Ok(json(
        StatusCode::CREATED,
        &json!({ "urls": shared.callbacks.urls() }),
    ))
}

/// `DELETE /_emulator/callbacks` with `{"url": ..}`.
async fn remove_callback(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let url = value
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| AdminError::bad("give the callback's `url`"))?;
    shared.callbacks.remove(url);
    Ok(ok(json!({ "urls": shared.callbacks.urls() })))
}

/// `{"fault": "duplicate" | "reorder" | "v1" | "delay:MS"}`: for the next message.
async fn inject_callback(State(shared): Shared_, bytes: Bytes) -> Answer {
    let value = body(&bytes)?;
    let text = value
        .get("fault")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let fault: crate::CallbackFault = text.parse().map_err(AdminError::bad)?;
    shared.callbacks.inject(fault);
    Ok(json(StatusCode::CREATED, &json!({ "fault": text })))
}

async fn fail_report(State(shared): Shared_, Path(id): Path<String>) -> Answer {
    if lock(&shared.catalog).fail_report(&id) {
        Ok(ok(json!({ "ReportId": id })))
    } else {
        Err(AdminError::status(
            StatusCode::NOT_FOUND,
            "no report has the id",
        ))
    }
}
