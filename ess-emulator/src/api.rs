//! One API call: injected faults, TC3, action and version, the rate limit, the spec check,
//! the handler; then the JSON envelope (or the fault that replaces it). A repeated call runs
//! again, whatever its ClientToken: the service no longer reads it (upstream), so neither
//! does the emulator.

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::faults::Fault;
use crate::flows::{self, text};
use crate::pages;
use crate::schema::{self, Problem};
use crate::server::{DropConnection, MAX_BODY_BYTES, Record, Shared, lock, request_id};

/// What the emulator answers a call in a form it does not serve: ESS also takes GET calls and
/// the older HmacSHA1/HmacSHA256 signatures (v1, form-encoded), which the emulator does not
/// model. A JSON error envelope, so a client reads a service error and not a page.
const TC3_POST_ONLY: &str = "the emulator serves TC3-HMAC-SHA256 signed POST calls with a JSON body only; GET calls and v1 (HmacSHA1/HmacSHA256, form-encoded) signatures are not emulated";

pub(crate) async fn index(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    // A GET that carries parameters is an API call (v1 style), not a visit.
    if uri.query().is_some_and(|q| !q.is_empty()) {
        let received = Record::new(&shared, &headers);
        return shared.refuse(received, "UnsupportedOperation", TC3_POST_ONLY.to_owned());
    }
    let text = format!(
        "ess emulator (API version {}): POST TC3-signed JSON calls to {}/\n",
        shared.schema.version, shared.url
    );
    (StatusCode::OK, text).into_response()
}

/// One API call, from the raw request to the JSON answer.
pub(crate) async fn call(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Media types compare case-insensitively (RFC 9110 8.3.1).
    let v1 = header_text(&parts.headers, "content-type")
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
        || parts.uri.query().is_some_and(|q| q.contains("Signature="));
    let mut received = Record::new(&shared, &parts.headers);
    let reading = axum::body::to_bytes(body, MAX_BODY_BYTES);
    let body = match tokio::time::timeout(shared.idle_timeout, reading).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return shared.refuse(
                received,
                "RequestSizeLimitExceeded",
                format!("the body exceeds {MAX_BODY_BYTES} bytes"),
            );
        }
        Err(_) => {
            // The client is too slow to be answered at all; close without one.
            shared.record(received);
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(DropConnection);
            return response;
        }
    };
    received.body = body.clone();
    if v1 || (parts.headers.get("authorization").is_none() && body.starts_with(b"Action=")) {
        return shared.refuse(received, "UnsupportedOperation", TC3_POST_ONLY.to_owned());
    }
    // Like a real server, a call that has arrived runs to the end even if the client hangs
    // up (times out) meanwhile: the case where the caller cannot know whether it executed.
    let task = tokio::spawn(process(shared.clone(), parts, body, received));
    answered(&shared, task.await)
}

/// The answer of a call's task; a task that failed (a defect of the emulator's) is answered
/// as the service answers its own failures: an InternalError envelope.
fn answered(shared: &Shared, joined: Result<Response, tokio::task::JoinError>) -> Response {
    match joined {
        Ok(response) => response,
        Err(_) => {
            let (envelope, _) = shared.envelope(
                Err((
                    "InternalError",
                    "the emulator failed on this call".to_owned(),
                )),
                &request_id(),
            );
            json_response(shared, envelope)
        }
    }
}

async fn process(
    shared: Arc<Shared>,
    parts: axum::http::request::Parts,
    body: Bytes,
    mut received: Record,
) -> Response {
    let action = received.action.clone();
    // Drift needs the real answer: it applies after the action whichever phase it names.
    let mut drift = None;
    if let Some(fault) = shared.take_fault(&action, false) {
        if let Fault::Delay(delay) = fault {
            received.fault = Some(Fault::Delay(delay));
            tokio::time::sleep(delay).await;
        } else if fault == Fault::Drift {
            drift = Some(Fault::Drift);
        } else {
            received.code = Some(format!("fault:{fault}"));
            received.fault = Some(fault.clone());
            let request_id = received.request_id.clone();
            shared.record(received);
            return faulty(&shared, fault, None, &request_id);
        }
    }
    let answer = shared.answer(
        &parts.headers,
        &parts.method,
        &parts.uri,
        &body,
        &mut received,
    );
    let after = answer
        .is_ok()
        .then(|| drift.or_else(|| shared.take_fault(&action, true)))
        .flatten();
    let (envelope, code) = shared.envelope(answer, &received.request_id);
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
            let request_id = received.request_id.clone();
            shared.record(received);
            faulty(&shared, fault, Some(envelope), &request_id)
        }
    }
}

type Answer = Result<Reply, (&'static str, String)>;

/// What a handler answers: the members of `Response` (without its RequestId).
#[derive(Clone)]
pub(crate) enum Reply {
    /// As a tree.
    Tree(Map<String, Value>),
    /// Already serialized: one JSON object.
    Json(Vec<u8>),
}

impl Shared {
    /// Authenticates, routes and runs one call.
    fn answer(
        &self,
        headers: &HeaderMap,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        body: &Bytes,
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
                // Real time (with a test's skew), not the business clock: ESS checks the
                // timestamp against its own clock, so a test that moves deadlines never
                // breaks an SDK that signs with the machine's clock.
                self.service_now(),
            )
            .map_err(|r| (r.code, r.message))?;
        received.secret_id = Some(secret_id.to_owned());
        if self
            .verifier
            .expires_at(secret_id)
            .is_some_and(|at| self.now_time() >= at)
        {
            return Err((
                "AuthFailure.TokenFailure",
                "the temporary credentials expired".to_owned(),
            ));
        }
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
        // Counted per action and sub-account, as upstream counts (one access region here).
        let account = self.verifier.account(secret_id);
        if let (Some(limiter), Some(limit)) = (&self.limiter, action.rate_limit)
            && !limiter.admit(account, action.name, limit, Instant::now())
        {
            return Err((
                "RequestLimitExceeded",
                format!(
                    "{} allows {limit} calls per second per sub-account",
                    action.name
                ),
            ));
        }
        // Media types compare case-insensitively (RFC 9110 8.3.1): `Application/JSON` is JSON.
        let content_type = header_text(headers, "content-type")
            .trim_start()
            .to_ascii_lowercase();
        if !content_type.starts_with("application/json") {
            return Err((
                "InvalidParameter",
                "the emulator takes JSON bodies (Content-Type: application/json)".to_owned(),
            ));
        }
        // Parsed only now, once the signature has proved the caller holds a key: nobody else
        // makes the emulator parse up to 10 MB of JSON.
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let Value::Object(request) = &parsed else {
            return Err((
                "InvalidParameter",
                "the body must be a JSON object".to_owned(),
            ));
        };
        let problems = self.schema.check(action, request);
        if let Some(first) = problems.first() {
            return Err((first.code, describe_problems(&problems)));
        }
        if let Some(answer) = lock(&self.overrides).take(action.name, request) {
            return self.overridden(action, answer);
        }
        self.run(action.name, request, action)
    }

    /// An override's answer (checked when it was added: an object, and an error code the
    /// action may answer).
    fn overridden(&self, action: &'static schema::ActionDef, answer: Value) -> Answer {
        let Value::Object(mut members) = answer else {
            return Ok(Reply::Tree(Map::new()));
        };
        let Some(error) = members.remove("Error") else {
            members.remove("RequestId");
            return Ok(Reply::Tree(members));
        };
        let code = error
            .get("Code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let message = error
            .get("Message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let code = self
            .schema
            .answerable(action, code)
            .unwrap_or("InternalError");
        Err((code, message.to_owned()))
    }

    fn run(&self, name: &str, request: &Map<String, Value>, action: &schema::ActionDef) -> Answer {
        let now = self.now();
        let mut flows = lock(&self.flows);
        self.expire_locked(&mut flows, now);
        let result = match name {
            "CreateFlow" => flows.create(request, now, false).map(Reply::Tree),
            "CreateFlowByFiles" => lock(&self.catalog)
                .check_files(request, now)
                .and_then(|()| {
                    if request.get("NeedPreview").and_then(Value::as_bool) == Some(true) {
                        flows.preview(request, now, &self.url)
                    } else {
                        flows.create(request, now, true)
                    }
                })
                .map(Reply::Tree),
            "CreateDocument" => {
                let kinds = text(request, "FlowId")
                    .and_then(|id| flows.get(id))
                    .map(|f| f.signer_kinds());
                match kinds.map(|kinds| lock(&self.catalog).check_template(request, &kinds)) {
                    Some(Err(refused)) => Err(refused),
                    _ => flows.create_document(request, &self.url).map(Reply::Tree),
                }
            }
            "StartFlow" => flows.start(request, now).map(Reply::Tree),
            "DescribeFlowTemplates" => {
                let example = self.schema.example_response(action);
                let answer = lock(&self.catalog).describe_templates(request, example);
                Ok(Reply::Tree(answer.unwrap_or_else(|| example.clone())))
            }
            "CreateFlowSignUrl" => flows.sign_urls(request, now, &self.url).map(Reply::Tree),
            "DescribeFlowInfo" => flows.describe(request).map(Reply::Json),
            "CancelFlow" => flows.cancel(request).map(Reply::Tree),
            "ModifyApplicationCallbackInfo" => self.callbacks.modify(request).map(Reply::Tree),
            "CreateSeal"
            | "DescribeOrganizationSeals"
            | "CreateIntegrationRole"
            | "DescribeIntegrationRoles"
            | "CreateFlowEvidenceReport"
            | "DescribeFlowEvidenceReport"
            | "UploadFiles" => {
                let example = self.schema.example_response(action);
                let mut catalog = lock(&self.catalog);
                match name {
                    "CreateSeal" => catalog.create_seal(request, example, now),
                    "UploadFiles" => catalog.upload(request, example, now),
                    "DescribeOrganizationSeals" => Ok(catalog.describe_seals(request, example)),
                    "CreateIntegrationRole" => catalog.create_role(request, example),
                    "DescribeIntegrationRoles" => Ok(catalog.describe_roles(request, example)),
                    "CreateFlowEvidenceReport" => {
                        let status = request
                            .get("FlowId")
                            .and_then(Value::as_str)
                            .and_then(|id| flows.get(id))
                            .map(|f| f.status);
                        catalog.create_report(status, example, now)
                    }
                    _ => catalog.describe_report(request, example, now),
                }
                .map(Reply::Tree)
            }
            _ => Ok(Reply::Tree(self.schema.example_response(action).clone())),
        };
        // The flow changes ESS reports by callback.
        if let Ok(Reply::Tree(answer)) = &result {
            let changed = match name {
                "StartFlow" | "CreateFlowByFiles" => Some("start"),
                "CancelFlow" => Some("cancel"),
                _ => None,
            };
            let flow_id = request
                .get("FlowId")
                .or_else(|| answer.get("FlowId"))
                .and_then(Value::as_str);
            match (changed, flow_id.and_then(|id| flows.get(id))) {
                (Some("start"), Some(flow)) => self.flow_started(flow, now),
                (Some(operate), Some(flow)) => {
                    self.callbacks
                        .flow_changed(flow.callback_data(operate, now));
                }
                _ => {}
            }
        }
        result.map_err(|r| {
            let code = flows::code(name, r.why);
            debug_assert!(
                self.schema.may_answer(action, code),
                "{name} answers {code}"
            );
            (code, r.message)
        })
    }

    /// The body `{"Response": {...}}` with a RequestId, and the error code if it is an error.
    fn envelope(
        &self,
        answer: Result<Reply, (&str, String)>,
        request_id: &str,
    ) -> (Vec<u8>, Option<String>) {
        let (members, code) = match answer {
            Ok(Reply::Tree(members)) => (serde_json::to_vec(&members).unwrap_or_default(), None),
            Ok(Reply::Json(members)) => (members, None),
            Err((code, message)) => {
                let error = serde_json::json!({"Error": {"Code": code, "Message": message}});
                (error.to_string().into_bytes(), Some(code.to_owned()))
            }
        };
        (envelope_of(&members, request_id), code)
    }

    fn refuse(&self, mut received: Record, code: &'static str, message: String) -> Response {
        let (envelope, code) = self.envelope(Err((code, message)), &received.request_id);
        received.code = code;
        self.record(received);
        json_response(self, envelope)
    }

    fn date(&self) -> HeaderValue {
        let at = UNIX_EPOCH + Duration::from_secs(self.service_now().max(0) as u64);
        HeaderValue::from_str(&httpdate::fmt_http_date(at)).unwrap_or(HeaderValue::from_static(""))
    }
}

/// `body` (an envelope) with its answer drifted: integers and booleans as strings, empty
/// lists as `null`; the RequestId and an error are left alone.
fn drifted(body: &[u8]) -> Vec<u8> {
    fn drift(value: &mut Value) {
        match value {
            Value::Number(n) if !n.is_f64() => *value = Value::String(n.to_string()),
            Value::Bool(b) => *value = Value::String(b.to_string()),
            Value::Array(items) if items.is_empty() => *value = Value::Null,
            Value::Array(items) => items.iter_mut().for_each(drift),
            Value::Object(members) => members.values_mut().for_each(drift),
            _ => {}
        }
    }
    let Ok(mut envelope) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    if let Some(Value::Object(response)) = envelope.get_mut("Response")
        && !response.contains_key("Error")
    {
        for (key, value) in response.iter_mut() {
            if key != "RequestId" {
                drift(value);
            }
        }
    }
    serde_json::to_vec(&envelope).unwrap_or_else(|_| body.to_vec())
}

/// `{"Response":` the members of `object` (a serialized JSON object) and the RequestId `}`.
fn envelope_of(object: &[u8], request_id: &str) -> Vec<u8> {
    let members = object
        .strip_prefix(b"{")
        .and_then(|o| o.strip_suffix(b"}"))
        .unwrap_or_default();
    let mut body = Vec::with_capacity(object.len() + 80);
    body.extend_from_slice(b"{\"Response\":{");
    body.extend_from_slice(members);
    if !members.is_empty() {
        body.push(b',');
    }
    body.extend_from_slice(b"\"RequestId\":\"");
    body.extend_from_slice(request_id.as_bytes());
    body.extend_from_slice(b"\"}}");
    body
}

/// Every problem, each with its path; the code is the first problem's.
pub(crate) fn describe_problems(problems: &[Problem]) -> String {
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

/// HTTP 200, exactly `Content-Type: application/json` (the Python SDK recognises errors only
/// with that header), and a `Date` from the emulator's clock.
fn json_response(shared: &Shared, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::DATE, shared.date());
    response
}

fn faulty(shared: &Shared, fault: Fault, envelope: Option<Vec<u8>>, request_id: &str) -> Response {
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
            let mut body = envelope
                .unwrap_or_else(|| shared.envelope(Ok(Reply::Tree(Map::new())), request_id).0);
            body.truncate(body.len() / 2);
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Fault::Error { code, message } => {
            json_response(shared, shared.envelope(Err((&code, message)), request_id).0)
        }
        Fault::Delay(_) => json_response(shared, envelope.unwrap_or_else(|| b"null".to_vec())),
        Fault::Drift => {
            let body = envelope
                .unwrap_or_else(|| shared.envelope(Ok(Reply::Tree(Map::new())), request_id).0);
            json_response(shared, drifted(&body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_handler_is_answered_with_an_internal_error_envelope() {
        let emulator = crate::Emulator::start().await.unwrap();
        let failed = tokio::spawn(async { panic!("a defect") }).await;
        let response = answered(emulator.shared(), failed);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["Response"]["Error"]["Code"], "InternalError");
        assert!(body["Response"]["RequestId"].as_str().is_some());
    }
}
