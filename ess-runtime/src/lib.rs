//! The hand-written runtime the generated client calls into.
//!
//! Today: the contract between generated code and the runtime ([`Action`], [`Transport`]),
//! request validation ([`Validate`], [`Violation`]), redaction of sensitive values
//! ([`Redacted`]), the response envelope and the [`Error`] type. Signing, the HTTP transport,
//! retries and rate limiting come with the runtime issue.

mod action;
mod error;
mod redact;
mod validate;

pub use action::{Action, Transport, call, decode};
pub use error::{Error, ServiceError};
pub use redact::Redacted;
pub use validate::{Validate, Violation, Violations, check};

/// Re-exports generated code relies on, so users need no direct dependency on them.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
