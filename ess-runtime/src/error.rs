//! The one error type of a call: validation, credentials, transport, timeout, decode or
//! service, each able to say whether the request may have executed. Display never includes
//! secrets or request bodies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::ConfigError;
use crate::credentials::CredentialsError;
use crate::validate::Violations;

/// Why a call failed. `C` is the type of the service's error codes: the generated
/// `ErrorCode` for the generated client (so callers `match` on variants), `String` at the
/// transport level.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<C = String> {
    /// The request broke the spec's constraints; nothing was sent.
    #[error("invalid request: {0}")]
    Validation(Violations),
    /// No usable credentials; nothing was sent.
    #[error("credentials: {0}")]
    Credentials(#[from] CredentialsError),
    /// The configuration is unusable; nothing was sent.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The request could not be delivered, or the answer was not an API response.
    /// [`TransportError::may_have_executed`] tells which.
    #[error("transport error: {0}")]
    Transport(#[source] TransportError),
    /// No connection could be made within the connect timeout: nothing was sent.
    #[error("connect timed out after {0:?} (nothing was sent)")]
    ConnectTimeout(Duration),
    /// An attempt sent its request and had no complete answer within its timeout: the
    /// service may have executed it.
    #[error("no answer within the attempt timeout of {0:?} (the request was sent)")]
    AttemptTimeout(Duration),
    /// The call's deadline passed: while waiting for the rate limiter, during an attempt, or
    /// before the next one.
    #[error("the call's deadline of {deadline:?} passed")]
    Deadline {
        /// The deadline (`RetryPolicy::deadline`, or the call's own).
        deadline: Duration,
        /// Whether a request was in flight when it passed, or an earlier attempt may have
        /// executed.
        may_have_executed: bool,
    },
    /// The answer's body is larger than the configured cap; it was not read past the cap.
    #[error("the response body exceeds the {limit}-byte cap")]
    ResponseTooLarge {
        /// The cap (`ConfigBuilder::max_response_bytes`).
        limit: u64,
    },
    /// The response did not match the action's response type.
    #[error("cannot decode the response at {path}: {message}")]
    Decode {
        /// JSON path of the offending value (`$.FlowApproverUrlInfos[0].ApproverType`).
        path: String,
        /// What was wrong with it, in kinds only (`expected an integer, found string`, a
        /// missing member's name): never the value, which may be personal data.
        message: String,
    },
    /// The service answered with `Response.Error`.
    #[error("{0}")]
    Service(ServiceError<C>),
    /// A paginator fetched its maximum number of pages and refused the next (nothing was
    /// sent).
    #[error("stopped after {limit} pages (the paginator's max_pages)")]
    TooManyPages {
        /// The maximum (`Paginator::max_pages`).
        limit: u32,
    },
    /// A waiter's job was still running when its timeout passed.
    #[error("still running after the waiter's timeout of {timeout:?}")]
    WaitTimeout {
        /// The timeout (`WaitOptions::timeout`).
        timeout: Duration,
    },
    /// The configured rate limiter could not grant a start (its store is unreachable and it
    /// is set to fail rather than fall back); nothing was sent.
    #[error(transparent)]
    RateLimiter(#[from] crate::rate_limit::LimiterError),
}

impl<C> Error<C> {
    /// The service's error code, for service errors.
    pub fn code(&self) -> Option<&C> {
        match self {
            Error::Service(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The request id, when the service answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) => Some(&e.request_id),
            _ => None,
        }
    }

    /// The same error with the service's code turned into `D`.
    pub fn map_code<D>(self, f: impl FnOnce(C) -> D) -> Error<D> {
        match self {
            Error::Validation(v) => Error::Validation(v),
            Error::Credentials(e) => Error::Credentials(e),
            Error::Config(e) => Error::Config(e),
            Error::Transport(e) => Error::Transport(e),
            Error::ConnectTimeout(d) => Error::ConnectTimeout(d),
            Error::AttemptTimeout(d) => Error::AttemptTimeout(d),
            Error::Deadline {
                deadline,
                may_have_executed,
            } => Error::Deadline {
                deadline,
                may_have_executed,
            },
            Error::ResponseTooLarge { limit } => Error::ResponseTooLarge { limit },
            Error::Decode { path, message } => Error::Decode { path, message },
            Error::Service(e) => Error::Service(ServiceError {
                code: f(e.code),
                message: e.message,
                request_id: e.request_id,
            }),
            Error::TooManyPages { limit } => Error::TooManyPages { limit },
            Error::WaitTimeout { timeout } => Error::WaitTimeout { timeout },
            Error::RateLimiter(e) => Error::RateLimiter(e),
        }
    }
}

impl<C: AsRef<str>> Error<C> {
    /// The service's error code as the service spells it, for service errors.
    pub fn code_str(&self) -> Option<&str> {
        self.code().map(AsRef::as_ref)
    }

    /// Whether the service may have run the request. `false` only where it provably did
    /// not: the request was refused before sending (validation, credentials,
    /// configuration), no connection was made, or the service refused it (HTTP 429, or a
    /// code whose class the API 3.0 common codes define as a refusal: authentication,
    /// parameters, rate and size limits, denied or unauthorized operations, missing
    /// resources). `true` once a request was sent and its outcome is unknown: a lost
    /// connection, an attempt timeout, a 5xx, an answer that could not be read, and every
    /// other service code (`InternalError*`, `FailedOperation*`, `ResourceUnavailable`, ...),
    /// for which nothing upstream says the write did not happen.
    ///
    /// A write that failed with `true` may have happened: look it up (DescribeFlowInfo, a
    /// list filtered by what you set) before sending it again. The client itself never
    /// re-sends such a write. For actions it retries after such failures (reads), this
    /// describes the last attempt.
    pub fn may_have_executed(&self) -> bool {
        match self {
            Error::Validation(_) | Error::Credentials(_) | Error::Config(_) => false,
            Error::Transport(e) => e.may_have_executed(),
            Error::ConnectTimeout(_) => false,
            Error::AttemptTimeout(_) => true,
            Error::Deadline {
                may_have_executed, ..
            } => *may_have_executed,
            Error::ResponseTooLarge { .. } | Error::Decode { .. } => true,
            Error::Service(e) => !is_refusal(e.code.as_ref()),
            // Nothing more was sent; what a waiter sends are reads.
            Error::TooManyPages { .. } | Error::WaitTimeout { .. } => false,
            Error::RateLimiter(_) => false,
        }
    }

    /// Whether sending the same request again cannot run it twice and may succeed: the
    /// failure was transient and provably did not execute (no connection, HTTP 429,
    /// `RequestLimitExceeded*`, a deadline that passed before anything was sent). The client
    /// already retried these within its attempts and deadline.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => e.transient && !e.may_have_executed(),
            Error::ConnectTimeout(_) => true,
            Error::Deadline {
                may_have_executed, ..
            } => !may_have_executed,
            Error::Service(e) => is_rate_limited(e.code.as_ref()),
            _ => false,
        }
    }
}

/// `InternalError` and its sub-codes: the service failed while handling the request.
pub(crate) fn is_internal_error(code: &str) -> bool {
    code == "InternalError" || code.starts_with("InternalError.")
}

/// Whether `code` belongs to a class of the API 3.0 common codes that refuses a request
/// (authentication failed, a parameter is wrong or missing, a limit was hit, the operation
/// is denied or unauthorized, the resource does not exist, the action or version is
/// unknown). Any other code leaves the outcome unknown.
pub(crate) fn is_refusal(code: &str) -> bool {
    const CLASSES: [&str; 13] = [
        "AuthFailure",
        "InvalidParameter",
        "InvalidParameterValue",
        "MissingParameter",
        "UnknownParameter",
        "RequestLimitExceeded",
        "RequestSizeLimitExceeded",
        "LimitExceeded",
        "OperationDenied",
        "UnauthorizedOperation",
        "ResourceNotFound",
        "InvalidAction",
        "NoSuchVersion",
    ];
    let class = code.split('.').next().unwrap_or(code);
    CLASSES.contains(&class)
}

/// `RequestLimitExceeded` and its sub-codes: refused before running.
pub(crate) fn is_rate_limited(code: &str) -> bool {
    code == "RequestLimitExceeded" || code.starts_with("RequestLimitExceeded.")
}

impl Error<String> {
    /// The same error with the service's code parsed into `D` (the generated `ErrorCode`).
    pub fn typed<D: for<'a> From<&'a str>>(self) -> Error<D> {
        self.map_code(|code| D::from(code.as_str()))
    }
}

/// A delivery failure, or an answer that is not an API response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportError {
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// The start of a non-JSON response body (a gateway's HTML or text page), at most 256
    /// characters. Bodies that look like JSON are never excerpted: they may carry personal
    /// data (a truncated answer can hold a signer's mobile number).
    pub body_excerpt: Option<String>,
    /// Whether the request may have reached the service (see
    /// [`may_have_executed`](Self::may_have_executed)).
    sent: bool,
    /// Whether trying again later may succeed (no connection, a 429).
    transient: bool,
    /// The underlying error (from the HTTP stack), for `Error::source` chains.
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The longest body excerpt kept in an error, in characters.
const EXCERPT_CHARS: usize = 256;

impl TransportError {
    /// An error with only a message. The request counts as sent (it may have executed)
    /// unless [`not_sent`](Self::not_sent) says otherwise: the safe reading when nobody knows.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
            body_excerpt: None,
            sent: true,
            transient: false,
            source: None,
        }
    }

    /// No connection could be made: nothing was sent, and a later attempt may succeed.
    pub fn connect(message: impl Into<String>) -> Self {
        Self {
            sent: false,
            transient: true,
            ..Self::new(message)
        }
    }

    /// An error about an answer with this status and body. An HTTP 429 is a refusal before
    /// execution (transient); any other answer leaves the outcome unknown.
    pub fn with_response(status: u16, message: impl Into<String>, body: &[u8]) -> Self {
        let refused = status == 429;
        Self {
            status: Some(status),
            body_excerpt: excerpt(body),
            sent: !refused,
            transient: refused,
            ..Self::new(message)
        }
    }

    /// The same error, for a request that provably never left the process.
    pub fn not_sent(mut self) -> Self {
        self.sent = false;
        self
    }

    /// Whether the service may have run the request: `false` when nothing was sent (or the
    /// answer was a 429), `true` otherwise.
    pub fn may_have_executed(&self) -> bool {
        self.sent
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The same, for a boxed error (as hyper's body and connector errors come).
    pub(crate) fn with_boxed_source(
        mut self,
        source: Box<dyn std::error::Error + Send + Sync>,
    ) -> Self {
        self.source = Some(Arc::from(source));
        self
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The first characters of a body that is not JSON; `None` for JSON-like or empty bodies.
fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.is_empty() || trimmed.starts_with(['{', '[']) {
        return None;
    }
    let mut excerpt: String = trimmed.chars().take(EXCERPT_CHARS).collect();
    if trimmed.chars().nth(EXCERPT_CHARS).is_some() {
        excerpt.push('…');
    }
    Some(excerpt)
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "HTTP {status}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(body) = &self.body_excerpt {
            write!(f, " (body: {body:?})")?;
        }
        Ok(())
    }
}

/// An error answered by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError<C = String> {
    /// The error code (`ResourceNotFound.Flow`; `ErrorCode::ResourceNotFoundFlow` in the
    /// generated client).
    pub code: C,
    /// The service's message.
    pub message: String,
    /// The request's id, for support.
    pub request_id: String,
}

impl<C: fmt::Display> fmt::Display for ServiceError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (RequestId {})",
            self.code, self.message, self.request_id
        )
    }
}

impl<C: fmt::Debug + fmt::Display> std::error::Error for ServiceError<C> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str) -> Error {
        Error::Service(ServiceError {
            code: code.to_owned(),
            message: String::new(),
            request_id: "r".to_owned(),
        })
    }

    #[test]
    fn only_a_refusal_class_proves_a_service_error_did_not_execute() {
        for refused in [
            "AuthFailure.SignatureFailure",
            "InvalidParameterValue",
            "MissingParameter.ApproverName",
            "RequestLimitExceeded.UinLimitExceeded",
            "OperationDenied.FlowHasTerminated",
            "ResourceNotFound.Flow",
        ] {
            assert!(!service(refused).may_have_executed(), "{refused}");
        }
        for unknown in [
            "InternalError.Db",
            "FailedOperation",
            "FailedOperation.FlowHasDocument",
            "ResourceUnavailable",
            "ServiceUnavailable",
            "NoSuch.Code",
        ] {
            assert!(service(unknown).may_have_executed(), "{unknown}");
        }
        assert!(service("RequestLimitExceeded").is_retryable());
        assert!(!service("ResourceNotFound.Flow").is_retryable());
    }
}
