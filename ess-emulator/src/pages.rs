//! What sign links open: a page showing who signs what until when, with a button that
//! signs (one POST), and the expired, signed and error pages.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::flows::{Flow, Link, SignRefusal, approve_status, flow_status};
use crate::server::{Shared, lock};

/// The page a live link opens.
fn sign_html(token: &str, link: &Link, flow: &Flow, now: i64) -> Html<String> {
    let until = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(link.expires_at.max(0) as u64),
    );
    // Rounded up: a link issued a moment ago for an hour reads "60 min left".
    let minutes = ((link.expires_at - now).max(0) + 59) / 60;
    let signer = match link.approver.and_then(|i| flow.approvers.get(i)) {
        Some(a) if a.organization.is_empty() => escape(&a.name),
        Some(a) => format!("{} ({})", escape(&a.name), escape(&a.organization)),
        None => "the initiator".to_owned(),
    };
    let status = link
        .approver
        .and_then(|i| flow.approvers.get(i))
        .map(|a| a.status);
    let action = if link.preview {
        "<p>This is a preview link: it shows the contract and cannot sign it.</p>".to_owned()
    } else if !flow.is_open() {
        format!("<p>{}</p>", closed_text(flow.status))
    } else {
        match status {
            Some(approve_status::WAITING) => format!(
                "<form method=\"post\" action=\"/sign/{token}\"><button type=\"submit\">Sign</button></form>"
            ),
            Some(approve_status::NOT_YET_DUE) => {
                "<p>Signers sign in order: this signer's turn has not come yet.</p>".to_owned()
            }
            _ => "<p>This signer has already signed.</p>".to_owned(),
        }
    };
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Sign: {name}</title></head><body>\n\
         <h1>{name}</h1>\n<p>Flow <code>{id}</code>, signer: {signer}.</p>\n\
         <p>This link is valid until {until} ({minutes} min left).</p>\n{action}\n</body></html>\n",
        name = escape(&flow_name(flow)),
        id = escape(&flow.id),
    ))
}

/// Why a flow's links no longer sign.
fn closed_text(status: i64) -> &'static str {
    match status {
        flow_status::SIGNED => "Every signer has signed this contract.",
        flow_status::REJECTED => "A signer rejected this contract: it is closed.",
        flow_status::EXPIRED => "This contract's deadline passed: it is closed.",
        flow_status::CANCELLED => "This contract was cancelled: the link no longer signs.",
        _ => "This contract is not open for signing.",
    }
}

fn flow_name(flow: &Flow) -> String {
    if flow.name.is_empty() {
        "Contract".to_owned()
    } else {
        flow.name.clone()
    }
}

/// The page an expired link opens.
pub(crate) fn expired_page(expired_at: i64) -> Html<String> {
    let at = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(expired_at.max(0) as u64),
    );
    page(
        "Link expired",
        &format!("This link expired at {at}. Ask for a new one with CreateFlowSignUrl."),
    )
}

/// The page after signing.
pub(crate) fn signed_page() -> Html<String> {
    page(
        "Signed",
        "The signature is recorded; DescribeFlowInfo shows it.",
    )
}

/// A page with one message.
pub(crate) fn error_page(message: &str) -> Html<String> {
    page("ess emulator", message)
}

fn page(title: &str, message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n<h1>{title}</h1>\n<p>{}</p>\n</body></html>\n",
        escape(message)
    ))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What CreateDocument's `PreviewFileUrl` opens: the document's flow, named (the emulator
/// keeps no file content), or 404 for a document it does not hold.
pub(crate) async fn preview(
    State(shared): State<Arc<Shared>>,
    Path(document): Path<String>,
) -> Response {
    let now = shared.now();
    let flows = lock(&shared.flows);
    let name = flows
        .by_document(&document)
        .map(|flow| flow.name.as_str())
        .or_else(|| flows.preview_of(&document, now));
    match name {
        Some(name) => page(
            "Preview",
            &format!("Document {document} of the flow {name}."),
        )
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            error_page("This document does not exist."),
        )
            .into_response(),
    }
}

pub(crate) async fn short_link(Path(token): Path<String>) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/sign/{token}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub(crate) async fn sign_page(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
) -> Response {
    shared.expire_due();
    let now = shared.now();
    let flows = lock(&shared.flows);
    match flows.link(&token) {
        None => (
            StatusCode::NOT_FOUND,
            error_page("This link does not exist."),
        )
            .into_response(),
        Some((link, _)) if link.expires_at <= now => {
            (StatusCode::GONE, expired_page(link.expires_at)).into_response()
        }
        Some((link, flow)) => sign_html(&token, link, flow, now).into_response(),
    }
}

pub(crate) async fn sign(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    shared.expire_due();
    let now = shared.now();
    let result = {
        let mut flows = lock(&shared.flows);
        let flow_id = flows.link(&token).map(|(link, _)| link.flow_id.clone());
        let result = flows.sign(&token, now);
        if result.is_ok()
            && let Some(flow) = flow_id.as_deref().and_then(|id| flows.get(id))
        {
            shared.flow_changed(flow, now);
        }
        result
    };
    match result {
        Ok(Some(jump)) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) = HeaderValue::from_str(&jump) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Ok(None) => (StatusCode::OK, signed_page()).into_response(),
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
                SignRefusal::NotYourTurn => (
                    StatusCode::CONFLICT,
                    "Signers sign in order: this signer's turn has not come yet.",
                ),
            };
            (status, error_page(text)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
