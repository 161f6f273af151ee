//! Contract flows and their sign links: the state behind CreateFlow, CreateFlowByFiles,
//! CreateDocument, StartFlow, CreateFlowSignUrl, DescribeFlowInfo and CancelFlow, and the
//! pages the links open. Status numbers are the ones DescribeFlowInfo documents.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

/// How many flows, and how many live sign links, the emulator keeps at most.
pub(crate) const MAX_FLOWS: usize = 100_000;
const MAX_LINKS: usize = 100_000;
/// How many signers one CreateFlowSignUrl call may ask links for (the emulator's bound; a
/// flow has at most 50 signers, upstream).
pub const MAX_LINKS_PER_CALL: usize = 50;

/// CreateFlow's deadline when `DeadLine` is not given: 365 days after creation (upstream).
pub const DEFAULT_DEADLINE_SECONDS: i64 = 365 * 24 * 3600;

/// The sign-link lifetime when `ExpiredOn` is not given, in seconds.
pub const DEFAULT_LINK_SECONDS: i64 = 1800;

/// `FlowStatus` values of DescribeFlowInfo.
pub mod flow_status {
    /// Created, not started.
    pub const NOT_STARTED: i64 = 0;
    /// Started, nobody has signed.
    pub const WAITING: i64 = 1;
    /// Some signers have signed.
    pub const PARTIALLY_SIGNED: i64 = 2;
    /// A signer rejected it.
    pub const REJECTED: i64 = 3;
    /// Every signer has signed.
    pub const SIGNED: i64 = 4;
    /// The deadline passed before every signer signed.
    pub const EXPIRED: i64 = 5;
    /// Cancelled by the initiator.
    pub const CANCELLED: i64 = 6;
}

/// `ApproveStatus` values of DescribeFlowInfo.
pub mod approve_status {
    /// The flow has not started.
    pub const NOT_STARTED: i64 = 0;
    /// In an ordered flow, a signer whose turn has not come.
    pub const NOT_YET_DUE: i64 = 1;
    /// Waiting for this signer.
    pub const WAITING: i64 = 2;
    /// Signed.
    pub const SIGNED: i64 = 3;
    /// This signer rejected the contract.
    pub const REJECTED: i64 = 4;
    /// The deadline passed before this signer signed.
    pub const EXPIRED: i64 = 5;
    /// The flow was cancelled before this signer signed.
    pub const CANCELLED: i64 = 6;
}

/// The flow seeded at start, so examples and users' tests have something to sign.
pub const DEMO_FLOW_ID: &str = "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm";
/// The demo flow's personal signer (ApproverType 1): name and mobile.
pub const DEMO_PERSON: (&str, &str) = ("张三", "13800000000");
/// The demo flow's enterprise signer (ApproverType 0): name, mobile and organization.
pub const DEMO_ORGANIZATION: (&str, &str, &str) = ("李四", "13900000000", "示例科技有限公司");

/// An error a handler answers with: why, and a message naming paths, not values. The code
/// the answer carries depends on the action ([`code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) why: Why,
    pub(crate) message: String,
}

pub(crate) fn refused(why: Why, message: impl Into<String>) -> Refused {
    Refused {
        why,
        message: message.into(),
    }
}

/// Why a stateful handler refuses a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// The emulator's own bound on flows or links.
    Capacity,
    /// A flow without signers.
    NoApprovers,
    /// A deadline that has already passed.
    DeadlinePassed,
    /// A signer who must be named is not.
    MissingApproverName,
    /// A signer who must have a mobile number has none.
    MissingApproverMobile,
    /// An enterprise signer without its organization.
    MissingOrganization,
    /// An empty `FlowId`.
    MissingFlowId,
    /// Neither `FlowIds` nor `FlowGroupId`.
    MissingFlowIds,
    /// No flow has the id.
    FlowNotFound,
    /// A `FlowGroupId` the emulator does not know (it keeps no flow groups).
    FlowGroupNotFound,
    /// StartFlow on a started flow.
    FlowHasStarted,
    /// CreateDocument on a flow that has its document.
    FlowHasDocument,
    /// StartFlow before CreateDocument.
    FlowHasNoDocument,
    /// A signing link for a flow not yet started.
    FlowNotStarted,
    /// The flow is signed or cancelled.
    FlowTerminated,
    /// No signer of the flow matches the one asked for.
    NoSuchSigner,
    /// A callback registration the emulator cannot serve (no key, an unknown OperateType).
    BadCallbackInfo,
    /// The emulator's own bound on callback URLs.
    CallbackCapacity,
    /// A second official seal.
    SealExists,
    /// An evidence report for a flow not every signer has signed.
    FlowNotSigned,
    /// No evidence report has the id.
    TaskNotFound,
    /// Templates are seeded and none has the id.
    TemplateNotFound,
    /// The flow's signers are not the template's participants.
    SignersDifferFromTemplate,
    /// A resource id UploadFiles did not give, or gave more than its hour ago.
    FileNotFound,
    /// The emulator failed.
    Internal,
}

/// The code each handled action answers for each way it refuses: the most specific code in
/// the action's error list (upstream's), else a common API 3.0 code. A test holds every entry
/// to the spec's lists, so the emulator never answers a code ESS does not list for the action.
pub(crate) const CODES: &[(&str, Why, &str)] = &[
    (
        "ModifyApplicationCallbackInfo",
        Why::BadCallbackInfo,
        "InvalidParameterValue",
    ),
    (
        "ModifyApplicationCallbackInfo",
        Why::CallbackCapacity,
        "FailedOperation",
    ),
    ("CreateFlow", Why::Capacity, "LimitExceeded"),
    ("CreateSeal", Why::Capacity, "FailedOperation"),
    ("CreateSeal", Why::SealExists, "OperationDenied.AlreadyHas"),
    ("UploadFiles", Why::Capacity, "LimitExceeded"),
    ("CreateIntegrationRole", Why::Capacity, "FailedOperation"),
    ("CreateFlowEvidenceReport", Why::Capacity, "FailedOperation"),
    (
        "CreateFlowEvidenceReport",
        Why::FlowNotFound,
        "ResourceNotFound.Flow",
    ),
    (
        "CreateFlowEvidenceReport",
        Why::FlowNotSigned,
        "OperationDenied.FlowStatusForbid",
    ),
    (
        "DescribeFlowEvidenceReport",
        Why::TaskNotFound,
        "InvalidParameter.DataNotFound",
    ),
    ("CreateFlow", Why::NoApprovers, "MissingParameter"),
    (
        "CreateFlow",
        Why::MissingApproverName,
        "MissingParameter.ApproverName",
    ),
    (
        "CreateFlow",
        Why::MissingApproverMobile,
        "MissingParameter.ApproverMobile",
    ),
    (
        "CreateFlow",
        Why::MissingOrganization,
        "MissingParameter.ApproverOrganizationInfo",
    ),
    ("CreateFlowByFiles", Why::Capacity, "LimitExceeded"),
    (
        "CreateFlowByFiles",
        Why::FileNotFound,
        "ResourceNotFound.Resource",
    ),
    (
        "CreateFlowByFiles",
        Why::NoApprovers,
        "MissingParameter.FlowApprover",
    ),
    (
        "CreateFlowByFiles",
        Why::MissingApproverName,
        "MissingParameter.ApproverName",
    ),
    (
        "CreateFlowByFiles",
        Why::MissingApproverMobile,
        "MissingParameter.ApproverMobile",
    ),
    (
        "CreateFlowByFiles",
        Why::MissingOrganization,
        "MissingParameter.ApproverOrganizationInfo",
    ),
    (
        "CreateFlow",
        Why::DeadlinePassed,
        "InvalidParameter.FlowDeadLine",
    ),
    (
        "CreateFlowByFiles",
        Why::DeadlinePassed,
        "InvalidParameter.FlowDeadLine",
    ),
    ("CreateDocument", Why::MissingFlowId, "MissingParameter"),
    (
        "CreateDocument",
        Why::TemplateNotFound,
        "ResourceNotFound.Template",
    ),
    (
        "CreateDocument",
        Why::SignersDifferFromTemplate,
        "OperationDenied.ApproverNoMatchTemplate",
    ),
    ("CreateDocument", Why::FlowNotFound, "ResourceNotFound"),
    (
        "CreateDocument",
        Why::FlowHasDocument,
        "FailedOperation.FlowHasDocument",
    ),
    ("StartFlow", Why::MissingFlowId, "MissingParameter"),
    ("StartFlow", Why::FlowNotFound, "ResourceNotFound.Flow"),
    (
        "StartFlow",
        Why::FlowHasStarted,
        "OperationDenied.FlowHasStarted",
    ),
    (
        "StartFlow",
        Why::FlowTerminated,
        "OperationDenied.FlowHasTerminated",
    ),
    (
        "StartFlow",
        Why::FlowHasNoDocument,
        "FailedOperation.FlowHasNoDocument",
    ),
    ("CreateFlowSignUrl", Why::Capacity, "LimitExceeded"),
    ("CreateFlowSignUrl", Why::MissingFlowId, "MissingParameter"),
    (
        "CreateFlowSignUrl",
        Why::FlowNotFound,
        "ResourceNotFound.Flow",
    ),
    ("CreateFlowSignUrl", Why::FlowNotStarted, "FailedOperation"),
    ("CreateFlowSignUrl", Why::FlowTerminated, "FailedOperation"),
    ("CreateFlowSignUrl", Why::NoSuchSigner, "ResourceNotFound"),
    ("DescribeFlowInfo", Why::MissingFlowIds, "MissingParameter"),
    (
        "DescribeFlowInfo",
        Why::FlowNotFound,
        "ResourceNotFound.Resource",
    ),
    (
        "DescribeFlowInfo",
        Why::FlowGroupNotFound,
        "ResourceNotFound.Resource",
    ),
    ("DescribeFlowInfo", Why::Internal, "InternalError"),
    ("CancelFlow", Why::MissingFlowId, "MissingParameter"),
    ("CancelFlow", Why::FlowNotFound, "ResourceNotFound.Flow"),
    (
        "CancelFlow",
        Why::FlowTerminated,
        "OperationDenied.FlowHasTerminated",
    ),
];

/// The code `action` answers for `why`, from [`CODES`]. A pair the table lacks is a defect
/// of the emulator (a debug build panics, so tests find it); a release build answers the
/// common `FailedOperation`.
pub(crate) fn code(action: &str, why: Why) -> &'static str {
    let found = CODES
        .iter()
        .find(|(a, w, _)| *a == action && *w == why)
        .map(|(_, _, code)| *code);
    debug_assert!(
        found.is_some(),
        "no code for {action} refusing with {why:?}"
    );
    found.unwrap_or("FailedOperation")
}

#[derive(Debug, Clone)]
pub(crate) struct Flow {
    pub(crate) id: String,
    pub(crate) name: String,
    description: String,
    /// The FlowType given at creation, shown by DescribeFlowInfo.
    flow_type: String,
    pub(crate) status: i64,
    message: String,
    created_on: i64,
    creator: String,
    /// The caller's own value, returned unchanged in callbacks.
    user_data: String,
    document: Option<String>,
    pub(crate) approvers: Vec<Approver>,
    /// Whether signers may sign in any order (CreateFlow's `Unordered`; ordered by default).
    pub(crate) unordered: bool,
    /// When the flow expires unless signed, in Unix seconds (`i64::MAX`: never).
    pub(crate) deadline: i64,
}

impl Flow {
    /// What it holds, in bytes: its text, and a fixed allowance for the rest of it and of
    /// each signer.
    fn size(&self) -> usize {
        let signers: usize = self
            .approvers
            .iter()
            .map(|a| {
                256 + a.name.len()
                    + a.mobile.len()
                    + a.organization.len()
                    + a.user_id.len()
                    + a.message.len()
            })
            .sum();
        512 + self.name.len()
            + self.description.len()
            + self.flow_type.len()
            + self.creator.len()
            + self.user_data.len()
            + signers
    }

    /// Sends the flow to its signers (StartFlow, or CreateFlowByFiles at once): automatic
    /// signers sign as it starts (upstream, ApproverType 3 and 7), then the others' turns
    /// are arranged.
    fn begin(&mut self, now: i64) {
        self.status = flow_status::WAITING;
        for approver in &mut self.approvers {
            if approver.signs_automatically() {
                approver.status = approve_status::SIGNED;
                approver.approve_time = now;
            } else {
                approver.status = approve_status::NOT_YET_DUE;
            }
        }
        self.arrange();
    }

    /// After a signature: who may sign now. In an ordered flow (the default) the first
    /// signer who has not signed is due and the rest wait (DescribeFlowInfo's 1); in an
    /// unordered one every signer who has not signed is due.
    fn arrange(&mut self) {
        let mut due = true;
        for approver in &mut self.approvers {
            if approver.status == approve_status::SIGNED {
                continue;
            }
            approver.status = if due {
                approve_status::WAITING
            } else {
                approve_status::NOT_YET_DUE
            };
            due = self.unordered;
        }
        let signed = self
            .approvers
            .iter()
            .filter(|a| a.status == approve_status::SIGNED)
            .count();
        self.status = if signed == self.approvers.len() {
            flow_status::SIGNED
        } else if signed > 0 {
            flow_status::PARTIALLY_SIGNED
        } else {
            flow_status::WAITING
        };
    }

    /// Its signers' kinds in order: `true` for an enterprise.
    pub(crate) fn signer_kinds(&self) -> Vec<bool> {
        self.approvers
            .iter()
            .map(Approver::is_organization)
            .collect()
    }

    /// Signed, rejected, expired or cancelled: nothing more happens to it.
    pub(crate) fn is_closed(&self) -> bool {
        matches!(
            self.status,
            flow_status::SIGNED
                | flow_status::REJECTED
                | flow_status::EXPIRED
                | flow_status::CANCELLED
        )
    }

    /// Started and not closed: its due signers may sign or reject.
    pub(crate) fn is_open(&self) -> bool {
        matches!(
            self.status,
            flow_status::WAITING | flow_status::PARTIALLY_SIGNED
        )
    }

    /// The MsgData of a FlowStatusChange after `operate` (`start`, `sign`, `finish`,
    /// `cancel`) at `now`: only members the facts describe and the emulator models (no
    /// FlowMessage, UserId, Required or DeadLine: their meaning or value is unconfirmed or
    /// not modelled). The
    /// callback statuses share their numbers with DescribeFlowInfo's for the states it
    /// models (1 started, 2 partly signed, 3 rejected, 4 all signed, 5 expired, 6 cancelled;
    /// signers 2 pending, 3 signed, 4 rejected, 5 expired, 6 cancelled). The callback list
    /// has no "not yet due" (DescribeFlowInfo's 1): such a signer is reported pending (2).
    pub(crate) fn callback_data(&self, operate: &str, now: i64) -> Map<String, Value> {
        let approvers: Vec<Value> = self
            .approvers
            .iter()
            .map(|a| {
                json!({
                    "RecipientId": a.recipient_id,
                    "ApproverType": a.approver_type,
                    "OrganizationName": a.organization,
                    "ApproverName": a.name,
                    "ApproverMobile": a.mobile,
                    "ApproveCallbackStatus": callback_status(a.status),
                    "ApproveTime": a.approve_time,
                })
            })
            .collect();
        object(json!({
            "FlowId": self.id,
            "DocumentId": self.document.clone().unwrap_or_default(),
            "FlowName": self.name,
            "FlowDescription": self.description,
            "FlowCallbackStatus": self.status,
            "CallbackType": "sign",
            "Operate": operate,
            "CreateOn": self.created_on,
            "UpdatedOn": now,
            "OccurTime": now,
            "UserData": self.user_data,
            "Approvers": approvers,
        }))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Approver {
    /// 0 enterprise, 1 person, 3 enterprise automatic signing, 7 person automatic signing.
    pub(crate) approver_type: i64,
    pub(crate) name: String,
    pub(crate) mobile: String,
    pub(crate) organization: String,
    pub(crate) recipient_id: String,
    pub(crate) sign_id: String,
    /// The `UserId` the signer was named by at creation (an employee), if any.
    pub(crate) user_id: String,
    pub(crate) status: i64,
    approve_time: i64,
    /// The reason given on rejecting.
    pub(crate) message: String,
}

impl Approver {
    fn is_organization(&self) -> bool {
        matches!(self.approver_type, 0 | 3)
    }

    /// Signs without a person, as the flow starts (upstream: ApproverType 3, an enterprise's
    /// automatic seal, and 7, a person's allow-listed automatic signing).
    fn signs_automatically(&self) -> bool {
        matches!(self.approver_type, 3 | 7)
    }

    fn is_pending(&self) -> bool {
        matches!(
            self.status,
            approve_status::NOT_STARTED | approve_status::NOT_YET_DUE | approve_status::WAITING
        )
    }
}

/// What a sign link points at.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) flow_id: String,
    /// Index into the flow's approvers; `None` is the initiator's preview.
    pub(crate) approver: Option<usize>,
    pub(crate) preview: bool,
    pub(crate) expires_at: i64,
    pub(crate) jump_url: Option<String>,
}

/// Every flow and link.
#[derive(Debug)]
pub(crate) struct Flows {
    flows: HashMap<String, Flow>,
    links: HashMap<String, Link>,
    /// The deadlines of flows that may still expire, soonest first.
    deadlines: BTreeSet<(i64, String)>,
    /// CreateFlowByFiles previews (NeedPreview): their document id, the flow's name and
    /// until when the link works.
    previews: HashMap<String, (String, i64)>,
    /// What the flows hold, in bytes (their text and a fixed allowance per flow and signer),
    /// and the most they may: state is bounded by bytes as well as by count.
    bytes: usize,
    byte_budget: usize,
}

/// The most the flows may hold, in bytes: their text, and a fixed allowance per flow and
/// signer.
pub const MAX_FLOW_BYTES: usize = 256 * 1024 * 1024;

impl Default for Flows {
    fn default() -> Self {
        Flows {
            flows: HashMap::new(),
            links: HashMap::new(),
            deadlines: BTreeSet::new(),
            previews: HashMap::new(),
            bytes: 0,
            byte_budget: MAX_FLOW_BYTES,
        }
    }
}

/// How long a CreateFlowByFiles preview link works (upstream: 300 seconds).
const PREVIEW_SECONDS: i64 = 300;

/// A 32-character id in the service's style, from the operating system's CSPRNG: link
/// tokens are ids too, and whoever holds one can sign.
pub(crate) fn new_id() -> String {
    let mut id = String::from("yD");
    id.push_str(&crate::random::alphanumeric(30));
    id
}

/// A non-empty text member of `request`.
pub(crate) fn text<'a>(request: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    request
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn int(request: &Map<String, Value>, key: &str) -> Option<i64> {
    request.get(key).and_then(Value::as_i64)
}

impl Flows {
    /// The demo flow, started, with a personal and an enterprise signer.
    pub(crate) fn seed_demo(&mut self, now: i64) {
        let (person, mobile) = DEMO_PERSON;
        let (employee, employee_mobile, organization) = DEMO_ORGANIZATION;
        let approvers = vec![
            approver(1, person, mobile, "", approve_status::WAITING),
            approver(
                0,
                employee,
                employee_mobile,
                organization,
                approve_status::WAITING,
            ),
        ];
        self.flows.insert(
            DEMO_FLOW_ID.to_owned(),
            Flow {
                id: DEMO_FLOW_ID.to_owned(),
                name: "Demo contract".to_owned(),
                description: "Seeded by the emulator".to_owned(),
                flow_type: String::new(),
                status: flow_status::WAITING,
                message: String::new(),
                created_on: now,
                creator: "emulator".to_owned(),
                user_data: String::new(),
                document: Some(new_id()),
                approvers,
                unordered: true,
                deadline: i64::MAX,
            },
        );
    }

    pub(crate) fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.flows.keys().cloned().collect();
        ids.sort_unstable();
        ids
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Flow> {
        self.flows.get(id)
    }

    /// The flow whose document has this id (what CreateDocument's PreviewFileUrl names).
    pub(crate) fn by_document(&self, document: &str) -> Option<&Flow> {
        self.flows
            .values()
            .find(|f| f.document.as_deref() == Some(document))
    }

    pub(crate) fn link(&self, token: &str) -> Option<(&Link, &Flow)> {
        let link = self.links.get(token)?;
        Some((link, self.flows.get(&link.flow_id)?))
    }

    fn flow_mut(&mut self, request: &Map<String, Value>) -> Result<&mut Flow, Refused> {
        let id = text(request, "FlowId")
            .ok_or_else(|| refused(Why::MissingFlowId, "`FlowId` is required"))?;
        self.flows
            .get_mut(id)
            .ok_or_else(|| refused(Why::FlowNotFound, "no flow has this `FlowId`"))
    }

    /// CreateFlow, and CreateFlowByFiles (which also starts the flow with its files).
    pub(crate) fn create(
        &mut self,
        request: &Map<String, Value>,
        now: i64,
        with_files: bool,
    ) -> Result<Map<String, Value>, Refused> {
        let mut flow = self.build(request, now, with_files)?;
        if with_files {
            flow.begin(now);
        }
        let id = flow.id.clone();
        if flow.deadline != i64::MAX {
            self.deadlines.insert((flow.deadline, id.clone()));
        }
        let approvers = answer_approvers(&flow);
        self.bytes = self.bytes.saturating_add(flow.size());
        self.flows.insert(id.clone(), flow);
        let mut response = Map::new();
        response.insert("FlowId".to_owned(), Value::String(id));
        if with_files {
            // Its answer's signers; PreviewUrl only in preview mode (empty otherwise).
            response.insert("Approvers".to_owned(), approvers);
            response.insert("PreviewUrl".to_owned(), Value::String(String::new()));
        }
        Ok(response)
    }

    /// The flow a creation call describes, checked as the service checks it and within the
    /// emulator's bounds; nothing is stored.
    fn build(
        &self,
        request: &Map<String, Value>,
        now: i64,
        with_files: bool,
    ) -> Result<Flow, Refused> {
        if self.flows.len() >= MAX_FLOWS {
            return Err(refused(
                Why::Capacity,
                format!("the emulator keeps at most {MAX_FLOWS} flows"),
            ));
        }
        let list = request.get("Approvers").and_then(Value::as_array);
        let Some(list) = list.filter(|l| !l.is_empty()) else {
            return Err(refused(
                Why::NoApprovers,
                "`Approvers` needs at least one signer",
            ));
        };
        let mut approvers = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let item = item.as_object().cloned().unwrap_or_default();
            let approver_type = int(&item, "ApproverType").unwrap_or(1);
            let field = |key: &str| text(&item, key).unwrap_or_default().to_owned();
            let organization = field("OrganizationName");
            // Upstream: name and mobile are needed unless the signer is named by UserId; a
            // dynamic signer (ApproverOption.FillType 1) is filled in after creation, and
            // or-sign participants (CustomApproverTag) are any of a group.
            let dynamic = item
                .get("ApproverOption")
                .and_then(|o| o.get("FillType"))
                .and_then(Value::as_i64)
                == Some(1);
            let named_otherwise =
                !field("UserId").is_empty() || dynamic || !field("CustomApproverTag").is_empty();
            if matches!(approver_type, 0 | 1 | 7) && !named_otherwise {
                if field("ApproverName").is_empty() {
                    return Err(refused(
                        Why::MissingApproverName,
                        format!("`Approvers[{i}].ApproverName` is required"),
                    ));
                }
                if field("ApproverMobile").is_empty() {
                    return Err(refused(
                        Why::MissingApproverMobile,
                        format!("`Approvers[{i}].ApproverMobile` is required"),
                    ));
                }
            }
            if matches!(approver_type, 0 | 3) && organization.is_empty() && !dynamic {
                return Err(refused(
                    Why::MissingOrganization,
                    format!("`Approvers[{i}].OrganizationName` is required for enterprise signers"),
                ));
            }
            let mut signer = approver(
                approver_type,
                &field("ApproverName"),
                &field("ApproverMobile"),
                &organization,
                approve_status::NOT_STARTED,
            );
            signer.user_id = field("UserId");
            approvers.push(signer);
        }
        // Both CreateFlow's DeadLine and CreateFlowByFiles' Deadline document the same
        // default: 365 days after creation. Both list InvalidParameter.FlowDeadLine, an
        // invalid deadline; upstream does not say in words that one already past is
        // invalid, and the emulator takes that strict reading (such a flow would expire at
        // once).
        let deadline = match int(request, "DeadLine").or_else(|| int(request, "Deadline")) {
            Some(at) if at > 0 && at <= now => {
                return Err(refused(
                    Why::DeadlinePassed,
                    "the deadline is in the past: give a Unix time (seconds) after now",
                ));
            }
            Some(at) if at > 0 => at,
            _ => now.saturating_add(DEFAULT_DEADLINE_SECONDS),
        };
        let flow = Flow {
            id: new_id(),
            name: text(request, "FlowName").unwrap_or_default().to_owned(),
            description: text(request, "FlowDescription")
                .unwrap_or_default()
                .to_owned(),
            flow_type: text(request, "FlowType").unwrap_or_default().to_owned(),
            status: flow_status::NOT_STARTED,
            message: String::new(),
            created_on: now,
            creator: request
                .get("Operator")
                .and_then(|o| o.get("UserId"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            user_data: text(request, "UserData").unwrap_or_default().to_owned(),
            document: with_files.then(new_id),
            approvers,
            unordered: request.get("Unordered").and_then(Value::as_bool) == Some(true),
            deadline,
        };
        if self.bytes.saturating_add(flow.size()) > self.byte_budget {
            return Err(refused(
                Why::Capacity,
                format!(
                    "the emulator keeps at most {} bytes of flows",
                    self.byte_budget
                ),
            ));
        }
        Ok(flow)
    }

    /// CreateFlowByFiles with `NeedPreview`: checked as a creation is, but no flow is made
    /// and no FlowId answered (upstream); a preview link, which works 300 seconds, shows what
    /// the flow would be.
    pub(crate) fn preview(
        &mut self,
        request: &Map<String, Value>,
        now: i64,
        base_url: &str,
    ) -> Result<Map<String, Value>, Refused> {
        self.previews.retain(|_, (_, until)| *until > now);
        if self.previews.len() >= MAX_FLOWS {
            return Err(refused(
                Why::Capacity,
                format!("the emulator keeps at most {MAX_FLOWS} previews"),
            ));
        }
        let flow = self.build(request, now, true)?;
        let document = flow.document.clone().unwrap_or_else(new_id);
        let mut answer = Map::new();
        answer.insert("Approvers".to_owned(), answer_approvers(&flow));
        answer.insert(
            "PreviewUrl".to_owned(),
            Value::String(format!("{base_url}/preview/{document}")),
        );
        self.previews
            .insert(document, (flow.name, now.saturating_add(PREVIEW_SECONDS)));
        Ok(answer)
    }

    /// The name of the flow a preview shows, while its link works.
    pub(crate) fn preview_of(&self, document: &str, now: i64) -> Option<&str> {
        self.previews
            .get(document)
            .filter(|(_, until)| *until > now)
            .map(|(name, _)| name.as_str())
    }

    /// CreateDocument: attaches the flow's one document.
    pub(crate) fn create_document(
        &mut self,
        request: &Map<String, Value>,
        base_url: &str,
    ) -> Result<Map<String, Value>, Refused> {
        let flow = self.flow_mut(request)?;
        // A started flow always has its document (StartFlow needs one).
        if flow.document.is_some() {
            return Err(refused(
                Why::FlowHasDocument,
                "the flow already has its document",
            ));
        }
        let document = new_id();
        flow.document = Some(document.clone());
        let preview = if request.get("NeedPreview").and_then(Value::as_bool) == Some(true) {
            format!("{base_url}/preview/{document}")
        } else {
            String::new()
        };
        Ok(object(
            json!({"DocumentId": document, "PreviewFileUrl": preview}),
        ))
    }

    /// StartFlow: sends the flow to its signers.
    pub(crate) fn start(
        &mut self,
        request: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>, Refused> {
        let flow = self.flow_mut(request)?;
        match flow.status {
            flow_status::NOT_STARTED => {}
            // Ended before or after it started: its list has FlowHasTerminated for that.
            flow_status::REJECTED | flow_status::EXPIRED | flow_status::CANCELLED => {
                return Err(refused(
                    Why::FlowTerminated,
                    "the flow was rejected, expired or cancelled",
                ));
            }
            _ => return Err(refused(Why::FlowHasStarted, "the flow has already started")),
        }
        if flow.document.is_none() {
            return Err(refused(
                Why::FlowHasNoDocument,
                "call CreateDocument for this flow before StartFlow",
            ));
        }
        flow.begin(now);
        Ok(object(json!({"Status": "START"})))
    }

    /// CancelFlow.
    pub(crate) fn cancel(
        &mut self,
        request: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Refused> {
        let flow = self.flow_mut(request)?;
        if flow.is_closed() {
            return Err(refused(
                Why::FlowTerminated,
                "the flow is already signed, rejected, expired or cancelled",
            ));
        }
        flow.status = flow_status::CANCELLED;
        flow.message = text(request, "CancelMessage")
            .unwrap_or_default()
            .to_owned();
        for approver in &mut flow.approvers {
            if approver.is_pending() {
                approver.status = approve_status::CANCELLED;
            }
        }
        Ok(Map::new())
    }

    /// CreateFlowSignUrl: one link per listed signer, or the initiator's preview.
    pub(crate) fn sign_urls(
        &mut self,
        request: &Map<String, Value>,
        now: i64,
        base_url: &str,
    ) -> Result<Map<String, Value>, Refused> {
        let preview = int(request, "UrlType") == Some(1);
        let lifetime = int(request, "ExpiredOn").unwrap_or(DEFAULT_LINK_SECONDS);
        let jump_url = text(request, "JumpUrl").map(str::to_owned);
        let wanted: Vec<Map<String, Value>> = request
            .get("FlowApproverInfos")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|v| v.as_object().cloned()).collect())
            .unwrap_or_default();
        if wanted.len() > MAX_LINKS_PER_CALL {
            return Err(refused(
                Why::Capacity,
                format!("the emulator makes at most {MAX_LINKS_PER_CALL} links per call"),
            ));
        }
        let flow = self.flow_mut(request)?;
        if !preview && !wanted.is_empty() {
            match flow.status {
                flow_status::WAITING | flow_status::PARTIALLY_SIGNED => {}
                flow_status::NOT_STARTED => {
                    return Err(refused(
                        Why::FlowNotStarted,
                        "the flow has not started: call StartFlow first",
                    ));
                }
                _ => {
                    return Err(refused(
                        Why::FlowTerminated,
                        "the flow is signed, rejected, expired or cancelled: only preview links (UrlType 1) are available",
                    ));
                }
            }
        }
        let mut targets = Vec::new();
        for (i, info) in wanted.iter().enumerate() {
            let index = flow
                .approvers
                .iter()
                .position(|a| matches_approver(a, info))
                .ok_or_else(|| {
                    refused(
                        Why::NoSuchSigner,
                        format!("no signer of the flow matches `FlowApproverInfos[{i}]`"),
                    )
                })?;
            targets.push(Some(index));
        }
        if targets.is_empty() {
            targets.push(None);
        }
        let flow = flow.clone();
        self.reap_links(now);
        if self.links.len() + targets.len() > MAX_LINKS {
            return Err(refused(
                Why::Capacity,
                format!("the emulator keeps at most {MAX_LINKS} live links"),
            ));
        }
        let mut infos = Vec::with_capacity(targets.len());
        for target in targets {
            let token = new_id();
            self.links.insert(
                token.clone(),
                Link {
                    flow_id: flow.id.clone(),
                    approver: target,
                    preview: preview || target.is_none(),
                    expires_at: now + lifetime,
                    jump_url: jump_url.clone(),
                },
            );
            let (approver_type, name, mobile) = match target {
                Some(i) => {
                    let a = &flow.approvers[i];
                    (a.approver_type, a.name.clone(), a.mobile.clone())
                }
                None => (0, String::new(), String::new()),
            };
            infos.push(json!({
                "SignUrl": format!("{base_url}/s/{token}"),
                "LongUrl": format!("{base_url}/sign/{token}?FlowId={}", flow.id),
                "ApproverType": approver_type,
                "ApproverName": name,
                "ApproverMobile": mobile,
            }));
        }
        Ok(object(json!({"FlowApproverUrlInfos": infos})))
    }

    fn reap_links(&mut self, now: i64) {
        if self.links.len() >= MAX_LINKS / 2 {
            self.links.retain(|_, link| link.expires_at > now);
        }
    }

    /// DescribeFlowInfo.
    /// DescribeFlowInfo: the answer already serialized (a JSON object), written from the
    /// flows without building a tree, since tests poll it in loops.
    pub(crate) fn describe(&self, request: &Map<String, Value>) -> Result<Vec<u8>, Refused> {
        // A FlowGroupId wins over FlowIds (upstream). The emulator keeps no flow groups, so
        // none is found.
        if text(request, "FlowGroupId").is_some() {
            return Err(refused(
                Why::FlowGroupNotFound,
                "the emulator keeps no flow groups: no group has this `FlowGroupId`",
            ));
        }
        let ids: Vec<&str> = request
            .get("FlowIds")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(refused(
                Why::MissingFlowIds,
                "give `FlowIds` (or `FlowGroupId`)",
            ));
        }
        let mut details = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let flow = self.flows.get(*id).ok_or_else(|| {
                refused(
                    Why::FlowNotFound,
                    format!("no flow has the id at `FlowIds[{i}]`"),
                )
            })?;
            details.push(FlowDetail::of(flow));
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Described<'a> {
            flow_detail_infos: Vec<FlowDetail<'a>>,
        }
        serde_json::to_vec(&Described {
            flow_detail_infos: details,
        })
        .map_err(|e| refused(Why::Internal, e.to_string()))
    }

    /// A signer completes a link: `Ok` with the link's jump URL.
    pub(crate) fn sign(&mut self, token: &str, now: i64) -> Result<Option<String>, SignRefusal> {
        let link = self.links.get(token).ok_or(SignRefusal::NotFound)?.clone();
        if link.expires_at <= now {
            return Err(SignRefusal::Expired);
        }
        let Some(index) = link.approver.filter(|_| !link.preview) else {
            return Err(SignRefusal::PreviewOnly);
        };
        self.sign_as(&link.flow_id, index, now)?;
        Ok(link.jump_url)
    }

    /// The signer at `index` of the flow signs (from a link, or the admin API).
    pub(crate) fn sign_as(
        &mut self,
        flow_id: &str,
        index: usize,
        now: i64,
    ) -> Result<(), SignRefusal> {
        let flow = self.due(flow_id, index)?;
        let approver = &mut flow.approvers[index];
        approver.status = approve_status::SIGNED;
        approver.approve_time = now;
        flow.arrange();
        Ok(())
    }

    /// The signer at `index` rejects the contract with `reason`: the flow is rejected (3),
    /// the signer too (4). Upstream does not say what the other signers then show; they
    /// keep their statuses.
    pub(crate) fn reject(
        &mut self,
        flow_id: &str,
        index: usize,
        reason: &str,
        now: i64,
    ) -> Result<(), SignRefusal> {
        let flow = self.due(flow_id, index)?;
        let approver = &mut flow.approvers[index];
        approver.status = approve_status::REJECTED;
        approver.approve_time = now;
        approver.message = reason.to_owned();
        flow.status = flow_status::REJECTED;
        Ok(())
    }

    /// The flow, if its signer at `index` may act now.
    fn due(&mut self, flow_id: &str, index: usize) -> Result<&mut Flow, SignRefusal> {
        let flow = self.flows.get_mut(flow_id).ok_or(SignRefusal::NotFound)?;
        if !flow.is_open() {
            return Err(SignRefusal::FlowClosed);
        }
        let approver = flow.approvers.get(index).ok_or(SignRefusal::NotFound)?;
        match approver.status {
            approve_status::WAITING => Ok(flow),
            approve_status::NOT_YET_DUE => Err(SignRefusal::NotYourTurn),
            _ => Err(SignRefusal::AlreadySigned),
        }
    }

    /// Expires every flow whose deadline is `now` or past and that is not closed (5, and
    /// 5 for its signers who had not signed); their ids.
    pub(crate) fn expire_due(&mut self, now: i64) -> Vec<String> {
        let mut expired = Vec::new();
        while let Some((at, _)) = self.deadlines.first()
            && *at <= now
        {
            let Some((_, id)) = self.deadlines.pop_first() else {
                break;
            };
            let Some(flow) = self.flows.get_mut(&id) else {
                continue;
            };
            // A deadline moved later (the admin API) leaves its old entry behind.
            if flow.deadline > now || flow.is_closed() {
                continue;
            }
            flow.status = flow_status::EXPIRED;
            for approver in &mut flow.approvers {
                if approver.is_pending() {
                    approver.status = approve_status::EXPIRED;
                }
            }
            expired.push(id);
        }
        expired
    }

    /// Moves a flow's deadline to `at` (the admin API's expire, with `at` now).
    pub(crate) fn set_deadline(&mut self, flow_id: &str, at: i64) -> bool {
        let Some(flow) = self.flows.get_mut(flow_id) else {
            return false;
        };
        flow.deadline = at;
        self.deadlines.insert((at, flow_id.to_owned()));
        true
    }

    /// Every flow, sorted by id.
    pub(crate) fn all(&self) -> Vec<&Flow> {
        let mut all: Vec<&Flow> = self.flows.values().collect();
        all.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        all
    }
}

/// Why a link cannot be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignRefusal {
    NotFound,
    Expired,
    PreviewOnly,
    FlowClosed,
    AlreadySigned,
    /// An ordered flow's signer whose turn has not come.
    NotYourTurn,
}

fn approver(
    approver_type: i64,
    name: &str,
    mobile: &str,
    organization: &str,
    status: i64,
) -> Approver {
    Approver {
        approver_type,
        name: name.to_owned(),
        mobile: mobile.to_owned(),
        organization: organization.to_owned(),
        recipient_id: new_id(),
        sign_id: new_id(),
        user_id: String::new(),
        status,
        approve_time: 0,
        message: String::new(),
    }
}

/// A signer's status as callbacks report it (see [`Flow::callback_data`]).
fn callback_status(status: i64) -> i64 {
    if status == approve_status::NOT_YET_DUE {
        approve_status::WAITING
    } else {
        status
    }
}

/// CreateFlowByFiles' `Approvers`: each signer's SignId and RecipientId (no role names: the
/// emulator's flows have no template roles).
fn answer_approvers(flow: &Flow) -> Value {
    flow.approvers
        .iter()
        .map(
            |a| json!({"SignId": a.sign_id, "RecipientId": a.recipient_id, "ApproverRoleName": ""}),
        )
        .collect()
}

/// A requested signer matches a flow's signer by SignId (DescribeFlowInfo's), RecipientId,
/// or the UserId it was named by, as CreateFlowSignUrl's signer doc allows; else by kind,
/// name and mobile (and organization name for enterprise signers).
fn matches_approver(approver: &Approver, info: &Map<String, Value>) -> bool {
    if let Some(sign_id) = text(info, "SignId").filter(|s| !s.is_empty()) {
        return sign_id == approver.sign_id;
    }
    if let Some(recipient) = text(info, "RecipientId").filter(|r| !r.is_empty()) {
        return recipient == approver.recipient_id;
    }
    if let Some(user_id) = text(info, "UserId").filter(|u| !u.is_empty()) {
        return user_id == approver.user_id;
    }
    let approver_type = int(info, "ApproverType").unwrap_or(1);
    let organization_kind = matches!(approver_type, 0 | 3);
    organization_kind == approver.is_organization()
        && text(info, "ApproverName") == Some(approver.name.as_str())
        && text(info, "ApproverMobile") == Some(approver.mobile.as_str())
        && (!organization_kind
            || text(info, "OrganizationName").is_none_or(|o| o == approver.organization))
}

/// One flow as DescribeFlowInfo shows it.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct FlowDetail<'a> {
    flow_id: &'a str,
    flow_name: &'a str,
    flow_type: &'a str,
    flow_status: i64,
    flow_message: &'a str,
    flow_description: &'a str,
    created_on: i64,
    flow_approver_infos: Vec<ApproverDetail<'a>>,
    cc_infos: [(); 0],
    creator: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct ApproverDetail<'a> {
    approve_message: &'a str,
    approve_name: &'a str,
    approve_status: i64,
    receipt_id: &'a str,
    custom_user_id: &'static str,
    mobile: &'a str,
    sign_order: usize,
    approve_time: i64,
    approve_type: &'static str,
    approver_source: &'static str,
    custom_approver_tag: &'static str,
    organization_id: &'static str,
    organization_name: &'a str,
    sign_id: &'a str,
    recipient_id: &'a str,
}

impl<'a> FlowDetail<'a> {
    fn of(flow: &'a Flow) -> FlowDetail<'a> {
        let approvers = flow.approvers.iter().enumerate();
        FlowDetail {
            flow_id: &flow.id,
            flow_name: &flow.name,
            flow_type: &flow.flow_type,
            flow_status: flow.status,
            flow_message: &flow.message,
            flow_description: &flow.description,
            created_on: flow.created_on,
            flow_approver_infos: approvers
                .map(|(order, a)| ApproverDetail {
                    approve_message: &a.message,
                    approve_name: &a.name,
                    approve_status: a.status,
                    receipt_id: &a.recipient_id,
                    custom_user_id: "",
                    mobile: &a.mobile,
                    sign_order: order,
                    approve_time: a.approve_time,
                    approve_type: match a.approver_type {
                        0 => "ORGANIZATION",
                        3 => "ENTERPRISESERVER",
                        _ => "PERSON",
                    },
                    approver_source: "",
                    custom_approver_tag: "",
                    organization_id: "",
                    organization_name: &a.organization,
                    sign_id: &a.sign_id,
                    recipient_id: &a.recipient_id,
                })
                .collect(),
            cc_infos: [],
            creator: &flow.creator,
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_are_bounded_by_bytes_as_well_as_by_count() {
        let mut flows = Flows {
            byte_budget: 4096,
            ..Flows::default()
        };
        let request = |name: &str| {
            object(json!({
                "FlowName": name,
                "Approvers": [{"ApproverType": 1, "ApproverName": "张三", "ApproverMobile": "13800000000"}]
            }))
        };
        // A flow with 3 KB of description fills the budget; the next is refused.
        let mut big = request("big");
        big.insert("FlowDescription".to_owned(), json!("x".repeat(3000)));
        flows.create(&big, 0, false).unwrap();
        let refused = flows.create(&request("next"), 0, false).unwrap_err();
        assert_eq!(refused.why, Why::Capacity);
    }

    #[test]
    fn a_preview_stores_no_flow_and_spends_none_of_the_flows_bytes() {
        let mut flows = Flows {
            byte_budget: 4096,
            ..Flows::default()
        };
        let big = object(json!({
            "FlowName": "big",
            "FlowDescription": "x".repeat(3000),
            "Approvers": [{"ApproverType": 1, "ApproverName": "张三", "ApproverMobile": "13800000000"}]
        }));
        for _ in 0..3 {
            let answer = flows.preview(&big, 0, "http://127.0.0.1:1").unwrap();
            assert!(answer.get("FlowId").is_none());
        }
        assert!(flows.flows.is_empty() && flows.deadlines.is_empty());
        flows.create(&big, 0, true).unwrap();
    }

    fn req(value: Value) -> Map<String, Value> {
        object(value)
    }

    #[test]
    fn every_code_a_handler_answers_is_one_the_action_lists_or_a_common_one() {
        let schema = crate::schema::bundled();
        let mut wrong = Vec::new();
        for &(action, why, code) in CODES {
            let def = schema
                .action(action)
                .expect("a handled action is in the spec");
            if !schema.may_answer(def, code) {
                wrong.push(format!("{action} answers `{code}` for {why:?}"));
            }
        }
        assert!(wrong.is_empty(), "codes the spec does not list: {wrong:#?}");
        // Each pair once: a second entry would never be found.
        for (i, (action, why, _)) in CODES.iter().enumerate() {
            assert!(
                !CODES[..i].iter().any(|(a, w, _)| a == action && w == why),
                "{action} {why:?} twice"
            );
        }
    }

    #[test]
    fn signers_need_a_name_and_mobile_unless_upstream_says_otherwise() {
        let mut flows = Flows::default();
        let create = |flows: &mut Flows, approvers: Value| {
            flows.create(
                &req(json!({"FlowName": "n", "Approvers": approvers})),
                0,
                false,
            )
        };
        // Dynamic signers are filled in later; or-sign participants are any of a group; a
        // UserId names the signer.
        for approvers in [
            json!([{"ApproverType": 0, "ApproverOption": {"FillType": 1}}]),
            json!([{"ApproverType": 0, "CustomApproverTag": "t", "OrganizationName": "o"}]),
            json!([{"ApproverType": 1, "UserId": "u-1"}]),
        ] {
            create(&mut flows, approvers.clone()).unwrap_or_else(|e| panic!("{approvers}: {e:?}"));
        }
        let refused = create(
            &mut flows,
            json!([{"ApproverType": 1, "ApproverMobile": "1"}]),
        );
        assert_eq!(refused.unwrap_err().why, Why::MissingApproverName);
        let refused = create(
            &mut flows,
            json!([{"ApproverType": 0, "ApproverName": "a", "ApproverMobile": "1"}]),
        );
        assert_eq!(refused.unwrap_err().why, Why::MissingOrganization);
    }

    #[test]
    fn the_lifecycle_moves_through_its_statuses() {
        let mut flows = Flows::default();
        let created = flows
            .create(
                &req(json!({"FlowName": "n", "Approvers": [
                    {"ApproverType": 1, "ApproverName": "a", "ApproverMobile": "1"},
                    {"ApproverType": 0, "ApproverName": "b", "ApproverMobile": "2", "OrganizationName": "o"}
                ]})),
                100,
                false,
            )
            .unwrap();
        let id = created["FlowId"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        let flow_req = req(json!({"FlowId": id}));
        assert_eq!(
            flows.start(&flow_req, 100).unwrap_err().why,
            Why::FlowHasNoDocument
        );
        let signer = json!({"ApproverType": 1, "ApproverName": "a", "ApproverMobile": "1"});
        let early = req(json!({"FlowId": id, "FlowApproverInfos": [signer]}));
        assert_eq!(
            flows.sign_urls(&early, 100, "http://e").unwrap_err().why,
            Why::FlowNotStarted
        );
        flows.create_document(&flow_req, "http://e").unwrap();
        assert_eq!(
            flows
                .create_document(&flow_req, "http://e")
                .unwrap_err()
                .why,
            Why::FlowHasDocument
        );
        flows.start(&flow_req, 100).unwrap();
        let urls = flows.sign_urls(&early, 100, "http://e").unwrap();
        let url = urls["FlowApproverUrlInfos"][0]["SignUrl"].as_str().unwrap();
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(flows.sign(token, 100 + 1799), Ok(None));
        assert_eq!(
            flows.get(&id).unwrap().status,
            flow_status::PARTIALLY_SIGNED
        );
        assert_eq!(flows.sign(token, 101), Err(SignRefusal::AlreadySigned));
        let stranger = req(json!({"FlowId": id, "FlowApproverInfos": [
            {"ApproverType": 1, "ApproverName": "x", "ApproverMobile": "1"}
        ]}));
        assert_eq!(
            flows.sign_urls(&stranger, 100, "http://e").unwrap_err().why,
            Why::NoSuchSigner
        );
        let cancel = req(json!({"FlowId": id, "CancelMessage": "m"}));
        flows.cancel(&cancel).unwrap();
        let described = flows.describe(&req(json!({"FlowIds": [id]}))).unwrap();
        let described: Value = serde_json::from_slice(&described).unwrap();
        let detail = &described["FlowDetailInfos"][0];
        assert_eq!(detail["FlowStatus"], flow_status::CANCELLED);
        assert_eq!(
            detail["FlowApproverInfos"][0]["ApproveStatus"],
            approve_status::SIGNED
        );
        assert_eq!(
            detail["FlowApproverInfos"][1]["ApproveStatus"],
            approve_status::CANCELLED
        );
        assert_eq!(flows.cancel(&cancel).unwrap_err().why, Why::FlowTerminated);
    }

    #[test]
    fn links_expire_and_previews_cannot_sign() {
        let mut flows = Flows::default();
        flows.seed_demo(0);
        let (name, mobile) = DEMO_PERSON;
        let signer = json!({"ApproverType": 1, "ApproverName": name, "ApproverMobile": mobile});
        let sign =
            req(json!({"FlowId": DEMO_FLOW_ID, "FlowApproverInfos": [signer], "ExpiredOn": 3600}));
        let urls = flows.sign_urls(&sign, 0, "http://e").unwrap();
        let token = urls["FlowApproverUrlInfos"][0]["LongUrl"].as_str().unwrap();
        let token = token.rsplit('/').next().unwrap().split('?').next().unwrap();
        assert_eq!(flows.sign(token, 3600), Err(SignRefusal::Expired));
        let initiator = req(json!({"FlowId": DEMO_FLOW_ID, "UrlType": 1}));
        let urls = flows.sign_urls(&initiator, 0, "http://e").unwrap();
        let infos = urls["FlowApproverUrlInfos"].as_array().unwrap();
        assert_eq!(infos.len(), 1);
        let token = infos[0]["SignUrl"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        assert_eq!(flows.sign(token, 1), Err(SignRefusal::PreviewOnly));
        assert_eq!(flows.sign("nope", 1), Err(SignRefusal::NotFound));
    }
}
