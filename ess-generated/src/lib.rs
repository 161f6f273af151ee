//! The client users depend on, generated at compile time from the ess spec.
//!
//! Today it carries the service metadata and the list of actions; the typed requests,
//! responses and client methods come with the generator issue.

ess_derive::generate!("../spec/ess.yaml");
