//! What a test can do to a running emulator besides calling it: read and move flows (sign,
//! reject, expire), seed flows and templates, override answers, move the clock, reset. One
//! set of operations, which [`Emulator`](crate::Emulator)'s methods and the admin API
//! (`/_emulator/`) both call.

use std::fmt;
use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::flows::{Flow, Flows, SignRefusal, flow_status};
use crate::server::{ClockOffsetError, Shared, check_clock_offset, lock};

/// How many answer overrides, and answers per override, the emulator keeps at most.
pub const MAX_OVERRIDES: usize = 1_000;

/// A signer of a flow: by position in the flow's list (from 0), or by RecipientId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// The signer's position in the flow's signers, from 0.
    Index(usize),
    /// The signer's `RecipientId` (DescribeFlowInfo shows it).
    RecipientId(String),
}

/// Why a control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No flow has the id.
    #[error("no flow has this id")]
    FlowNotFound,
    /// The flow has no such signer.
    #[error("the flow has no such signer")]
    SignerNotFound,
    /// The flow's state does not allow it (closed, not this signer's turn, already signed).
    #[error("{0}")]
    Conflict(&'static str),
    /// The input is not what the operation takes.
    #[error("{0}")]
    Invalid(String),
    /// A bound of the emulator's is reached.
    #[error("{0}")]
    Full(String),
    /// The clock offset is out of range.
    #[error(transparent)]
    Clock(#[from] ClockOffsetError),
}

/// A flow as the emulator holds it (statuses are DescribeFlowInfo's numbers).
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct FlowView {
    /// The FlowId.
    pub flow_id: String,
    /// Its name.
    pub flow_name: String,
    /// DescribeFlowInfo's `FlowStatus`.
    pub status: i64,
    /// Whether its signers may sign in any order.
    pub unordered: bool,
    /// When it expires unless signed, in Unix seconds on the emulator's clock (`None`: never).
    pub deadline: Option<i64>,
    /// Its signers, in order.
    pub signers: Vec<SignerView>,
}

/// A signer of a [`FlowView`].
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct SignerView {
    /// Position in the flow, from 0.
    pub index: usize,
    /// `RecipientId`.
    pub recipient_id: String,
    /// `SignId`.
    pub sign_id: String,
    /// `ApproverType` (0 enterprise, 1 person, 3 and 7 automatic).
    pub approver_type: i64,
    /// The name given (personal data: `Debug` hides it).
    pub name: String,
    /// The mobile given (personal data: `Debug` hides it).
    pub mobile: String,
    /// The organization, for enterprise signers.
    pub organization: String,
    /// DescribeFlowInfo's `ApproveStatus`.
    pub status: i64,
    /// The reason given on rejecting (personal data: `Debug` hides it).
    pub message: String,
}

impl fmt::Debug for FlowView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowView")
            .field("flow_id", &self.flow_id)
            .field("status", &self.status)
            .field("unordered", &self.unordered)
            .field("deadline", &self.deadline)
            .field("signers", &self.signers)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SignerView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerView")
            .field("index", &self.index)
            .field("recipient_id", &self.recipient_id)
            .field("approver_type", &self.approver_type)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl FlowView {
    fn of(flow: &Flow) -> FlowView {
        FlowView {
            flow_id: flow.id.clone(),
            flow_name: flow.name.clone(),
            status: flow.status,
            unordered: flow.unordered,
            deadline: (flow.deadline != i64::MAX).then_some(flow.deadline),
            signers: flow
                .approvers
                .iter()
                .enumerate()
                .map(|(index, a)| SignerView {
                    index,
                    recipient_id: a.recipient_id.clone(),
                    sign_id: a.sign_id.clone(),
                    approver_type: a.approver_type,
                    name: a.name.clone(),
                    mobile: a.mobile.clone(),
                    organization: a.organization.clone(),
                    status: a.status,
                    message: a.message.clone(),
                })
                .collect(),
        }
    }
}

/// Answers a test wants for an action instead of what the emulator would answer: for calls
/// of `action` whose request members equal every value in `when`, the answers in turn. Each
/// answer is the members of `Response` (the emulator adds the RequestId), or
/// `{"Error": {"Code": ..., "Message": ...}}` with a code the action's upstream list or the
/// common codes hold. When the answers run out the override is removed, unless it repeats
/// its last. An overridden call is authenticated, rate-limited and checked against the spec
/// like any other; its handler does not run, so it changes no state.
#[derive(Clone, PartialEq, Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Override {
    /// The action's wire name.
    pub action: String,
    /// Request members and the values they must have (JSON equality); empty: every call.
    #[serde(default)]
    pub when: Map<String, Value>,
    /// The answers, in order.
    pub answers: Vec<Value>,
    /// Keep answering the last answer once the others are used.
    #[serde(default)]
    pub repeat: bool,
}

impl fmt::Debug for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values a test matches or answers may be personal data: only their shape.
        f.debug_struct("Override")
            .field("action", &self.action)
            .field("when", &self.when.keys().collect::<Vec<_>>())
            .field("answers", &format_args!("<{} answers>", self.answers.len()))
            .field("repeat", &self.repeat)
            .finish()
    }
}

impl Override {
    /// Answer calls of `action` with `answer` (once; chain [`Override::then`] for more).
    pub fn new(action: impl Into<String>, answer: Value) -> Self {
        Self {
            action: action.into(),
            when: Map::new(),
            answers: vec![answer],
            repeat: false,
        }
    }

    /// Only calls whose request member `member` equals `value`.
    pub fn when(mut self, member: impl Into<String>, value: Value) -> Self {
        self.when.insert(member.into(), value);
        self
    }

    /// Then this answer, for the next matching call.
    pub fn then(mut self, answer: Value) -> Self {
        self.answers.push(answer);
        self
    }

    /// Keep answering the last answer.
    pub fn repeating(mut self) -> Self {
        self.repeat = true;
        self
    }

    fn matches(&self, action: &str, request: &Map<String, Value>) -> bool {
        self.action == action && self.when.iter().all(|(k, v)| request.get(k) == Some(v))
    }
}

/// The overrides in place, each with the answers it has left.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    rules: Vec<Override>,
}

impl Overrides {
    /// The next answer for this call, if an override matches (and uses it up).
    pub(crate) fn take(&mut self, action: &str, request: &Map<String, Value>) -> Option<Value> {
        if self.rules.is_empty() {
            return None;
        }
        let at = self.rules.iter().position(|r| r.matches(action, request))?;
        let rule = &mut self.rules[at];
        if rule.answers.len() > 1 {
            return Some(rule.answers.remove(0));
        }
        if rule.repeat {
            return rule.answers.first().cloned();
        }
        self.rules.remove(at).answers.pop()
    }

    pub(crate) fn list(&self) -> Vec<Override> {
        self.rules.clone()
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }
}

impl Shared {
    /// Expires the flows whose deadline has passed, with their callbacks.
    pub(crate) fn expire_due(&self) {
        let now = self.now();
        self.expire_locked(&mut lock(&self.flows), now);
    }

    /// [`Shared::expire_due`] under a lock the caller holds (a call that touches flows takes
    /// it once for both).
    pub(crate) fn expire_locked(&self, flows: &mut Flows, now: i64) {
        for id in flows.expire_due(now) {
            if let Some(flow) = flows.get(&id) {
                self.callbacks
                    .flow_changed(flow.callback_data("deadline", now));
            }
        }
    }

    pub(crate) fn set_clock_offset(&self, seconds: i64) -> Result<(), ClockOffsetError> {
        check_clock_offset(seconds)?;
        self.clock_offset.store(seconds, Ordering::Relaxed);
        self.expire_due();
        Ok(())
    }

    pub(crate) fn set_clock_skew(&self, seconds: i64) -> Result<(), ClockOffsetError> {
        check_clock_offset(seconds)?;
        self.clock_skew.store(seconds, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn flow(&self, flow_id: &str) -> Option<FlowView> {
        self.expire_due();
        lock(&self.flows).get(flow_id).map(FlowView::of)
    }

    pub(crate) fn flows(&self) -> Vec<FlowView> {
        self.expire_due();
        lock(&self.flows)
            .all()
            .into_iter()
            .map(FlowView::of)
            .collect()
    }

    pub(crate) fn sign(&self, flow_id: &str, signer: &Signer) -> Result<FlowView, ControlError> {
        self.act(flow_id, signer, |flows, index, now| {
            flows.sign_as(flow_id, index, now)
        })
    }

    pub(crate) fn reject(
        &self,
        flow_id: &str,
        signer: &Signer,
        reason: &str,
    ) -> Result<FlowView, ControlError> {
        self.act(flow_id, signer, |flows, index, now| {
            flows.reject(flow_id, index, reason, now)
        })
    }

    /// A signer acts on a flow, then the callbacks the change makes.
    fn act(
        &self,
        flow_id: &str,
        signer: &Signer,
        act: impl FnOnce(&mut Flows, usize, i64) -> Result<(), SignRefusal>,
    ) -> Result<FlowView, ControlError> {
        self.expire_due();
        let now = self.now();
        let mut flows = lock(&self.flows);
        let flow = flows.get(flow_id).ok_or(ControlError::FlowNotFound)?;
        let index = match signer {
            Signer::Index(i) => Some(*i).filter(|i| *i < flow.approvers.len()),
            Signer::RecipientId(id) => flow.approvers.iter().position(|a| &a.recipient_id == id),
        }
        .ok_or(ControlError::SignerNotFound)?;
        act(&mut flows, index, now).map_err(|refusal| match refusal {
            SignRefusal::NotYourTurn => {
                ControlError::Conflict("the flow is ordered and it is not this signer's turn yet")
            }
            SignRefusal::AlreadySigned => {
                ControlError::Conflict("this signer has already signed or rejected")
            }
            _ => ControlError::Conflict("the flow is not open: not started, or closed"),
        })?;
        let flow = flows.get(flow_id).ok_or(ControlError::FlowNotFound)?;
        self.flow_changed(flow, now);
        Ok(FlowView::of(flow))
    }

    /// The callbacks a signer's act makes: a signature (and the completion when it was the
    /// last, at the same time), or a rejection.
    /// The callbacks of a flow that has just started: the start, and the finish when its
    /// automatic signers alone signed it complete.
    pub(crate) fn flow_started(&self, flow: &Flow, now: i64) {
        self.callbacks
            .flow_changed(flow.callback_data("start", now));
        if flow.status == flow_status::SIGNED {
            self.callbacks
                .flow_changed(flow.callback_data("finish", now));
        }
    }

    pub(crate) fn flow_changed(&self, flow: &Flow, now: i64) {
        match flow.status {
            flow_status::REJECTED => {
                self.callbacks
                    .flow_changed(flow.callback_data("reject", now));
            }
            status => {
                self.callbacks.flow_changed(flow.callback_data("sign", now));
                if status == flow_status::SIGNED {
                    self.callbacks
                        .flow_changed(flow.callback_data("finish", now));
                }
            }
        }
    }

    pub(crate) fn expire(&self, flow_id: &str) -> Result<FlowView, ControlError> {
        let now = self.now();
        {
            let mut flows = lock(&self.flows);
            let flow = flows.get(flow_id).ok_or(ControlError::FlowNotFound)?;
            if flow.is_closed() {
                return Err(ControlError::Conflict(
                    "the flow is already signed, rejected, expired or cancelled",
                ));
            }
            flows.set_deadline(flow_id, now);
        }
        self.flow(flow_id).ok_or(ControlError::FlowNotFound)
    }

    pub(crate) fn seed_flow(
        &self,
        request: &Value,
        started: bool,
    ) -> Result<FlowView, ControlError> {
        let Value::Object(request) = request else {
            return Err(ControlError::Invalid(
                "a flow is seeded from a CreateFlow body (a JSON object)".to_owned(),
            ));
        };
        // Held to CreateFlow's spec, as a CreateFlow call would be.
        if let Some(action) = self.schema.action("CreateFlow") {
            let problems = self.schema.check(action, request);
            if !problems.is_empty() {
                return Err(ControlError::Invalid(format!(
                    "the request breaks CreateFlow's spec: {}",
                    crate::api::describe_problems(&problems)
                )));
            }
        }
        let now = self.now();
        let mut flows = lock(&self.flows);
        let refused = |r: crate::flows::Refused| ControlError::Invalid(r.message);
        let created = flows.create(request, now, false).map_err(refused)?;
        let id = created
            .get("FlowId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if started {
            let by_id = Map::from_iter([("FlowId".to_owned(), Value::String(id.clone()))]);
            flows.create_document(&by_id, &self.url).map_err(refused)?;
            flows.start(&by_id, now).map_err(refused)?;
        }
        let flow = flows.get(&id).ok_or(ControlError::FlowNotFound)?;
        if started {
            self.flow_started(flow, now);
        }
        Ok(FlowView::of(flow))
    }

    pub(crate) fn seed_template(&self, template: &Value) -> Result<String, ControlError> {
        lock(&self.catalog).seed_template(template)
    }

    /// The seeded templates, by id.
    pub(crate) fn templates(&self) -> Vec<Value> {
        lock(&self.catalog).templates()
    }

    pub(crate) fn add_override(&self, rule: Override) -> Result<(), ControlError> {
        let action = self
            .schema
            .action(&rule.action)
            .ok_or_else(|| ControlError::Invalid(format!("`{}` is not an action", rule.action)))?;
        if rule.answers.is_empty() || rule.answers.len() > MAX_OVERRIDES {
            return Err(ControlError::Invalid(format!(
                "an override takes 1 to {MAX_OVERRIDES} answers"
            )));
        }
        for (i, answer) in rule.answers.iter().enumerate() {
            let Value::Object(members) = answer else {
                return Err(ControlError::Invalid(format!(
                    "answers[{i}] is not a JSON object (the members of Response)"
                )));
            };
            if let Some(error) = members.get("Error") {
                let code = error
                    .get("Code")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if self.schema.answerable(action, code).is_none() {
                    return Err(ControlError::Invalid(format!(
                        "answers[{i}]: {} does not answer `{code}` (neither its upstream error list nor the common codes hold it)",
                        rule.action
                    )));
                }
            }
        }
        let mut overrides = lock(&self.overrides);
        if overrides.rules.len() >= MAX_OVERRIDES {
            return Err(ControlError::Full(format!(
                "the emulator keeps at most {MAX_OVERRIDES} overrides"
            )));
        }
        overrides.rules.push(rule);
        Ok(())
    }

    pub(crate) fn clear_overrides(&self) {
        lock(&self.overrides).clear();
    }

    pub(crate) fn reset(&self) {
        // Lock order: flows, then catalog.
        let mut flows = lock(&self.flows);
        *flows = Flows::default();
        if self.initial.seed_demo {
            flows.seed_demo(self.now());
        }
        *lock(&self.catalog) = Catalog::default();
        drop(flows);
        self.clear_overrides();
        lock(&self.received).clear();
        *lock(&self.faults) = self.initial.faults.clone();
        self.clock_offset
            .store(self.initial.clock_offset, Ordering::Relaxed);
        self.clock_skew
            .store(self.initial.clock_skew, Ordering::Relaxed);
        self.freeze_clock(false);
        self.callbacks.reset();
        if let Some(limiter) = &self.limiter {
            limiter.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_answer_in_turn_then_fall_through_or_repeat() {
        let mut overrides = Overrides::default();
        let request = |id: &str| Map::from_iter([("FlowId".to_owned(), json!(id))]);
        overrides.rules.push(
            Override::new("DescribeFileUrls", json!({"n": 1}))
                .when("FlowId", json!("a"))
                .then(json!({"n": 2})),
        );
        overrides
            .rules
            .push(Override::new("DescribeFileUrls", json!({"n": 9})).repeating());
        // The first override matches only FlowId "a"; the second, anything.
        assert_eq!(
            overrides.take("DescribeFileUrls", &request("b")),
            Some(json!({"n": 9}))
        );
        assert_eq!(
            overrides.take("DescribeFileUrls", &request("a")),
            Some(json!({"n": 1}))
        );
        assert_eq!(
            overrides.take("DescribeFileUrls", &request("a")),
            Some(json!({"n": 2}))
        );
        // Used up: "a" now falls to the repeating one, which stays.
        assert_eq!(
            overrides.take("DescribeFileUrls", &request("a")),
            Some(json!({"n": 9}))
        );
        assert_eq!(overrides.list().len(), 1);
        assert_eq!(overrides.take("CreateFlow", &request("a")), None);
    }
}
