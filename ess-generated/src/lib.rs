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

/// The generated items, in a module of their own because they bring their imports with them;
/// everything public is re-exported at the crate root.
mod generated {
    // `ess.yaml` is spec/ess.yaml (a link, so the published package carries the spec).
    ess_derive::generate!("ess.yaml", cargo_features = true);
}

pub use generated::*;

// The README's examples compile against the API they show (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

pub use ess_runtime::{
    Action, CallInfo, CallOptions, Config, ConfigBuilder, ConfigError, Credentials,
    CredentialsError, CredentialsProvider, Endpoint, HttpTransport, Language, OffsetKind,
    Paginated, Paginator, ProvideCredentials, RefreshingCredentials, RetryPolicy, Transport,
    TransportError, Validate, Violation, Violations, WaitOptions, WaitState, Waitable, Waited,
    WithOptions,
};

/// Why a call failed; service errors carry a typed [`ErrorCode`]:
///
/// ```no_run
/// # async fn demo(client: ess_generated::Client) {
/// use ess_generated::{CreateFlowSignUrlRequest, Error, ErrorCode};
///
/// let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm");
/// match client.create_flow_sign_url(&request).await {
///     Ok(response) => println!("{} links", response.flow_approver_url_infos().len()),
///     Err(e) if e.code() == Some(&ErrorCode::ResourceNotFoundFlow) => println!("no such flow"),
///     Err(Error::Service(e)) => println!("{}: {} ({})", e.code, e.message, e.request_id),
///     Err(e) => println!("{e}"),
/// }
/// # }
/// ```
pub type Error = ess_runtime::Error<ErrorCode>;

/// Receiving callbacks: [`CallbackKeys`](callback::CallbackKeys) verifies, decrypts and
/// decodes what ESS posts into a [`CallbackEvent`].
pub use ess_runtime::callback;

/// An error answered by the service, with its typed [`ErrorCode`].
pub type ServiceError = ess_runtime::ServiceError<ErrorCode>;
