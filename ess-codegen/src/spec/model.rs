//! The serde model of a spec file (`spec_version: 1`), as written in YAML.
//!
//! Every value a diagnostic may point at is wrapped in [`Spanned`], so validation can report
//! `file:line:col`. Maps keep the order of the file; the importer writes them sorted.

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use marked_yaml::Spanned;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

use super::typeref::TypeRef;

/// A whole spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Schema version of this file; only `1` exists.
    pub spec_version: Spanned<u32>,
    /// Which pinned upstream sources the file was imported from (informational).
    #[serde(default)]
    pub upstream: Vec<Spanned<String>>,
    /// Service metadata and endpoints.
    pub service: Service,
    /// Every error code the service may answer with.
    pub errors: ErrorCodes,
    /// Enumerations that members refer to with `enum: Name`.
    #[serde(default)]
    pub enums: NamedMap<EnumDef>,
    /// The API's actions, by wire name.
    pub actions: NamedMap<Action>,
    /// Structures (requests, responses and shared types), by wire name.
    pub types: NamedMap<TypeDef>,
    /// The events ESS posts to the application's callback URLs, by MsgType as sent.
    #[serde(default)]
    pub callbacks: NamedMap<CallbackDef>,
}

impl Spec {
    /// The types some request reaches (requests included), by wire name: what callers build.
    /// Every other type is only ever read from responses.
    pub fn input_types(&self) -> BTreeSet<&str> {
        self.reachable(self.actions.iter().map(|(_, a)| a.input.as_str()))
    }

    /// The types responses reach: the outputs and every type their members name,
    /// transitively. Types outside it are only ever sent.
    pub fn output_types(&self) -> BTreeSet<&str> {
        self.reachable(
            self.actions
                .iter()
                .map(|(_, a)| a.output.as_str())
                .chain(self.callback_roots()),
        )
    }

    /// The types callbacks reach: their data types and every type those name.
    pub fn callback_types(&self) -> BTreeSet<&str> {
        self.reachable(self.callback_roots())
    }

    fn callback_roots(&self) -> impl Iterator<Item = &str> {
        self.callbacks
            .iter()
            .filter_map(|(_, c)| c.data.as_ref().map(|d| d.as_str()))
    }

    fn reachable<'a>(&'a self, roots: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
        let by_name: std::collections::BTreeMap<&str, &TypeDef> = self
            .types
            .iter()
            .map(|(k, def)| (k.as_str(), def))
            .collect();
        let mut reached = BTreeSet::new();
        let mut pending: Vec<&str> = roots.collect();
        while let Some(name) = pending.pop() {
            let Some((name, def)) = by_name.get_key_value(name) else {
                continue;
            };
            if !reached.insert(*name) {
                continue;
            }
            for m in &def.members {
                if let Ok(ty) = TypeRef::parse(&m.ty)
                    && let TypeRef::Named(inner) = ty.item()
                    && let Some((k, _)) = by_name.get_key_value(inner.as_str())
                {
                    pending.push(k);
                }
            }
        }
        reached
    }
}

/// Service metadata.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Short service name (`ess`).
    pub name: Spanned<String>,
    /// The service's official (Chinese) name.
    #[serde(default)]
    pub title: Option<String>,
    /// API version sent as `X-TC-Version` (`2020-11-11`).
    pub api_version: Spanned<String>,
    /// Service name in the TC3 credential scope.
    pub signing_service: Spanned<String>,
    /// Named endpoint groups; `default` is used by every action that names no other.
    pub endpoints: NamedMap<Endpoint>,
}

/// The hosts of one endpoint group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Production host name.
    pub production: Spanned<String>,
    /// Test-environment host name.
    pub test: Spanned<String>,
}

/// The error codes of the service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCodes {
    /// Codes every Tencent Cloud API 3.0 service may return.
    pub common: Vec<Spanned<String>>,
    /// Codes specific to this service.
    pub service: Vec<Spanned<String>>,
}

/// Lifecycle status of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Callable and supported.
    Online,
    /// Still callable, but superseded.
    Deprecated,
}

/// One API action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// The official (Chinese) title of the action.
    pub title: Spanned<String>,
    /// Our own documentation, if written.
    #[serde(default)]
    pub doc: Option<String>,
    /// The request type.
    pub input: Spanned<String>,
    /// The response type.
    pub output: Spanned<String>,
    /// Lifecycle status.
    pub status: Spanned<Status>,
    /// Endpoint group, when not `default`.
    #[serde(default)]
    pub endpoint: Option<Spanned<String>>,
    /// Requests per second allowed by the service.
    #[serde(default)]
    pub rate_limit: Option<Spanned<u32>>,
    /// Whether a request may be re-sent after a network failure.
    #[serde(default)]
    pub retry_safe: bool,
    /// Error codes the action may return.
    #[serde(default)]
    pub errors: Vec<Spanned<String>>,
    /// Requirements this action puts on members of (possibly shared) types.
    #[serde(default)]
    pub requirements: Vec<Requirement>,
    /// How the action lists in pages, when it does (its request has `Offset` and `Limit`).
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// How the action reports a job's progress, when it is the describe half of an
    /// asynchronous pair (or a flow's status).
    #[serde(default)]
    pub waiter: Option<Waiter>,
}

/// A list action's paging: what its request's `Offset` counts, and where its answer keeps
/// the page's items and the total.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    /// What `Offset` counts: `page` (a page index from 0) or `item` (items to skip).
    pub offset: Spanned<OffsetKind>,
    /// The response member holding the page's items (a list).
    pub items: Spanned<String>,
    /// The response member holding the number of items of every page together, where
    /// upstream documents one.
    #[serde(default)]
    pub total: Option<Spanned<String>>,
}

/// What a list request's `Offset` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetKind {
    /// A page index, from 0.
    Page,
    /// Items to skip.
    Item,
}

/// An asynchronous job's progress as a describe action reports it: the status member and
/// which of its values mean done, failed or still running.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiter {
    /// Names the client method: `wait_for_<name>`.
    pub name: Spanned<String>,
    /// The actions that start the job (for docs).
    #[serde(default)]
    pub started_by: Vec<Spanned<String>>,
    /// Path of the status member in the response, `[]` stepping into list items
    /// (`FlowDetailInfos[].FlowStatus`: every item must be done). Its type is an enum.
    pub status: Spanned<String>,
    /// Values meaning the job succeeded.
    pub success: Vec<Spanned<String>>,
    /// Values meaning it failed (or ended in a way that will not change).
    #[serde(default)]
    pub failure: Vec<Spanned<String>>,
    /// Values meaning it is still running. Every value of the status enum is in exactly
    /// one of the three lists.
    #[serde(default)]
    pub pending: Vec<Spanned<String>>,
}

/// One kind of callback event (a MsgType).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackDef {
    /// Our own documentation.
    #[serde(default)]
    pub doc: Option<String>,
    /// The type of its MsgData; absent when its members are not known (kept as raw JSON).
    #[serde(default)]
    pub data: Option<Spanned<String>>,
    /// Superseded by another event.
    #[serde(default)]
    pub deprecated: bool,
}

/// A per-action requirement: at `path`, the listed members must be present (when `when` holds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Wire path from the request, `[]` stepping into list items (`FlowApproverInfos[]`).
    pub path: Spanned<String>,
    /// Members that must be present and non-empty.
    #[serde(default)]
    pub members: Vec<Spanned<String>>,
    /// Alternatives: at least one group of members must be wholly present and non-empty
    /// (`[[SignId], [UserId], [ApproverName, ApproverMobile]]`).
    #[serde(default)]
    pub any_of: Vec<Vec<Spanned<String>>>,
    /// Only when this condition holds.
    #[serde(default)]
    pub when: Option<Condition>,
}

/// A condition on a sibling member's value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The member whose value is tested.
    pub member: Spanned<String>,
    /// The values (wire form) for which the requirement applies.
    #[serde(rename = "in")]
    pub values: Vec<Spanned<String>>,
}

/// Where a structure is used, as upstream states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    /// Only in requests.
    In,
    /// Only in responses.
    Out,
    /// In both.
    Both,
    /// In callbacks (ESS posting to the application): read like responses.
    Callback,
}

/// A structure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    /// Where upstream says the type is used; absent for requests and responses.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// The Rust name, when the spec name cannot be used (it would shadow a prelude item).
    #[serde(default)]
    pub rust_name: Option<Spanned<String>>,
    /// Our own documentation, if written.
    #[serde(default)]
    pub doc: Option<String>,
    /// Members in wire order.
    pub members: Vec<Member>,
}

/// A member of a structure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Wire name.
    pub name: Spanned<String>,
    /// `string`, `int64`, `uint64`, `float`, `bool`, a type name, or `list<T>` of those.
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    /// Must be sent in requests.
    #[serde(default)]
    pub required: bool,
    /// Always present in responses, as upstream marks it (a hint: not always right).
    #[serde(default)]
    pub output_required: bool,
    /// Confirmed always present in answers (the overlay confirms upstream's hint against the
    /// official examples): read as a plain value, not an `Option`.
    #[serde(default)]
    pub always_present: bool,
    /// Holds a file's content (base64): `Debug` prints its length, not the content.
    #[serde(default)]
    pub content: bool,
    /// May be `null` in responses.
    #[serde(default)]
    pub nullable: bool,
    /// Our own documentation, if written.
    #[serde(default)]
    pub doc: Option<String>,
    /// An example value in wire form.
    #[serde(default)]
    pub example: Option<String>,
    /// Declared but not open for use.
    #[serde(default)]
    pub disabled: bool,
    /// Upstream states that the service no longer reads it (该字段已不再使用): sending it
    /// has no effect.
    #[serde(default)]
    pub unused: bool,
    /// Superseded; kept for compatibility.
    #[serde(default)]
    pub deprecated: bool,
    /// Personal data or secrets (`true`): never printed by `Debug` or logs. `false` records a
    /// review that found a member whose name looks personal to hold no such data; absent means
    /// nobody has classified it.
    #[serde(default)]
    pub sensitive: Option<bool>,
    /// Length bounds, in characters (for strings) or items (for lists).
    #[serde(default)]
    pub length: Option<Spanned<Length>>,
    /// Numeric bounds, inclusive.
    #[serde(default)]
    pub range: Option<Spanned<Range>>,
    /// Enumeration the value (or each list item) belongs to.
    #[serde(default, rename = "enum")]
    pub enumeration: Option<Spanned<String>>,
    /// The value the service assumes when the member is absent (wire form).
    #[serde(default)]
    pub default: Option<Spanned<String>>,
    /// The wire values upstream's doc lists for a member no enum types (yet): documented,
    /// not enforced.
    #[serde(default)]
    pub listed_values: Vec<String>,
    /// Why the member keeps its wire type although upstream lists values (reviewed).
    #[serde(default)]
    pub keep_wire_type: Option<String>,
}

impl Member {
    /// Whether the member holds personal data or a secret.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive == Some(true)
    }
}

/// Length bounds. `exact` excludes `min` and `max`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Length {
    /// Minimum length.
    #[serde(default)]
    pub min: Option<u64>,
    /// Maximum length.
    #[serde(default)]
    pub max: Option<u64>,
    /// Exact length.
    #[serde(default)]
    pub exact: Option<u64>,
}

/// Inclusive numeric bounds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Lower bound.
    #[serde(default)]
    pub min: Option<Spanned<String>>,
    /// Upper bound.
    #[serde(default)]
    pub max: Option<Spanned<String>>,
}

/// An enumeration of wire values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    /// The wire type of the values: `string`, `int64` or `uint64`.
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    /// Our own documentation.
    #[serde(default)]
    pub doc: Option<String>,
    /// The known values.
    pub values: Vec<EnumValue>,
}

/// One known value of an enumeration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// The value as sent on the wire.
    pub value: Spanned<String>,
    /// A PascalCase name for it.
    pub name: Spanned<String>,
    /// Our own documentation.
    #[serde(default)]
    pub doc: Option<String>,
}

/// A YAML mapping kept in file order, with the position of each key.
#[derive(Debug)]
pub struct NamedMap<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> NamedMap<T> {
    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v)
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<String>, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NamedMap<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
            type Value = NamedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping from names to definitions")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(NamedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}
