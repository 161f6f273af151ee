//! `cargo xtask coverage`: how much of spec/ess.yaml is documented in our words, whether
//! every member that looks like personal data is classified, and whether every member whose
//! upstream doc lists values is typed by an enum or reviewed. Fails below the floors that
//! spec/coverage.toml commits, so coverage only goes up.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use ess_codegen::spec::Spec;
use serde::Deserialize;

use crate::privacy;

const SPEC: &str = "spec/ess.yaml";
const FLOORS: &str = "spec/coverage.toml";

/// The committed floors, in percent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Floors {
    actions: f64,
    input_members: f64,
    classified: f64,
    /// Percent of the members whose upstream doc lists values that are typed by an enum or
    /// reviewed (`keep_wire_type`).
    listed_values_typed: f64,
}

/// One measured share.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Share {
    pub(crate) done: usize,
    pub(crate) total: usize,
    /// What is not done, as `Type.Member` or action names.
    pub(crate) missing: Vec<String>,
}

impl Share {
    fn add(&mut self, done: bool, name: impl FnOnce() -> String) {
        self.total += 1;
        if done {
            self.done += 1;
        } else {
            self.missing.push(name());
        }
    }

    fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * self.done as f64 / self.total as f64
        }
    }
}

/// Documentation and classification coverage of a spec.
#[derive(Debug, Default)]
pub(crate) struct Coverage {
    pub(crate) actions: Share,
    /// Members of the types a request reaches: what callers set.
    pub(crate) input_members: Share,
    /// Members only ever read from responses.
    pub(crate) output_members: Share,
    /// Members whose name looks personal, with `sensitive` set either way.
    pub(crate) classified: Share,
    /// Members typed by an enum, or listing values upstream gives: typed or reviewed.
    pub(crate) listed_values: Share,
    pub(crate) sensitive: usize,
}

/// Measures `spec`.
pub(crate) fn measure(spec: &Spec) -> Coverage {
    let mut coverage = Coverage::default();
    let inputs = spec.input_types();
    for (name, action) in spec.actions.iter() {
        coverage
            .actions
            .add(action.doc.is_some(), || name.to_string());
    }
    for (ty, def) in spec.types.iter() {
        let input = inputs.contains(ty.as_str());
        for m in &def.members {
            let label = || format!("{}.{}", &**ty, m.name.as_str());
            let share = if input {
                &mut coverage.input_members
            } else {
                &mut coverage.output_members
            };
            share.add(m.doc.is_some(), label);
            if privacy::needs_classification(&m.name, &m.ty) {
                coverage.classified.add(m.sensitive.is_some(), label);
            }
            if m.enumeration.is_some() || !m.listed_values.is_empty() {
                let reviewed = m.enumeration.is_some() || m.keep_wire_type.is_some();
                coverage.listed_values.add(reviewed, label);
            }
            coverage.sensitive += usize::from(m.is_sensitive());
        }
    }
    coverage
}

/// Runs the command: prints the report (with `list`, every undocumented item) and checks the
/// floors.
pub(crate) fn run(root: &Path, list: bool) -> Result<ExitCode> {
    let spec = ess_codegen::load_file(&root.join(SPEC)).map_err(|d| anyhow::anyhow!("{d}"))?;
    let floors: Floors = toml::from_str(
        &fs::read_to_string(root.join(FLOORS)).with_context(|| format!("reading {FLOORS}"))?,
    )
    .with_context(|| format!("parsing {FLOORS}"))?;
    let coverage = measure(&spec);
    let rows = [
        (
            "actions documented",
            &coverage.actions,
            Some(floors.actions),
        ),
        (
            "request and input members documented",
            &coverage.input_members,
            Some(floors.input_members),
        ),
        ("output members documented", &coverage.output_members, None),
        (
            "personal-looking members classified",
            &coverage.classified,
            Some(floors.classified),
        ),
        (
            "members listing values typed or reviewed",
            &coverage.listed_values,
            Some(floors.listed_values_typed),
        ),
    ];
    let mut report = String::new();
    let mut below = Vec::new();
    for (what, share, floor) in rows {
        let floor_text = floor.map_or_else(String::new, |f| format!("  (floor {f:.1}%)"));
        let _ = writeln!(
            report,
            "{what:<40} {:>5} / {:<5} {:>5.1}%{floor_text}",
            share.done,
            share.total,
            share.percent()
        );
        if floor.is_some_and(|f| share.percent() + 1e-9 < f) {
            below.push(what);
        }
    }
    let _ = writeln!(
        report,
        "{:<40} {:>5}",
        "sensitive members", coverage.sensitive
    );
    print!("{report}");
    let lists = [
        ("actions without a doc", &coverage.actions),
        (
            "request and input members without a doc",
            &coverage.input_members,
        ),
        ("unclassified members", &coverage.classified),
        (
            "members listing values with no enum and no review",
            &coverage.listed_values,
        ),
    ];
    for (what, share) in lists {
        if share.missing.is_empty() {
            continue;
        }
        if list {
            println!("\n{what} ({}):", share.missing.len());
            for name in &share.missing {
                println!("  {name}");
            }
        } else {
            println!(
                "{} {what}; `cargo xtask coverage --list` names them",
                share.missing.len()
            );
        }
    }
    if below.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "coverage fell below the floor in {FLOORS}: {}; document in spec/overlay.yaml and run `cargo xtask import`",
        below.join(", ")
    );
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_TEXT: &str = r#"
spec_version: 1
service:
  name: ess
  api_version: "2020-11-11"
  signing_service: ess
  endpoints:
    default: {production: ess.tencentcloudapi.com, test: ess.test.ess.tencent.cn}
errors:
  common: [InternalError]
  service: []
actions:
  GetThing:
    title: t
    doc: Gets the thing.
    input: GetThingRequest
    output: GetThingResponse
    status: online
  MakeThing:
    title: t
    input: MakeThingRequest
    output: GetThingResponse
    status: online
types:
  GetThingRequest:
    members:
      - {name: ThingId, type: string, doc: Id of the thing.}
      - {name: OwnerMobile, type: string, sensitive: true}
      - {name: Kind, type: string, listed_values: [A, B], doc: Kind.}
      - {name: Mode, type: string, listed_values: [X, Y], keep_wire_type: depends on Kind, doc: Mode.}
  MakeThingRequest:
    members:
      - {name: OwnerName, type: string}
      - {name: Part, type: Part}
  Part:
    usage: both
    members:
      - {name: LinkUrl, type: string, sensitive: false, doc: A link.}
  GetThingResponse:
    members:
      - {name: Note, type: string}
      - {name: RequestId, type: string, doc: The id.}
"#;

    #[test]
    fn counts_docs_for_inputs_and_outputs_and_classification() {
        let spec = ess_codegen::load_str("spec/ess.yaml", SPEC_TEXT).unwrap();
        let c = measure(&spec);
        assert_eq!((c.actions.done, c.actions.total), (1, 2));
        assert_eq!(c.actions.missing, ["MakeThing"]);
        // ThingId, Kind, Mode and Part.LinkUrl are documented; OwnerMobile, OwnerName and
        // Part are not.
        assert_eq!((c.input_members.done, c.input_members.total), (4, 7));
        assert_eq!(
            c.input_members.missing,
            [
                "GetThingRequest.OwnerMobile",
                "MakeThingRequest.OwnerName",
                "MakeThingRequest.Part"
            ]
        );
        assert_eq!((c.output_members.done, c.output_members.total), (1, 2));
        assert_eq!((c.classified.done, c.classified.total), (2, 3));
        assert_eq!(c.classified.missing, ["MakeThingRequest.OwnerName"]);
        assert_eq!(c.sensitive, 1);
        // Kind lists values with no enum and no review; Mode was reviewed.
        assert_eq!((c.listed_values.done, c.listed_values.total), (1, 2));
        assert_eq!(c.listed_values.missing, ["GetThingRequest.Kind"]);
    }
}
