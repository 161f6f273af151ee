//! spec/overlay.yaml: the hand-kept facts that upstream's machine-readable files do not carry
//! (constraints, enums, rate limits, sensitivity, per-action error codes, our own docs).

use ess_codegen::spec::{
    CallbackDef, EnumDef, Length, NamedMap, Pagination, Range, Requirement, Spanned, TypeDef,
    Waiter,
};
use serde::Deserialize;

/// The whole overlay file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Overlay {
    /// Schema version of the overlay; only `1` exists.
    pub(crate) overlay_version: Spanned<u32>,
    /// Service facts upstream does not state.
    pub(crate) service: ServicePatch,
    /// The common API 3.0 error codes.
    pub(crate) errors: ErrorsPatch,
    /// Enumerations, written whole (upstream has none).
    #[serde(default)]
    pub(crate) enums: NamedMap<EnumDef>,
    /// Per-action facts.
    #[serde(default)]
    pub(crate) actions: NamedMap<ActionPatch>,
    /// Facts shared by every member of one name and type, e.g. the `Operator` of 153
    /// requests. A type's own entry for the member wins.
    #[serde(default)]
    pub(crate) members: NamedMap<SharedMemberPatch>,
    /// Per-type facts.
    #[serde(default)]
    pub(crate) types: NamedMap<TypePatch>,
    /// What ESS posts to callback URLs: upstream's files have none of it.
    #[serde(default)]
    pub(crate) callbacks: CallbacksPatch,
}

/// The callback events and their data types, written whole.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallbacksPatch {
    /// Each MsgType, spelled as sent, and the type of its data.
    #[serde(default)]
    pub(crate) events: NamedMap<CallbackDef>,
    /// The data types (`usage: callback` is implied).
    #[serde(default)]
    pub(crate) types: NamedMap<TypeDef>,
}

/// Facts about every member of one name whose type is `ty`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SharedMemberPatch {
    /// The spec type the member must have (`string`, `UserInfo`, `list<string>`); members of
    /// the same name with another type are not covered.
    #[serde(rename = "type")]
    pub(crate) ty: Spanned<String>,
    #[serde(default)]
    pub(crate) doc: Option<String>,
    /// See [`MemberPatch::sensitive`].
    #[serde(default)]
    pub(crate) sensitive: Option<Spanned<bool>>,
    /// See [`MemberPatch::enumeration`].
    #[serde(default, rename = "enum")]
    pub(crate) enumeration: Option<Spanned<String>>,
    /// See [`MemberPatch::keep_wire_type`].
    #[serde(default)]
    pub(crate) keep_wire_type: Option<Spanned<String>>,
    /// Why members of this name and type are personal data in some types and not in others
    /// (`Name` names a person in `CcInfo`, a role in `Permission`). Without it, import
    /// refuses a spec in which they differ: sensitivity follows what a member means, and
    /// one name with one meaning is classified once.
    #[serde(default)]
    pub(crate) sensitivity_varies: Option<Spanned<String>>,
}

/// Service facts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServicePatch {
    /// Service name in the TC3 credential scope.
    pub(crate) signing_service: Spanned<String>,
    /// Endpoint groups.
    pub(crate) endpoints: NamedMap<ess_codegen::spec::Endpoint>,
    /// The rate limit of an action whose own entry states none, and why that number.
    #[serde(default)]
    pub(crate) default_rate_limit: Option<DefaultRateLimit>,
}

/// The limit actions get when the overlay cites none for them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefaultRateLimit {
    /// Calls per second.
    pub(crate) limit: Spanned<u32>,
    /// Why this number (which upstream statement it rests on).
    pub(crate) source: Spanned<String>,
}

/// Error codes not in the service's own list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorsPatch {
    /// Codes common to all API 3.0 services.
    pub(crate) common: Vec<Spanned<String>>,
    /// Service codes that official material uses but the SDK's list lacks.
    #[serde(default)]
    pub(crate) service_additions: Vec<Spanned<String>>,
}

/// Facts about one action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionPatch {
    #[serde(default)]
    pub(crate) doc: Option<String>,
    #[serde(default)]
    pub(crate) endpoint: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) rate_limit: Option<Spanned<u32>>,
    /// Where upstream states `rate_limit` (a doc page). Import refuses a limit without one.
    #[serde(default)]
    pub(crate) rate_limit_source: Option<Spanned<String>>,
    /// May be sent again after a failure that may have executed: a read (by its official
    /// title), or a write whose `retry_safe_source` cites where upstream states that a
    /// repeat is safe.
    #[serde(default)]
    pub(crate) retry_safe: Option<Spanned<bool>>,
    /// Where upstream states that repeating this write is safe (a doc page and what it says,
    /// in our words). Import refuses a write marked `retry_safe` without one.
    #[serde(default)]
    pub(crate) retry_safe_source: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) errors: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) requirements: Vec<Requirement>,
    /// Paging of a list action: what `Offset` counts (from its upstream doc), where the items
    /// and the total are.
    #[serde(default)]
    pub(crate) pagination: Option<Pagination>,
    /// The describe half of an asynchronous job: its status and what each value means.
    #[serde(default)]
    pub(crate) waiter: Option<Waiter>,
}

/// Facts about one type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TypePatch {
    #[serde(default)]
    pub(crate) doc: Option<String>,
    #[serde(default)]
    pub(crate) rust_name: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) members: NamedMap<MemberPatch>,
}

/// Facts about one member.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberPatch {
    #[serde(default)]
    pub(crate) doc: Option<String>,
    /// `true`: personal data or a secret. `false`: reviewed, holds none although its name
    /// looks personal. Absent: unclassified, which import refuses for such names.
    #[serde(default)]
    pub(crate) sensitive: Option<Spanned<bool>>,
    #[serde(default)]
    pub(crate) deprecated: bool,
    #[serde(default)]
    pub(crate) length: Option<Spanned<Length>>,
    #[serde(default)]
    pub(crate) range: Option<Spanned<Range>>,
    #[serde(default, rename = "enum")]
    pub(crate) enumeration: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) default: Option<Spanned<String>>,
    /// Why a member whose upstream doc lists values keeps its wire type instead of an enum
    /// (the values differ by action, or the list names something other than values). Import
    /// refuses a listed member with neither this nor `enum`.
    #[serde(default)]
    pub(crate) keep_wire_type: Option<Spanned<String>>,
    /// Confirmed present in every answer: upstream marks it `output_required` and no official
    /// example answer leaves it out. Read as a plain value, not an `Option`.
    #[serde(default)]
    pub(crate) always_present: Option<Spanned<bool>>,
    /// Holds a file's content: `Debug` prints its length only.
    #[serde(default)]
    pub(crate) content: bool,
}
