//! A local ESS that the official clients accept: TC3 verification, spec-driven request
//! validation, rate limits, flow state and fault injection, for tests.
//!
//! Not built yet: this crate holds its place in the workspace until the emulator issue lands.
