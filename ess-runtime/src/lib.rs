//! The hand-written runtime the generated client calls into: configuration and credentials,
//! the TC3-HMAC-SHA256 signer, the HTTP transport with retries, per-action rate limiting and
//! clock-skew recovery, request validation, redaction, and the error type.

mod action;
pub mod callback;
pub mod config;
mod connect;
pub mod credentials;
mod drift;
mod error;
mod http;
mod paginate;
pub mod rate_limit;
mod redact;
#[cfg(feature = "redis")]
pub mod redis_limiter;
pub mod retry;
pub mod signer;
mod unknown;
mod validate;
mod wait;

pub use action::{
    Action, CallInfo, CallOptions, EndpointHosts, Transport, WithOptions, call, decode,
};
pub use config::{Config, ConfigBuilder, ConfigError, Endpoint, Language};
pub use credentials::{
    Credentials, CredentialsError, CredentialsProvider, ProvideCredentials, RefreshingCredentials,
    Secret,
};
pub use error::{Error, ServiceError, TransportError};
pub use http::HttpTransport;
pub use paginate::{OffsetKind, Paginated, Paginator};
pub use rate_limit::{Acquire, LimitKey, Limiter, LimiterError, RateLimiter};
pub use redact::{Elided, Redacted};
#[cfg(feature = "redis")]
pub use redis_limiter::{DEFAULT_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisLimiter, WhenUnavailable};
pub use retry::RetryPolicy;
pub use unknown::UnknownValue;
pub use validate::{Path, Validate, Violation, Violations, check};
pub use wait::{WaitOptions, WaitState, Waitable, Waited, wait};

/// Serde for a generated enum, one line per enum in generated code: the enum travels as its
/// wire value (`as_str()` for `str`, `value()` for an integer type), and every wire value
/// reads back through its `From` impl, unknown ones included.
#[doc(hidden)]
#[macro_export]
macro_rules! __wire_enum_serde {
    ($name:ident, str) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let value: ::std::string::String =
                    $crate::__private::serde::Deserialize::deserialize(deserializer)?;
                ::core::result::Result::Ok(Self::from(value.as_str()))
            }
        }
    };
    ($name:ident, $raw:ty) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&self.value(), serializer)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$raw as $crate::__private::serde::Deserialize>::deserialize(deserializer)
                    .map(Self::from)
            }
        }
    };
}

/// Re-exports generated code relies on, so users need no direct dependency on them.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;

    /// Deserializes `value` as `T` and serializes it back (used by `cargo xtask
    /// verify-examples`); errors name the JSON path.
    #[cfg(feature = "__roundtrip")]
    pub fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(
        value: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let typed: T = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            format!("at $.{path}: {}", e.into_inner())
        })?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }

    /// [`roundtrip`] for a request, with every violation its validation finds (`path:
    /// message`): an official example request is one Tencent shows as valid.
    #[cfg(feature = "__roundtrip")]
    pub fn roundtrip_request<T>(
        value: serde_json::Value,
    ) -> Result<(serde_json::Value, Vec<String>), String>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + crate::Validate,
    {
        let typed: T = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            format!("at $.{path}: {}", e.into_inner())
        })?;
        let refused = match typed.validate() {
            Ok(()) => Vec::new(),
            Err(violations) => violations.iter().map(ToString::to_string).collect(),
        };
        Ok((
            serde_json::to_value(&typed).map_err(|e| e.to_string())?,
            refused,
        ))
    }
}
