//! The hand-written runtime the generated client calls into: configuration, credentials, the
//! TC3-HMAC-SHA256 signer, transport, retries, rate limiting and error classification.
//!
//! Not built yet: this crate holds its place in the workspace until the runtime issue lands.
