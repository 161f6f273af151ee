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

    /// Deserializes `value` as `T` and serializes it back (used by `cargo xtask
    /// verify-examples`); errors name the JSON path.
    pub fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(
        value: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let typed: T = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            format!("at $.{path}: {}", e.into_inner())
        })?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }
}
