//! The contract between generated code and the runtime: each request type implements
//! [`Action`]; a [`Transport`] delivers its JSON body; [`call`] validates, sends and decodes.

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ServiceError, TransportError};
use crate::validate::Validate;

/// What generated code states about an action, on its request type.
pub trait Action: Serialize + Validate {
    /// Wire name (`CreateFlowSignUrl`).
    const NAME: &'static str;
    /// Service name in the signature's credential scope (`ess`).
    const SERVICE: &'static str;
    /// API version (`2020-11-11`).
    const VERSION: &'static str;
    /// Where the action's requests go: its endpoint group's hosts, from the spec.
    const ENDPOINT: EndpointHosts;
    /// Requests per second the service allows, when stated.
    const RATE_LIMIT: Option<u32>;
    /// Whether the request may be re-sent after a failure that may have executed: reads, and
    /// writes whose idempotency upstream documents (none today).
    const RETRY_SAFE: bool;
    /// The response type.
    type Response: DeserializeOwned;
    /// The type of the service's error codes (the generated `ErrorCode`).
    type Code: for<'a> From<&'a str> + fmt::Debug + fmt::Display;
}

/// The hosts of one endpoint group of the spec (`default`, or `file` for uploads): where an
/// action's requests go in production and in the test environment. An
/// [`Endpoint::Url`](crate::Endpoint::Url) sends every group to that URL instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointHosts {
    /// The group's name in the spec.
    pub group: &'static str,
    /// Production host name.
    pub production: &'static str,
    /// Test-environment host name.
    pub test: &'static str,
}

/// The facts about one call a transport needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInfo {
    /// Wire name of the action.
    pub action: &'static str,
    /// Service name for signing.
    pub service: &'static str,
    /// API version.
    pub version: &'static str,
    /// The hosts of the action's endpoint group.
    pub endpoint: EndpointHosts,
    /// Requests per second, when limited.
    pub rate_limit: Option<u32>,
    /// Whether what may have executed (5xx, `InternalError*`, a connection lost after
    /// sending) may be sent again: reads, and writes whose idempotency upstream documents.
    pub retry_safe: bool,
    /// This call's own deadline and attempt timeout, where it has them.
    pub options: CallOptions,
}

/// Limits of one call that replace the client's: a 60 MB UploadFiles needs more than the
/// client-wide deadline, without building a second client (see the generated
/// `Client::with_options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The call's deadline (instead of `RetryPolicy::deadline`): every attempt, the backoff
    /// and the rate limiter's wait end by then.
    pub deadline: Option<std::time::Duration>,
    /// The timeout of one attempt (instead of `ConfigBuilder::timeout`).
    pub attempt_timeout: Option<std::time::Duration>,
}

impl CallOptions {
    /// No overrides: the client's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// This call's deadline.
    pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// This call's attempt timeout.
    pub fn attempt_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }
}

/// A transport that sends every call with `options`: what the generated
/// `Client::with_options` wraps around the client's transport.
#[derive(Debug, Clone, Copy)]
pub struct WithOptions<'a, T: ?Sized> {
    transport: &'a T,
    options: CallOptions,
}

impl<'a, T: ?Sized> WithOptions<'a, T> {
    /// `transport`, with `options` on every call.
    pub fn new(transport: &'a T, options: CallOptions) -> Self {
        Self { transport, options }
    }
}

impl<T: Transport + Sync + ?Sized> Transport for WithOptions<'_, T> {
    fn send(
        &self,
        info: &CallInfo,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + Send {
        let info = CallInfo {
            options: self.options,
            ..*info
        };
        async move { self.transport.send(&info, body).await }
    }
}

impl CallInfo {
    /// The facts of action `A`.
    pub fn of<A: Action>() -> Self {
        Self {
            action: A::NAME,
            service: A::SERVICE,
            version: A::VERSION,
            endpoint: A::ENDPOINT,
            rate_limit: A::RATE_LIMIT,
            retry_safe: A::RETRY_SAFE,
            options: CallOptions::default(),
        }
    }
}

/// Delivers a request body to the service and returns the response body.
pub trait Transport {
    /// Sends `body` (JSON) for the call described by `info`.
    fn send(
        &self,
        info: &CallInfo,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;
}

/// Validates `request`, sends it, and decodes the response (or the service's error, its
/// code read as `A::Code`).
pub async fn call<A: Action, T: Transport + ?Sized>(
    transport: &T,
    request: &A,
) -> Result<A::Response, Error<A::Code>> {
    send(transport, request).await.map_err(Error::typed)
}

async fn send<A: Action, T: Transport + ?Sized>(
    transport: &T,
    request: &A,
) -> Result<A::Response, Error> {
    request.validate().map_err(Error::Validation)?;
    let body = serde_json::to_vec(request).map_err(|e| {
        Error::Transport(TransportError::new(format!("cannot encode the request: {e}")).not_sent())
    })?;
    let bytes = transport.send(&CallInfo::of::<A>(), body).await?;
    decode_answer::<A::Response>(A::NAME, &bytes)
}

/// Decodes `{"Response": {...}}` straight from the bytes into `R`, turning
/// `Response.Error` into [`Error::Service`]; decode errors name the JSON path. The drift
/// Tencent's services are known for (a number sent as a string, an integral float for an
/// integer, a number for a string) is decoded as documented, each repair traced.
pub fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, Error> {
    decode_answer("", bytes)
}

/// [`decode`] for an answer of `action` (named in drift reports).
pub(crate) fn decode_answer<R: DeserializeOwned>(action: &str, bytes: &[u8]) -> Result<R, Error> {
    let not_api =
        |message: &str| Error::Transport(TransportError::with_response(200, message, bytes));
    #[derive(serde::Deserialize)]
    struct Envelope<R> {
        #[serde(rename = "Response")]
        response: R,
    }
    // Most answers are successes: those decode in one pass, tracking no paths.
    let may_be_error = may_hold_error(bytes);
    if !may_be_error && let Ok(envelope) = serde_json::from_slice::<Envelope<R>>(bytes) {
        return Ok(envelope.response);
    }
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|_| not_api("the body is not an API response"))?;
    if let Some(code) = probe.response.error_code() {
        return Err(Error::Service(probe.response.service_error(&code)));
    }
    // No error: decoded (again, if the fast path failed) tracking paths, to name where a
    // failure is.
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let error = match serde_path_to_error::deserialize::<_, Envelope<R>>(&mut json) {
        Ok(envelope) => return Ok(envelope.response),
        Err(error) => error,
    };
    // A value of another JSON type than documented: decoded as documented where the drift
    // is a known kind, each repair reported; anything else stays a decode error.
    let error = match crate::drift::repair::<Envelope<R>>(action, bytes, error) {
        Ok(envelope) => return Ok(envelope.response),
        Err(error) => error,
    };
    let message = crate::drift::describe(bytes, &error);
    let path = error.path().to_string();
    let inner = path.strip_prefix("Response").unwrap_or(&path);
    let inner = if inner.is_empty() || inner.starts_with(['.', '[']) {
        inner.to_owned()
    } else {
        format!(".{inner}")
    };
    Err(Error::Decode {
        path: format!("${inner}"),
        message,
    })
}

/// Whether `bytes` may be an error envelope: they spell an `"Error"` key, or hold a `\u`
/// escape one could hide behind. `false` proves the answer is no error, with no parse.
pub(crate) fn may_hold_error(bytes: &[u8]) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    static ERROR_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"Error\""));
    static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));
    ERROR_KEY.find(bytes).is_some() || ESCAPE.find(bytes).is_some()
}

/// Just enough of `{"Response": {"Error": {..}, "RequestId": ..}}` to classify an answer,
/// skipping everything else without building a tree. Lenient: a member of an unexpected
/// type reads as absent.
#[derive(serde::Deserialize)]
pub(crate) struct Probe {
    #[serde(rename = "Response")]
    pub(crate) response: ProbeResponse,
}

#[derive(serde::Deserialize)]
pub(crate) struct ProbeResponse {
    #[serde(rename = "Error", default)]
    error: Option<Lenient<ProbeError>>,
    #[serde(rename = "RequestId", default)]
    request_id: Option<Lenient<String>>,
}

#[derive(serde::Deserialize)]
struct ProbeError {
    #[serde(rename = "Code", default)]
    code: Option<Lenient<String>>,
    #[serde(rename = "Message", default)]
    message: Option<Lenient<String>>,
}

/// A value of the expected type, or anything else (skipped).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Expected(T),
    Other(serde::de::IgnoredAny),
}

impl<T> Lenient<T> {
    fn get(&self) -> Option<&T> {
        match self {
            Lenient::Expected(value) => Some(value),
            Lenient::Other(_) => None,
        }
    }
}

impl ProbeResponse {
    /// The RequestId, when it is a string.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref()?.get().map(String::as_str)
    }

    /// The error code, when the answer is an error (an unreadable code reads as empty).
    pub(crate) fn error_code(&self) -> Option<String> {
        let error = self.error.as_ref()?;
        let code = error.get().and_then(|e| e.code.as_ref()?.get().cloned());
        Some(code.unwrap_or_default())
    }

    /// The service error of an error answer with `code`.
    pub(crate) fn service_error(&self, code: &str) -> ServiceError {
        let message = self
            .error
            .as_ref()
            .and_then(Lenient::get)
            .and_then(|e| e.message.as_ref()?.get().cloned());
        ServiceError {
            code: code.to_owned(),
            message: message.unwrap_or_default(),
            request_id: self.request_id().unwrap_or_default().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Out {
        #[serde(rename = "RequestId")]
        request_id: String,
        #[serde(rename = "Items", default)]
        items: Vec<u32>,
    }

    #[test]
    fn decodes_success_and_each_bad_response_kind() {
        let ok: Out = decode(br#"{"Response":{"RequestId":"r-1","Extra":1}}"#).unwrap();
        assert_eq!(ok.request_id, "r-1");
        let err = decode::<Out>(br#"{"Response":{"Error":{"Code":"ResourceNotFound.Flow","Message":"no flow"},"RequestId":"r-2"}}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ResourceNotFound.Flow: no flow (RequestId r-2)"
        );
        assert_eq!(err.request_id(), Some("r-2"));
        let Err(Error::Transport(t)) = decode::<Out>(b"<html>busy</html>") else {
            panic!("expected a transport error")
        };
        assert_eq!(t.body_excerpt.as_deref(), Some("<html>busy</html>"));
        assert!(matches!(
            decode::<Out>(br#"{"Other":{}}"#),
            Err(Error::Transport(_))
        ));
        let Err(Error::Decode { path, .. }) =
            decode::<Out>(br#"{"Response":{"RequestId":"r","Items":[1,"x"]}}"#)
        else {
            panic!("expected a decode error")
        };
        assert_eq!(path, "$.Items[1]");
    }

    #[test]
    fn a_decode_error_names_kinds_never_the_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            #[serde(rename = "RequestId")]
            request_id: String,
            #[serde(rename = "Total")]
            total: i64,
            #[serde(rename = "Done", default)]
            done: Option<bool>,
            #[serde(rename = "Items", default)]
            items: Vec<u32>,
        }
        let personal = "张三 13812345678";
        for (body, path, message) in [
            (
                format!(r#"{{"Response":{{"RequestId":"r","Total":"{personal}"}}}}"#),
                "$.Total",
                "expected an integer, found string",
            ),
            (
                format!(r#"{{"Response":{{"RequestId":"r","Total":1,"Done":"{personal}"}}}}"#),
                "$.Done",
                "expected a boolean, found string",
            ),
            (
                format!(r#"{{"Response":{{"RequestId":"r","Total":1,"Items":"{personal}"}}}}"#),
                "$.Items",
                "expected a list, found string",
            ),
            (
                r#"{"Response":{"RequestId":"r"}}"#.to_owned(),
                "$",
                "the required member `Total` is missing",
            ),
        ] {
            let error = decode::<Page>(body.as_bytes()).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(
                !shown.contains("13812345678") && !shown.contains("张三"),
                "{shown}"
            );
            let Error::Decode {
                path: at,
                message: said,
            } = &error
            else {
                panic!("expected a decode error, got {error:?}")
            };
            assert_eq!((at.as_str(), said.as_str()), (path, message));
        }
    }

    #[test]
    fn errors_are_found_however_the_answer_spells_them() {
        // An escaped key, and an error after members the success type would accept.
        for body in [
            &br#"{"Response":{"Error":{"Code":"FailedOperation","Message":"m"},"RequestId":"r"}}"#
                [..],
            br#"{"Response":{"RequestId":"r","Items":[],"Error":{"Code":"FailedOperation"}}}"#,
        ] {
            let err = decode::<Out>(body).unwrap_err();
            assert_eq!(err.code_str(), Some("FailedOperation"), "{err}");
        }
        // Text that merely mentions the word is no error.
        let ok: Out =
            decode(br#"{"Response":{"RequestId":"Error","Note":"\"Error\" \u00e9"}}"#).unwrap();
        assert_eq!(ok.request_id, "Error");
    }
}
