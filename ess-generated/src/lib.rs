//! The typed client for the Tencent e-sign API (ess 2020-11-11), generated at compile time
//! from the ess spec: one request and response type per action, every structure and
//! enumeration they use, the [`ErrorCode`]s, and a [`Client`] with one async method per action.
//!
//! Every action has a cargo feature named after it (`create-flow-sign-url`); the default
//! feature `all` enables every action. To build only what you call:
//!
//! ```toml
//! ess-generated = { version = "0.1", default-features = false, features = ["create-flow-sign-url"] }
//! ```

// `ess.yaml` is spec/ess.yaml (a link, so the published package carries the spec).
ess_derive::generate!("ess.yaml", cargo_features = true);

pub use ess_runtime::{
    Action, CallInfo, Config, ConfigBuilder, Credentials, Endpoint, Error, HttpTransport, Language,
    RetryPolicy, ServiceError, Transport, TransportError, Validate, Violation, Violations,
};
