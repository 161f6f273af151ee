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

#[cfg(feature = "upload-files")]
impl UploadFile {
    /// A file to upload, from its content: `bytes` become the base64 `FileBody`, `name` the
    /// `FileName` (its extension must match the file's type, `.pdf`, `.docx`, ...). `Debug`
    /// shows the body's length, not the contract.
    ///
    /// A large upload may need more than the client's deadline: give the call its own with
    /// `client.with_options(CallOptions::new().deadline(..)).upload_files(&request)`.
    pub fn from_bytes(name: impl Into<String>, bytes: impl AsRef<[u8]>) -> Self {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(bytes);
        UploadFile::new(body).file_name(name)
    }

    /// A file to upload, read from `path` (without blocking the runtime) and named after
    /// the path's last component.
    pub async fn from_path(path: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
            })?;
        let bytes = tokio::fs::read(path).await?;
        Ok(Self::from_bytes(name, bytes))
    }
}

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
