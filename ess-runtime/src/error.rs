//! The one error type of a call: validation, transport, decode or service.

use std::fmt;

use crate::validate::Violations;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke the spec's constraints; nothing was sent.
    #[error("invalid request: {0}")]
    Validation(Violations),
    /// The request could not be delivered, or the answer was not an API response.
    #[error("transport error: {0}")]
    Transport(String),
    /// The response did not match the action's response type.
    #[error("cannot decode the response: {0}")]
    Decode(String),
    /// The service answered with `Response.Error`.
    #[error("{0}")]
    Service(ServiceError),
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
