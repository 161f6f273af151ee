//! The one error type of a call: validation, credentials, transport, timeout, decode or
//! service. Display never includes secrets or request bodies.

use std::fmt;
use std::time::Duration;

use crate::credentials::CredentialsError;
use crate::validate::Violations;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke the spec's constraints; nothing was sent.
    #[error("invalid request: {0}")]
    Validation(Violations),
    /// No usable credentials; nothing was sent.
    #[error("credentials: {0}")]
    Credentials(#[from] CredentialsError),
    /// The request could not be delivered, or the answer was not an API response.
    #[error("transport error: {0}")]
    Transport(TransportError),
    /// The call did not finish in time (per attempt, or the retry deadline).
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The response did not match the action's response type.
    #[error("cannot decode the response at {path}: {message}")]
    Decode {
        /// JSON path of the offending value (`$.FlowApproverUrlInfos[0].ApproverType`).
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// The service answered with `Response.Error`.
    #[error("{0}")]
    Service(ServiceError),
}

impl Error {
    /// The service's error code, for service errors.
    pub fn code(&self) -> Option<&str> {
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
}

/// A delivery failure, or an answer that is not an API response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// The start of the response body, when there was one (at most 256 characters).
    pub body_excerpt: Option<String>,
}

impl TransportError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
            body_excerpt: None,
        }
    }

    pub(crate) fn with_response(status: u16, message: impl Into<String>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut excerpt: String = text.chars().take(256).collect();
        if text.chars().count() > 256 {
            excerpt.push('…');
        }
        Self {
            status: Some(status),
            message: message.into(),
            body_excerpt: Some(excerpt),
        }
    }
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
pub struct ServiceError {
    /// The error code (`ResourceNotFound.Flow`).
    pub code: String,
    /// The service's message.
    pub message: String,
    /// The request's id, for support.
    pub request_id: String,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (RequestId {})",
            self.code, self.message, self.request_id
        )
    }
}

impl std::error::Error for ServiceError {}
