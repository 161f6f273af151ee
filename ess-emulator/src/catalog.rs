//! What the emulator keeps besides flows: uploaded files (their ids and deadlines, not their
//! content; CreateFlowByFiles takes only an id UploadFiles gave within its hour),
//! seals (CreateSeal) and roles
//! (CreateIntegrationRole), which DescribeOrganizationSeals and DescribeIntegrationRoles page
//! through with the offset each documents (a page index for seals, items to skip for roles),
//! and evidence reports (CreateFlowEvidenceReport), which finish on the emulator's clock.
//!
//! Answers start from the spec's example answer, with the members the emulator models set
//! from its state; members it does not model keep their example values. Filters it does not
//! model (seal statuses, a role's status) are not applied.

use serde_json::{Map, Value, json};

use crate::flows::{Refused, Why, flow_status, new_id, refused, text};

/// How many seals, roles and reports the emulator keeps at most.
pub const MAX_RECORDS: usize = 10_000;

/// Seconds on the emulator's clock from CreateFlowEvidenceReport until the report is done.
/// Upstream states no duration (it advises querying a day later); tests advance the clock
/// ([`Emulator::set_clock_offset`](crate::Emulator::set_clock_offset)) or fail a report
/// ([`Emulator::fail_report`](crate::Emulator::fail_report)).
pub const REPORT_SECONDS: i64 = 5;

/// Seconds an uploaded file's resource id stays usable: the hour UploadFiles documents.
const FILE_SECONDS: i64 = 3600;

/// The page size DescribeOrganizationSeals documents when `Limit` is not given.
const SEALS_DEFAULT_LIMIT: usize = 20;

#[derive(Debug, Clone)]
struct Seal {
    id: String,
    name: String,
    seal_type: String,
    created_on: i64,
}

#[derive(Debug, Clone)]
struct Role {
    id: String,
    name: String,
    is_group_role: bool,
}

/// An evidence report's outcome, once decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done when the clock reaches `ready_at`.
    OnTime,
    /// Failed (a test said so).
    Failed,
}

#[derive(Debug, Clone)]
struct Report {
    ready_at: i64,
    outcome: Outcome,
}

/// Seals, roles and evidence reports, in creation order, and seeded templates by id.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    seals: Vec<Seal>,
    roles: Vec<Role>,
    reports: std::collections::HashMap<String, Report>,
    /// Uploaded files' resource ids and the second each expires.
    files: std::collections::HashMap<String, i64>,
    templates: std::collections::BTreeMap<String, Map<String, Value>>,
    /// The templates' size as JSON, in bytes.
    template_bytes: usize,
}

/// The page size DescribeFlowTemplates documents when `Limit` is not given.
const TEMPLATES_DEFAULT_LIMIT: usize = 20;

/// A non-negative integer member (the schema has checked its type and range).
fn count(request: &Map<String, Value>, key: &str) -> Option<usize> {
    request
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

fn full(what: &str) -> Refused {
    refused(
        Why::Capacity,
        format!("the emulator keeps at most {MAX_RECORDS} {what}"),
    )
}

/// `example` with `list` holding one page of `records` (`skip`, then at most `take`): each
/// item the example's first one, with the members `fill` sets from its record.
fn page<T>(
    example: &Map<String, Value>,
    list: &str,
    records: impl Iterator<Item = T>,
    (skip, take): (usize, usize),
    fill: impl Fn(T, &mut Map<String, Value>),
) -> Map<String, Value> {
    let template = match example
        .get(list)
        .and_then(Value::as_array)
        .and_then(|l| l.first())
    {
        Some(Value::Object(item)) => item.clone(),
        _ => Map::new(),
    };
    let items = records
        .skip(skip)
        .take(take)
        .map(|record| {
            let mut item = template.clone();
            fill(record, &mut item);
            Value::Object(item)
        })
        .collect();
    let mut answer = example.clone();
    answer.insert(list.into(), Value::Array(items));
    answer
}

/// The largest template seeded, as JSON.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// All seeded templates together, as JSON.
pub const MAX_TEMPLATES_BYTES: usize = 64 * 1024 * 1024;

impl Catalog {
    /// The seeded templates, by id.
    pub(crate) fn templates(&self) -> Vec<Value> {
        self.templates
            .values()
            .map(|t| Value::Object(t.clone()))
            .collect()
    }

    /// Seeds (or replaces) a template: a TemplateInfo-shaped object with its `TemplateId`.
    pub(crate) fn seed_template(
        &mut self,
        template: &Value,
    ) -> Result<String, crate::control::ControlError> {
        use crate::control::ControlError;
        let Value::Object(template) = template else {
            return Err(ControlError::Invalid(
                "a template is a JSON object shaped like TemplateInfo".to_owned(),
            ));
        };
        let id = text(template, "TemplateId")
            .ok_or_else(|| ControlError::Invalid("a template needs its `TemplateId`".to_owned()))?
            .to_owned();
        let recipients = template.get("Recipients");
        if recipients.is_some_and(|r| !r.as_array().is_some_and(|l| l.iter().all(Value::is_object)))
        {
            return Err(ControlError::Invalid(
                "`Recipients` is a list of Recipient objects".to_owned(),
            ));
        }
        if self.templates.len() >= MAX_RECORDS && !self.templates.contains_key(&id) {
            return Err(ControlError::Full(format!(
                "the emulator keeps at most {MAX_RECORDS} templates"
            )));
        }
        // Bounded by bytes as well as by count: a template is at most 64 KiB of JSON, and
        // all of them 64 MiB.
        let size = |t: &Map<String, Value>| serde_json::to_vec(t).map_or(0, |json| json.len());
        let bytes = size(template);
        if bytes > MAX_TEMPLATE_BYTES {
            return Err(ControlError::Invalid(format!(
                "a template is at most {MAX_TEMPLATE_BYTES} bytes of JSON, this one {bytes}"
            )));
        }
        let replaced = self.templates.get(&id).map_or(0, size);
        if self.template_bytes - replaced + bytes > MAX_TEMPLATES_BYTES {
            return Err(ControlError::Full(format!(
                "the emulator keeps at most {MAX_TEMPLATES_BYTES} bytes of templates"
            )));
        }
        self.template_bytes = self.template_bytes - replaced + bytes;
        self.templates.insert(id.clone(), template.clone());
        Ok(id)
    }

    /// CreateDocument's template check, once templates are seeded: the template exists, and
    /// the flow's signers are, in order, of the kinds of its signing participants
    /// (ENTERPRISE, INDIVIDUAL; upstream says a flow whose signers differ fails). `kinds` are
    /// the flow's signers, `true` for an enterprise.
    pub(crate) fn check_template(
        &self,
        request: &Map<String, Value>,
        kinds: &[bool],
    ) -> Result<(), Refused> {
        if self.templates.is_empty() {
            return Ok(());
        }
        let template = text(request, "TemplateId")
            .and_then(|id| self.templates.get(id))
            .ok_or_else(|| refused(Why::TemplateNotFound, "no template has this `TemplateId`"))?;
        let wanted: Vec<bool> = template
            .get("Recipients")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| match r.get("RecipientType").and_then(Value::as_str) {
                Some("ENTERPRISE") => Some(true),
                Some("INDIVIDUAL") => Some(false),
                _ => None,
            })
            .collect();
        if !wanted.is_empty() && wanted != kinds {
            return Err(refused(
                Why::SignersDifferFromTemplate,
                "the flow's signers differ in number or kind from the template's participants",
            ));
        }
        Ok(())
    }

    /// DescribeFlowTemplates once templates are seeded: a page of them (`Offset` a page
    /// index, `Limit` 20 by default, as its doc page states), by id, with `TotalCount`.
    /// `None` when none is seeded (the example answer stands).
    pub(crate) fn describe_templates(
        &self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        if self.templates.is_empty() {
            return None;
        }
        let limit = count(request, "Limit").unwrap_or(TEMPLATES_DEFAULT_LIMIT);
        let skip = count(request, "Offset").unwrap_or(0).saturating_mul(limit);
        let templates: Vec<Value> = self
            .templates
            .values()
            .skip(skip)
            .take(limit)
            .map(|t| Value::Object(t.clone()))
            .collect();
        let mut answer = example.clone();
        answer.insert("Templates".into(), Value::Array(templates));
        answer.insert("TotalCount".into(), json!(self.templates.len()));
        Some(answer)
    }

    /// UploadFiles: a fresh resource id per file, their count, and when they expire (an hour
    /// after the upload, the default upstream states). The content is not kept; the ids are,
    /// until they expire, for CreateFlowByFiles to check.
    pub(crate) fn upload(
        &mut self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>, Refused> {
        let count = request
            .get("FileInfos")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if self.files.len().saturating_add(count) > MAX_RECORDS {
            self.files.retain(|_, deadline| *deadline > now);
            if self.files.len().saturating_add(count) > MAX_RECORDS {
                return Err(full("unexpired uploaded files"));
            }
        }
        let deadline = now.saturating_add(FILE_SECONDS);
        let ids: Vec<String> = (0..count).map(|_| new_id()).collect();
        for id in &ids {
            self.files.insert(id.clone(), deadline);
        }
        let mut answer = example.clone();
        answer.insert("FileIds".into(), json!(ids));
        answer.insert("TotalCount".into(), json!(count));
        answer.insert("Deadline".into(), json!(deadline));
        Ok(answer)
    }

    /// CreateFlowByFiles' `FileIds`: each must be an id UploadFiles gave and not yet expired.
    /// Upstream says an id cannot be used after its hour (and is cleaned up some time later):
    /// the emulator refuses it from its deadline on, the strict reading.
    pub(crate) fn check_files(
        &self,
        request: &Map<String, Value>,
        now: i64,
    ) -> Result<(), Refused> {
        let ids = request.get("FileIds").and_then(Value::as_array);
        for (i, id) in ids.into_iter().flatten().enumerate() {
            let live = id
                .as_str()
                .and_then(|id| self.files.get(id))
                .is_some_and(|deadline| *deadline > now);
            if !live {
                return Err(refused(
                    Why::FileNotFound,
                    format!(
                        "`FileIds[{i}]` is not a resource id UploadFiles gave in the last hour"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// CreateSeal: a seal with its name and type (OFFICIAL, the default its doc gives),
    /// answered with its id. Its doc says an organization has one official seal and a second
    /// is an error.
    pub(crate) fn create_seal(
        &mut self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>, Refused> {
        if self.seals.len() >= MAX_RECORDS {
            return Err(full("seals"));
        }
        let seal_type = text(request, "SealType").unwrap_or("OFFICIAL");
        if seal_type == "OFFICIAL" && self.seals.iter().any(|s| s.seal_type == "OFFICIAL") {
            return Err(refused(
                Why::SealExists,
                "the organization already has its one official seal",
            ));
        }
        let seal = Seal {
            id: new_id(),
            name: text(request, "SealName").unwrap_or_default().to_owned(),
            seal_type: seal_type.to_owned(),
            created_on: now,
        };
        let mut answer = example.clone();
        answer.insert("SealId".into(), json!(seal.id));
        self.seals.push(seal);
        Ok(answer)
    }

    /// DescribeOrganizationSeals: `Offset` is a page index from 0 and `Limit` the page size
    /// (20 when not given), as its doc states, over the seals matching `SealId` and
    /// `SealTypes`; `TotalCount` is what its doc says: the organization's number of seals,
    /// or 0 or 1 with `SealId`.
    pub(crate) fn describe_seals(
        &self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
    ) -> Map<String, Value> {
        let id = text(request, "SealId");
        let types: Vec<&str> = request
            .get("SealTypes")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let by_id = |s: &&Seal| id.is_none_or(|id| s.id == id);
        let matching = self
            .seals
            .iter()
            .filter(by_id)
            .filter(|s| types.is_empty() || types.contains(&s.seal_type.as_str()));
        let limit = count(request, "Limit").unwrap_or(SEALS_DEFAULT_LIMIT);
        let skip = count(request, "Offset").unwrap_or(0).saturating_mul(limit);
        let mut answer = page(example, "Seals", matching, (skip, limit), |s, seal| {
            seal.insert("SealId".into(), json!(s.id));
            seal.insert("SealName".into(), json!(s.name));
            seal.insert("SealType".into(), json!(s.seal_type));
            seal.insert("CreateOn".into(), json!(s.created_on));
        });
        let total = self.seals.iter().filter(by_id).count();
        answer.insert("TotalCount".into(), json!(total));
        answer
    }

    /// CreateIntegrationRole: a role with its name, answered with its id.
    pub(crate) fn create_role(
        &mut self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Refused> {
        if self.roles.len() >= MAX_RECORDS {
            return Err(full("roles"));
        }
        let role = Role {
            id: new_id(),
            name: text(request, "Name").unwrap_or_default().to_owned(),
            is_group_role: request.get("IsGroupRole").and_then(Value::as_i64) == Some(1),
        };
        let mut answer = example.clone();
        answer.insert("RoleId".into(), json!(role.id));
        self.roles.push(role);
        Ok(answer)
    }

    /// DescribeIntegrationRoles: `Offset` is items to skip and `Limit` (required) the page
    /// size, as its doc states; the answer echoes both, with `TotalCount`. Of its filters,
    /// `RoleType` (every role created here is custom, "2"; none is a system role, "1") and
    /// `IsGroupRole` apply; `RoleStatus` and `IsReturnPermissionGroup` are not modelled.
    pub(crate) fn describe_roles(
        &self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
    ) -> Map<String, Value> {
        let filters: Vec<(&str, Vec<&str>)> = request
            .get("Filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let values = f.get("Values")?.as_array()?;
                Some((
                    f.get("Key")?.as_str()?,
                    values.iter().filter_map(Value::as_str).collect(),
                ))
            })
            .collect();
        let keeps = |role: &&Role| {
            filters.iter().all(|(key, values)| match *key {
                "RoleType" => values.contains(&"2"),
                "IsGroupRole" => values.contains(&if role.is_group_role { "1" } else { "0" }),
                _ => true,
            })
        };
        let limit = count(request, "Limit").unwrap_or(0);
        let offset = count(request, "Offset").unwrap_or(0);
        let matching = self.roles.iter().filter(keeps);
        let mut answer = page(
            example,
            "IntegrateRoles",
            matching,
            (offset, limit),
            |r, role| {
                role.insert("RoleId".into(), json!(r.id));
                role.insert("RoleName".into(), json!(r.name));
                role.insert("IsGroupRole".into(), json!(r.is_group_role));
            },
        );
        answer.insert("Offset".into(), json!(offset));
        answer.insert("Limit".into(), json!(limit));
        let total = self.roles.iter().filter(keeps).count();
        answer.insert("TotalCount".into(), json!(total));
        answer
    }

    /// CreateFlowEvidenceReport: only for a flow every signer has signed (its doc says so);
    /// the report runs until [`REPORT_SECONDS`] later on the emulator's clock.
    pub(crate) fn create_report(
        &mut self,
        flow_status_now: Option<i64>,
        example: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>, Refused> {
        match flow_status_now {
            None => return Err(refused(Why::FlowNotFound, "no flow has this FlowId")),
            Some(flow_status::SIGNED) => {}
            Some(_) => {
                return Err(refused(
                    Why::FlowNotSigned,
                    "an evidence report needs a flow every signer has signed",
                ));
            }
        }
        if self.reports.len() >= MAX_RECORDS {
            return Err(full("evidence reports"));
        }
        let id = new_id();
        self.reports.insert(
            id.clone(),
            Report {
                ready_at: now.saturating_add(REPORT_SECONDS),
                outcome: Outcome::OnTime,
            },
        );
        let mut answer = example.clone();
        answer.insert("ReportId".into(), json!(id));
        answer.insert("Status".into(), json!("EvidenceStatusExecuting"));
        // Upstream says ReportUrl is no longer filled here.
        answer.remove("ReportUrl");
        Ok(answer)
    }

    /// DescribeFlowEvidenceReport: executing until the report's time, then done (or failed,
    /// when a test failed it).
    pub(crate) fn describe_report(
        &self,
        request: &Map<String, Value>,
        example: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>, Refused> {
        let report = text(request, "ReportId")
            .and_then(|id| self.reports.get(id))
            .ok_or_else(|| refused(Why::TaskNotFound, "no evidence report has this ReportId"))?;
        let status = match report.outcome {
            Outcome::Failed => "EvidenceStatusFailed",
            Outcome::OnTime if now >= report.ready_at => "EvidenceStatusSuccess",
            Outcome::OnTime => "EvidenceStatusExecuting",
        };
        let mut answer = example.clone();
        answer.insert("Status".into(), json!(status));
        if status != "EvidenceStatusSuccess" {
            answer.remove("ReportUrl");
        }
        Ok(answer)
    }

    /// Makes a report fail; `false` when no report has the id.
    pub(crate) fn fail_report(&mut self, id: &str) -> bool {
        match self.reports.get_mut(id) {
            Some(report) => {
                report.outcome = Outcome::Failed;
                true
            }
            None => false,
        }
    }
}
