//! A local ESS that the official clients accept, for tests: TC3 verification like the
//! service, every action of the spec routed and checked, rate limits, flows as ESS runs them
//! (signing order, automatic signers, rejection, deadlines on the emulator's clock) with sign
//! links that open pages a test signer can sign on, callbacks (FlowStatusChange, encrypted
//! and signed, to URLs registered with ModifyApplicationCallbackInfo or
//! [`Builder::callback`]), fault injection and answer overrides. Tests in any language control
//! it over its admin API under `/_emulator/`; [`Emulator`]'s methods are the same operations
//! in process. The crate's README lists the admin API, the binary's options and variables,
//! and every bound.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use ess_emulator::{Emulator, Fault, FaultRule};
//!
//! let emulator = Emulator::start().await?; // 127.0.0.1, any free port
//! let key = &emulator.credentials()[0];
//! // Point a client at `emulator.url()` with `key.secret_id` / `key.secret_key` ...
//! emulator.inject(FaultRule::new(Fault::Status(502)).action("CreateFlow").times(1));
//! // ... and inspect what arrived.
//! let calls = emulator.received_for("CreateFlow");
//! # let _ = calls;
//! emulator.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! A call goes through, in order: injected faults (before execution), TC3 verification
//! (`AuthFailure.*`), the action and version (`InvalidAction`, `NoSuchVersion`), the rate
//! limit per sub-account and action (`RequestLimitExceeded`; keys of one sub-account share it,
//! [`Credential::in_account`]), the spec check of the body
//! (`UnknownParameter`, `MissingParameter`, `InvalidParameter`, `InvalidParameterValue`,
//! every problem listed with its path), an answer override if one matches ([`Override`]),
//! then the handler: the flow actions keep state, as
//! do seals and roles (CreateSeal, CreateIntegrationRole), whose list actions page them with
//! the offset each documents, and evidence reports, which run [`REPORT_SECONDS`] on the
//! emulator's clock; every other action answers from the spec's example values. A repeated call runs again whatever
//! its `ClientToken`, as on ESS (upstream: the field is no longer used). A handler answers
//! only codes the action's upstream error list or the common API 3.0 codes hold. Every
//! answer is HTTP 200 with `Response.RequestId`, `Content-Type: application/json` and a
//! `Date` from the emulator's clock.
//!
//! Not emulated: GET and form-encoded calls and the legacy HmacSHA1/HmacSHA256 signatures
//! (the official SDKs and CLI POST JSON signed with TC3 by default); such a call gets an
//! `UnsupportedOperation` error envelope that says so. Neither are flow groups, nor the
//! business rules of actions without a handler beyond the spec's checks (they answer from
//! example values).

mod admin;
mod api;
mod auth;
mod callbacks;
mod catalog;
mod control;
mod faults;
mod flows;
mod limit;
mod pages;
mod random;
mod schema;
mod server;

pub use admin::OPERATIONS as ADMIN_OPERATIONS;
pub use callbacks::{
    CALLBACK_ATTEMPTS, CALLBACK_LOG, CALLBACK_QUEUE, CallbackDelivery, CallbackFault,
    CallbackTarget,
};
pub use catalog::{MAX_RECORDS, MAX_TEMPLATE_BYTES, MAX_TEMPLATES_BYTES, REPORT_SECONDS};
pub use control::{ControlError, FlowView, MAX_OVERRIDES, Override, Signer, SignerView};
pub use faults::{Fault, FaultRule, MAX_FAULT_DELAY, MAX_FAULTS};
pub use flows::{
    DEFAULT_DEADLINE_SECONDS, DEFAULT_LINK_SECONDS, DEMO_FLOW_ID, DEMO_ORGANIZATION, DEMO_PERSON,
    MAX_FLOW_BYTES, MAX_LINKS_PER_CALL, approve_status, flow_status,
};
pub use schema::{Problem, Schema};
pub use server::{
    Builder, ClockOffsetError, Credential, Emulator, IDLE_TIMEOUT, MAX_BODY_BYTES,
    MAX_CLOCK_OFFSET, RECEIVED_CAPACITY, RECORDED_BODY_BYTES, RECORDED_BYTES, Received,
    TEST_SECRET_ID, TEST_SECRET_KEY, check_clock_offset,
};
