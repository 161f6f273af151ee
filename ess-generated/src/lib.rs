//! The typed client for the Tencent e-sign API (ess 2020-11-11), generated at compile time
//! from the ess spec: one request and response type per action, every shared structure and
//! enumeration, the [`ErrorCode`]s, and a [`Client`] with one async method per action.

ess_derive::generate!("../spec/ess.yaml");

pub use ess_runtime::{Action, Error, ServiceError, Transport, Validate, Violation, Violations};
