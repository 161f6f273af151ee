//! `cargo xtask import`: upstream api.json + errorcodes.py + spec/overlay.yaml -> spec/ess.yaml.
//!
//! The spec is built in memory as the same model ess-codegen reads: upstream facts carry no
//! position, overlay facts carry their overlay.yaml position, so validation of the merged
//! model points at the overlay line to fix. The written text is loaded back as a last check.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ess_codegen::spec::{
    Action, Diagnostic, Diagnostics, ErrorCodes, Member, NamedMap, Service, Span, Spanned, Spec,
    Status, TypeDef, Usage, did_you_mean, parse_yaml, validate,
};

use crate::api::{ApiJson, parse_api, parse_error_codes};
use crate::overlay::{MemberPatch, Overlay};
use crate::upstream::{self, Pins};
use crate::{changes, emit, privacy, prose};

/// Command-line options.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Compare instead of writing.
    pub(crate) check: bool,
    /// Read the pinned wheels from here instead of the cache/PyPI.
    pub(crate) from: Option<PathBuf>,
}

const OVERLAY: &str = "spec/overlay.yaml";
const PINS: &str = "spec/upstream.toml";
const SPEC: &str = "spec/ess.yaml";
const GENERATED_MANIFEST: &str = "ess-generated/Cargo.toml";
/// Where the change report goes, for pasting into a changelog or pull request.
const CHANGES: &str = "target/spec-changes.md";

/// Values upstream writes where it has no example.
const NO_EXAMPLE: &[&str] = &["", "无", "null", "None"];

/// Runs the import.
pub(crate) fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let sources = Sources::load(root, options.from.as_deref())?;
    let text = generate(&sources)?;
    let spec = ess_codegen::load_str(SPEC, &text).map_err(report)?;
    report_changes(root, &spec, &text)?;
    let manifest_path = root.join(GENERATED_MANIFEST);
    let manifest = fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {GENERATED_MANIFEST}"))?;
    let outputs = [
        (SPEC, root.join(SPEC), text),
        (
            GENERATED_MANIFEST,
            manifest_path,
            crate::features::manifest_with_features(&manifest, &spec),
        ),
    ];
    let mut stale = false;
    for (name, path, expected) in &outputs {
        let current = fs::read_to_string(path).unwrap_or_default();
        if current == *expected {
            println!("{name} is up to date ({})", sources.summary());
        } else if options.check {
            stale = true;
            eprintln!(
                "{name} is stale: it differs from what spec/upstream.toml and {OVERLAY} produce."
            );
            if let Some((line, old, new)) = first_difference(&current, expected) {
                eprintln!(
                    "first difference at line {line}:\n  committed: {old}\n  expected:  {new}"
                );
            }
        } else {
            fs::write(path, expected).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {name} ({})", sources.summary());
        }
    }
    if stale {
        eprintln!("run `cargo xtask import` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what the new spec changes for users, and writes it to [`CHANGES`].
fn report_changes(root: &Path, spec: &Spec, text: &str) -> Result<()> {
    let committed = fs::read_to_string(root.join(SPEC)).unwrap_or_default();
    if committed == text {
        return Ok(());
    }
    let Ok(old) = ess_codegen::load_str(SPEC, &committed) else {
        println!("the committed {SPEC} does not load, so there is no change report");
        return Ok(());
    };
    let markdown = changes::diff(&old, spec).markdown();
    print!("{markdown}");
    let path = root.join(CHANGES);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&path, &markdown).with_context(|| format!("writing {CHANGES}"))?;
    println!("(the change report is in {CHANGES})");
    Ok(())
}

/// Everything import reads.
pub(crate) struct Sources {
    pins: Pins,
    pins_text: String,
    overlay_text: String,
    api_text: String,
    error_codes_text: String,
    examples_json: Option<String>,
}

impl Sources {
    /// Reads the pins and overlay from `root` and the pinned upstream files.
    pub(crate) fn load(root: &Path, from: Option<&Path>) -> Result<Sources> {
        let pins_text =
            fs::read_to_string(root.join(PINS)).with_context(|| format!("reading {PINS}"))?;
        let pins: Pins = toml::from_str(&pins_text).with_context(|| format!("parsing {PINS}"))?;
        let overlay_text =
            fs::read_to_string(root.join(OVERLAY)).with_context(|| format!("reading {OVERLAY}"))?;
        let cache = upstream::cache_dir(root);
        let api_wheel = upstream::wheel(&pins.api, from, &cache)?;
        let api_text = api_wheel.read(pins.api.file("api_json")?)?;
        let examples_json = match pins.api.files.get("examples_json") {
            Some(path) => Some(api_wheel.read(path)?),
            None => None,
        };
        let errors_wheel = upstream::wheel(&pins.errors, from, &cache)?;
        let error_codes_text = errors_wheel.read(pins.errors.file("error_codes")?)?;
        Ok(Sources {
            pins,
            pins_text,
            overlay_text,
            api_text,
            error_codes_text,
            examples_json,
        })
    }

    /// The pinned CLI's examples.json.
    pub(crate) fn examples_text(&self) -> Result<String> {
        self.examples_json
            .clone()
            .context("the pinned CLI wheel has no examples.json")
    }

    fn summary(&self) -> String {
        format!(
            "from {} and {}",
            self.pins.api.requirement(),
            self.pins.errors.requirement()
        )
    }
}

/// Builds the text of spec/ess.yaml.
pub(crate) fn generate(sources: &Sources) -> Result<String> {
    let api = parse_api(&sources.api_text)?;
    let service_codes = parse_error_codes(&sources.error_codes_text)?;
    let overlay: Overlay = parse_yaml(OVERLAY, &sources.overlay_text).map_err(report)?;
    let upstream_names = vec![
        sources.pins.api.requirement(),
        sources.pins.errors.requirement(),
    ];
    let spec = merge(&api, service_codes, overlay, upstream_names)?;

    let mut diags = validate(&spec, OVERLAY);
    for d in &mut diags {
        if d.line == 0 {
            d.file = format!("upstream api.json ({})", sources.pins.api.requirement());
        }
    }
    if !diags.is_empty() {
        return Err(report(Diagnostics(diags)));
    }

    let header = vec![
        "Generated by `cargo xtask import`; do not edit by hand.".to_owned(),
        format!("Edit {OVERLAY} (our facts and docs) or {PINS} (pinned upstream), then re-run it."),
        format!(
            "Inputs: {PINS} sha256 {}",
            upstream::sha256_hex(sources.pins_text.as_bytes())
        ),
        format!(
            "        {OVERLAY} sha256 {}",
            upstream::sha256_hex(sources.overlay_text.as_bytes())
        ),
    ];
    let text = emit::spec_text(&spec, &header);

    let leaks = prose::leaks(&api, &sources.overlay_text);
    if !leaks.is_empty() {
        bail!(
            "the generated spec would copy upstream prose ({} fragments), e.g.:\n  {}\nwrite our own words in {OVERLAY} instead",
            leaks.len(),
            leaks
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    if let Err(diags) = ess_codegen::load_str(SPEC, &text) {
        bail!("internal error: the written spec does not load back:\n{diags}");
    }
    Ok(text)
}

fn report(diags: Diagnostics) -> anyhow::Error {
    anyhow::anyhow!("{diags}")
}

fn sp<T>(value: T) -> Spanned<T> {
    Spanned::new(Span::new_blank(), value)
}

/// Merges upstream facts with the overlay, checking that every overlay entry still matches.
fn merge(
    api: &ApiJson,
    service_codes: Vec<String>,
    mut overlay: Overlay,
    upstream: Vec<String>,
) -> Result<Spec> {
    let mut diags = Vec::new();
    if *overlay.overlay_version != 1 {
        diags.push(
            Diagnostic::at(
                OVERLAY,
                overlay.overlay_version.span(),
                format!("unsupported overlay_version {}", *overlay.overlay_version),
            )
            .with_hint("this importer reads overlay_version 1"),
        );
    }
    let action_names = || api.actions.keys().map(String::as_str);
    let type_names = || api.objects.keys().map(String::as_str);
    for (name, _) in overlay.actions.iter() {
        if !api.actions.contains_key(name.as_str()) {
            diags.push(stale(name, "action", did_you_mean(name, action_names())));
        }
    }
    for (name, patch) in overlay.types.iter() {
        match api.objects.get(name.as_str()) {
            None => diags.push(stale(name, "type", did_you_mean(name, type_names()))),
            Some(object) => {
                for (member, _) in patch.members.iter() {
                    if !object.members.iter().any(|m| m.name == member.as_str()) {
                        let suggestion =
                            did_you_mean(member, object.members.iter().map(|m| m.name.as_str()));
                        diags.push(stale(
                            member,
                            &format!("member of `{}`", &**name),
                            suggestion,
                        ));
                    }
                }
            }
        }
    }
    // `retry_safe` in the overlay marks reads; the official title must say so.
    for (name, patch) in overlay.actions.iter() {
        let Some(marked) = patch.retry_safe.as_ref().filter(|r| ***r) else {
            continue;
        };
        if let Some(up) = api.actions.get(name.as_str())
            && !READ_VERBS.iter().any(|verb| up.name.contains(verb))
        {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    marked.span(),
                    format!(
                        "`{}` is marked retry_safe, but its official title `{}` names no read",
                        &**name,
                        up.name.trim()
                    ),
                )
                .with_hint(format!(
                    "retry_safe is for reads (titles with {}); a write is retry-safe only through a ClientToken, which import detects",
                    READ_VERBS.join(", ")
                )),
            );
        }
    }
    for code in &overlay.errors.service_additions {
        if service_codes.iter().any(|c| c == code.as_str()) {
            diags.push(
                Diagnostic::at(
                    OVERLAY,
                    code.span(),
                    format!("error code `{}` is now in the upstream list", &**code),
                )
                .with_hint("remove it from `service_additions`"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(report(Diagnostics(diags)));
    }

    let mut actions = Vec::new();
    for (name, up) in &api.actions {
        let patch = take(&mut overlay.actions, name);
        let status = match up.status.as_str() {
            "online" => Status::Online,
            "deprecated" => Status::Deprecated,
            other => bail!("upstream action {name} has unknown status `{other}`"),
        };
        let patch = patch.unwrap_or_else(|| crate::overlay::ActionPatch {
            doc: None,
            endpoint: None,
            rate_limit: None,
            retry_safe: None,
            errors: Vec::new(),
            requirements: Vec::new(),
        });
        actions.push((
            sp(name.clone()),
            Action {
                title: sp(up.name.trim().to_owned()),
                doc: patch.doc,
                input: sp(up.input.clone()),
                output: sp(up.output.clone()),
                status: sp(status),
                endpoint: patch.endpoint,
                rate_limit: patch.rate_limit,
                // A read (overlay, checked above), or a write whose ClientToken makes a
                // repeat harmless (upstream fact).
                retry_safe: patch.retry_safe.is_some_and(|r| *r)
                    || has_client_token(api, &up.input),
                errors: patch.errors,
                requirements: patch.requirements,
            },
        ));
    }

    let mut shared_used = vec![false; overlay.members.len()];
    let mut unclassified = Vec::new();
    let mut types = Vec::new();
    for (name, object) in &api.objects {
        let type_span = overlay
            .types
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .map(|(k, _)| *k.span());
        let mut patch = take(&mut overlay.types, name);
        let usage = match object.usage.as_deref() {
            None => None,
            Some("in") => Some(Usage::In),
            Some("out") => Some(Usage::Out),
            Some("both") => Some(Usage::Both),
            Some(other) => bail!("upstream type {name} has unknown usage `{other}`"),
        };
        let mut members = Vec::with_capacity(object.members.len());
        for m in &object.members {
            let p = patch
                .as_mut()
                .and_then(|p| take(&mut p.members, &m.name))
                .unwrap_or_default();
            let MemberPatch {
                doc,
                sensitive,
                deprecated,
                length,
                range,
                enumeration,
                default,
            } = p;
            // Upstream sometimes puts a note where the example belongs ("no longer used"):
            // an "example" that repeats the member's description is prose, not a value.
            let ty = m.spec_type(name)?;
            let shared = overlay
                .members
                .iter()
                .position(|(k, v)| k.as_str() == m.name && v.ty.as_str() == ty);
            if let Some(i) = shared {
                shared_used[i] = true;
            }
            let shared = shared.map(|i| &overlay.members.0[i].1);
            let doc = doc.or_else(|| shared.and_then(|s| s.doc.clone()));
            let sensitive = sensitive.or_else(|| shared.and_then(|s| s.sensitive));
            if sensitive.is_none() && privacy::needs_classification(&m.name, &ty) {
                unclassified.push(unclassified_member(
                    &upstream[0],
                    type_span.as_ref(),
                    name,
                    &m.name,
                ));
            }
            let doc_text = prose::plain_text(&m.document);
            let example = m
                .example
                .as_deref()
                .map(str::trim)
                .filter(|e| !NO_EXAMPLE.contains(e) && *e != doc_text.trim_end_matches('。'))
                .map(str::to_owned);
            members.push(Member {
                name: sp(m.name.clone()),
                ty: sp(ty),
                required: m.required.unwrap_or(false),
                output_required: m.output_required.unwrap_or(false),
                nullable: m.value_allowed_null.unwrap_or(false),
                doc,
                example,
                disabled: m.disabled.unwrap_or(false),
                deprecated,
                sensitive,
                length,
                range,
                enumeration,
                default,
            });
        }
        let (doc, rust_name) = patch.map_or((None, None), |p| (p.doc, p.rust_name));
        types.push((
            sp(name.clone()),
            TypeDef {
                usage,
                rust_name,
                doc,
                members,
            },
        ));
    }

    for ((name, entry), used) in overlay.members.iter().zip(shared_used) {
        if !used {
            unclassified.push(
                Diagnostic::at(
                    OVERLAY,
                    name.span(),
                    format!(
                        "shared member `{}` of type `{}` matches no upstream member",
                        &**name,
                        entry.ty.as_str()
                    ),
                )
                .with_hint(
                    "upstream renamed or retyped it: remove the entry or fix its name or `type`",
                ),
            );
        }
    }
    if !unclassified.is_empty() {
        return Err(report(Diagnostics(unclassified)));
    }

    let mut enums = std::mem::take(&mut overlay.enums.0);
    enums.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Ok(Spec {
        spec_version: sp(ess_codegen::spec::SPEC_VERSION),
        upstream: upstream.into_iter().map(sp).collect(),
        service: Service {
            name: sp(api.metadata.service_short_name.clone()),
            title: Some(api.metadata.service_name_cn.clone()),
            api_version: sp(api.metadata.api_version.clone()),
            signing_service: overlay.service.signing_service,
            endpoints: overlay.service.endpoints,
        },
        errors: ErrorCodes {
            common: overlay.errors.common,
            service: service_codes
                .into_iter()
                .map(sp)
                .chain(overlay.errors.service_additions)
                .collect(),
        },
        enums: NamedMap(enums),
        actions: NamedMap(actions),
        types: NamedMap(types),
    })
}

/// A member whose name looks personal and that neither its type's overlay entry nor a shared
/// entry classifies: reported at the type's overlay entry, or upstream when it has none.
fn unclassified_member(
    upstream_api: &str,
    type_span: Option<&Span>,
    ty: &str,
    member: &str,
) -> Diagnostic {
    let message = format!(
        "member `{member}` of `{ty}` looks like personal data or a secret, and nobody has classified it"
    );
    let diagnostic = match type_span {
        Some(span) => Diagnostic::at(OVERLAY, span, message),
        None => Diagnostic::new(
            &format!("upstream api.json ({upstream_api})"),
            0,
            0,
            message,
        ),
    };
    diagnostic.with_hint(format!(
        "in {OVERLAY}, under `types: {ty}: members: {member}:` (or a shared `members:` entry), add `sensitive: true` if it holds personal data or a secret, or `sensitive: false` once reviewed"
    ))
}

/// Words of the official titles that name a read: query, get, view, poll, verify a
/// signature, verify.
const READ_VERBS: [&str; 6] = ["查询", "获取", "查看", "轮询", "验签", "验证"];

/// Whether the request type has a `ClientToken` member.
fn has_client_token(api: &ApiJson, input: &str) -> bool {
    api.objects
        .get(input)
        .is_some_and(|o| o.members.iter().any(|m| m.name == "ClientToken"))
}

fn stale(name: &Spanned<String>, what: &str, suggestion: Option<&str>) -> Diagnostic {
    let hint = match suggestion {
        Some(s) => format!("did you mean `{s}`? Upstream may have renamed it."),
        None => "upstream no longer has it: remove the entry or move its facts to the new name"
            .to_owned(),
    };
    Diagnostic::at(
        OVERLAY,
        name.span(),
        format!("overlay {what} `{}` matches nothing upstream", &**name),
    )
    .with_hint(hint)
}

/// Removes and returns the entry named `name`.
fn take<T>(map: &mut NamedMap<T>, name: &str) -> Option<T> {
    let index = map.0.iter().position(|(k, _)| k.as_str() == name)?;
    Some(map.0.remove(index).1)
}

fn first_difference<'a>(old: &'a str, new: &'a str) -> Option<(usize, &'a str, &'a str)> {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for n in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => return None,
            (a, b) if a != b => {
                return Some((
                    n,
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>"),
                ));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINS_TEXT: &str = r#"
[api]
package = "tccli"
version = "1.0.0"
sha256 = "00"
files.api_json = "api.json"

[errors]
package = "tencentcloud-sdk-python-ess"
version = "1.0.0"
sha256 = "00"
files.error_codes = "errorcodes.py"
"#;

    const OVERLAY_HEAD: &str = "overlay_version: 1
service:
  signing_service: ess
  endpoints:
    default: {production: ess.tencentcloudapi.com, test: ess.test.ess.tencent.cn}
errors:
  common: [InternalError]
members:
  ClientToken: {type: string, sensitive: false}
";

    fn api_text() -> String {
        serde_json::json!({
            "actions": {
                "GetThing": {"document": "查询某个东西的详细信息并返回", "input": "GetThingRequest",
                    "output": "GetThingResponse", "name": "查询东西", "status": "online"},
                "MakeThing": {"document": "新建一个东西", "input": "MakeThingRequest",
                    "output": "GetThingResponse", "name": "创建东西", "status": "online"}
            },
            "objects": {
                "MakeThingRequest": {"document": "请求参数结构体", "members": [
                    {"name": "ClientToken", "type": "string", "member": "string", "document": "幂等令牌", "required": false}
                ]},
                "GetThingRequest": {"document": "请求参数结构体", "members": [
                    {"name": "Limit", "type": "int", "member": "int64", "document": "返回的最大数量，默认为二十条记录", "required": false, "example": "20"},
                    {"name": "ThingId", "type": "string", "member": "string", "document": "东西的编号", "required": true, "example": "无"}
                ]},
                "GetThingResponse": {"document": "返回参数结构体", "members": [
                    {"name": "RequestId", "type": "string", "member": "string", "document": "唯一请求 ID"}
                ]}
            },
            "metadata": {"apiVersion": "2020-11-11", "serviceNameCN": "腾讯电子签企业版", "serviceShortName": "ess"},
            "version": "1.0"
        })
        .to_string()
    }

    fn sources(overlay_tail: &str) -> Sources {
        Sources {
            pins: toml::from_str(PINS_TEXT).unwrap(),
            pins_text: PINS_TEXT.to_owned(),
            overlay_text: format!("{OVERLAY_HEAD}{overlay_tail}"),
            api_text: api_text(),
            error_codes_text: "# 资源不存在\nRESOURCENOTFOUND = 'ResourceNotFound'\n".to_owned(),
            examples_json: None,
        }
    }

    #[test]
    fn generates_a_loadable_spec_with_overlay_facts() {
        let text = generate(&sources(
            "actions:\n  GetThing:\n    retry_safe: true\n    errors: [InternalError, ResourceNotFound]\ntypes:\n  GetThingRequest:\n    members:\n      Limit:\n        range: {min: \"1\", max: \"100\"}\n",
        ))
        .unwrap();
        let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
        let action = spec.actions.get("GetThing").unwrap();
        assert!(action.retry_safe);
        assert_eq!(action.title.as_str(), "查询东西");
        let request = spec.types.get("GetThingRequest").unwrap();
        assert!(request.members[0].range.is_some());
        assert_eq!(request.members[0].example.as_deref(), Some("20"));
        // Upstream's "no example" placeholder is not an example.
        assert_eq!(request.members[1].example, None);
        assert!(request.members[1].required);
        assert_eq!(spec.errors.service.len(), 1);
    }

    /// The fixture with members added to `GetThingRequest` and `MakeThingRequest`.
    fn with_members(mut sources: Sources, get: &[&str], make: &[&str]) -> Sources {
        let mut api: serde_json::Value = serde_json::from_str(&sources.api_text).unwrap();
        for (ty, names) in [("GetThingRequest", get), ("MakeThingRequest", make)] {
            let members = api["objects"][ty]["members"].as_array_mut().unwrap();
            for name in names {
                members.push(serde_json::json!({"name": name, "type": "string", "member": "string", "document": "某项", "required": false}));
            }
        }
        sources.api_text = api.to_string();
        sources
    }

    #[test]
    fn members_that_look_personal_must_be_classified_where_the_fix_goes() {
        // GetThingRequest has an overlay entry: the error points at it. MakeThingRequest has
        // none: the error names the upstream member.
        let overlay =
            "types:\n  GetThingRequest:\n    members:\n      Limit:\n        doc: How many.\n";
        let unclassified = with_members(
            sources(overlay),
            &["OwnerMobile"],
            &["NotifyEmail", "Remark"],
        );
        let err = generate(&unclassified).unwrap_err().to_string();
        assert!(
            err.contains("spec/overlay.yaml:11:3: error: member `OwnerMobile` of `GetThingRequest` looks like personal data or a secret, and nobody has classified it\n  = hint: in spec/overlay.yaml, under `types: GetThingRequest: members: OwnerMobile:`"),
            "{err}"
        );
        assert!(
            err.contains("upstream api.json (tccli==1.0.0): error: member `NotifyEmail` of `MakeThingRequest` looks like personal data"),
            "{err}"
        );
        assert!(!err.contains("Remark"), "{err}");
        assert!(err.contains("2 problems"), "{err}");

        // Classified either way, under the type or shared by name and type, it imports.
        // (The fixture's overlay ends inside its shared `members:`.)
        let overlay = "  NotifyEmail: {type: string, sensitive: true}\ntypes:\n  GetThingRequest:\n    members:\n      OwnerMobile:\n        sensitive: true\n";
        let classified = with_members(sources(overlay), &["OwnerMobile"], &["NotifyEmail"]);
        let text = generate(&classified).unwrap();
        let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
        let member = |ty: &str, name: &str| {
            spec.types
                .get(ty)
                .unwrap()
                .members
                .iter()
                .find(|m| m.name.as_str() == name)
                .unwrap()
                .sensitive
        };
        assert_eq!(member("GetThingRequest", "OwnerMobile"), Some(true));
        assert_eq!(member("MakeThingRequest", "NotifyEmail"), Some(true));
        assert_eq!(member("MakeThingRequest", "ClientToken"), Some(false));
    }

    #[test]
    fn a_shared_member_entry_that_matches_nothing_is_an_error() {
        let overlay = format!("{OVERLAY_HEAD}  ThingId: {{type: int64, doc: The thing.}}\n");
        let mut stale = sources("");
        stale.overlay_text = overlay;
        let err = generate(&stale).unwrap_err().to_string();
        assert!(
            err.contains("spec/overlay.yaml:10:3: error: shared member `ThingId` of type `int64` matches no upstream member"),
            "{err}"
        );
    }

    /// A miniature upstream release under xtask/fixtures, with its overlay.
    fn fixture(dir: &str, version: &str) -> Spec {
        let base = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(dir);
        let read = |file: &str| fs::read_to_string(base.join(file)).unwrap();
        let pins_text = PINS_TEXT.replace("1.0.0", version);
        let sources = Sources {
            pins: toml::from_str(&pins_text).unwrap(),
            pins_text,
            overlay_text: read("overlay.yaml"),
            api_text: read("api.json"),
            error_codes_text: read("errorcodes.py"),
            examples_json: None,
        };
        let text = generate(&sources).unwrap_or_else(|e| panic!("{dir}: {e}"));
        ess_codegen::load_str("spec/ess.yaml", &text)
            .unwrap()
            .into_spec()
    }

    #[test]
    fn the_change_report_names_each_kind_of_change_with_its_semver_impact() {
        let before = fixture("upstream-before", "1.0.0");
        let after = fixture("upstream-after", "1.1.0");
        let report = changes::diff(&before, &after);
        let text = report.markdown();
        assert_eq!(report.verdict(), changes::Impact::Major, "{text}");
        for line in [
            "Upstream: tccli==1.0.0, tencentcloud-sdk-python-ess==1.0.0 -> tccli==1.1.0, tencentcloud-sdk-python-ess==1.1.0",
            "Semver impact on ess-generated: **major**",
            // Actions.
            "- minor: new action `PaintThing` (粉刷东西)",
            "- major: action `DropThing` removed",
            "- patch: `GetThing` retitled: 查询东西 -> 查询东西详情",
            // Types and members.
            "- minor: new type `PaintThingRequest`",
            "- major: type `DropThingRequest` removed",
            "- major: type `OldPart` removed",
            "- minor: new type `NewPart`",
            "- major: `MakeThingRequest.Kind` added (required, `string`)",
            "- minor: `MakeThingRequest.OwnerMobile` added (optional, `string`)",
            "- minor: `Thing.Note` added (optional, `string`)",
            "- major: `GetThingRequest.Legacy` removed",
            "- major: `GetThingRequest.Size` retyped: `int64` -> `string`",
            "- major: `GetThingRequest.Part` retyped: `OldPart` -> `NewPart`",
            "- major: `GetThingRequest.Color` is now required",
            // Enumerations and error codes.
            "- minor: `Shade` value `BLUE` added",
            "- minor: error code `FailedOperation.New` added",
            "- major: error code `FailedOperation.Old` removed",
            // What a person must decide.
            "- new action `PaintThing` has no doc in spec/overlay.yaml",
            "- `MakeThingRequest.OwnerMobile` looks like personal data: check that `sensitive` is right",
            "- `Thing.Note` is new in a type with sensitive members: should it be sensitive too?",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        // The same release twice: nothing to report.
        let again = changes::diff(&after, &fixture("upstream-after", "1.1.0"));
        assert!(again.is_empty());
        assert!(again.markdown().contains("No changes."));
        assert_eq!(again.verdict(), changes::Impact::Patch);
    }

    #[test]
    fn overlay_entries_that_match_nothing_upstream_are_errors_at_their_line() {
        let overlay = "actions:\n  GetThings:\n    rate_limit: 5\ntypes:\n  Unknown:\n    doc: x\n  GetThingRequest:\n    members:\n      Limt:\n        doc: x\n";
        let err = generate(&sources(overlay)).unwrap_err().to_string();
        assert!(
            err.contains("spec/overlay.yaml:11:3: error: overlay action `GetThings` matches nothing upstream\n  = hint: did you mean `GetThing`?"),
            "{err}"
        );
        assert!(
            err.contains(
                "spec/overlay.yaml:14:3: error: overlay type `Unknown` matches nothing upstream"
            ),
            "{err}"
        );
        assert!(
            err.contains("spec/overlay.yaml:18:7: error: overlay member of `GetThingRequest` `Limt` matches nothing upstream"),
            "{err}"
        );
    }

    #[test]
    fn an_overlay_constraint_that_does_not_fit_points_at_the_overlay() {
        let overlay =
            "types:\n  GetThingRequest:\n    members:\n      Limit:\n        length: {max: 3}\n";
        let err = generate(&sources(overlay)).unwrap_err().to_string();
        assert!(
            err.starts_with("spec/overlay.yaml:14:17: error: `GetThingRequest.Limit` has a length constraint but its type is `int64`"),
            "{err}"
        );
    }

    #[test]
    fn retry_safe_is_for_reads_and_token_protected_writes() {
        let text = generate(&sources("actions:\n  GetThing:\n    retry_safe: true\n")).unwrap();
        let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
        assert!(spec.actions.get("GetThing").unwrap().retry_safe);
        // Derived from the ClientToken, not written anywhere.
        assert!(spec.actions.get("MakeThing").unwrap().retry_safe);
        // A write marked by hand is refused at its line, by its official title.
        let err = generate(&sources("actions:\n  MakeThing:\n    retry_safe: true\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("spec/overlay.yaml:12:17: error: `MakeThing` is marked retry_safe, but its official title `创建东西` names no read"),
            "{err}"
        );
    }

    #[test]
    fn copied_upstream_prose_is_refused() {
        let overlay = "actions:\n  GetThing:\n    doc: 返回的最大数量，默认为二十条记录\n";
        let err = generate(&sources(overlay)).unwrap_err().to_string();
        assert!(err.contains("would copy upstream prose"), "{err}");
        assert!(err.contains("返回的最大数量"), "{err}");
    }

    #[test]
    fn any_edit_to_the_overlay_or_a_pin_changes_the_output() {
        let base = generate(&sources("")).unwrap();
        let comment_only = generate(&sources("# a new comment\n")).unwrap();
        assert_ne!(base, comment_only, "an overlay edit must make --check fail");
        let mut bumped = sources("");
        bumped.pins_text = PINS_TEXT.replace("1.0.0", "1.0.1");
        bumped.pins = toml::from_str(&bumped.pins_text).unwrap();
        assert_ne!(
            base,
            generate(&bumped).unwrap(),
            "a pin edit must make --check fail"
        );
        assert_eq!(
            base,
            generate(&sources("")).unwrap(),
            "generation is deterministic"
        );
    }

    #[test]
    fn check_reports_the_first_difference() {
        assert_eq!(
            first_difference("a\nb\nc\n", "a\nx\nc\n"),
            Some((2, "b", "x"))
        );
        assert_eq!(
            first_difference("a\n", "a\nb\n"),
            Some((2, "<end of file>", "b"))
        );
        assert_eq!(first_difference("a\n", "a\n"), None);
    }
}

/// Tests against the real pinned upstream (downloaded once into the cache, like `import`).
#[cfg(test)]
mod upstream_tests {
    use super::*;
    use crate::prose::plain_text;

    fn real() -> &'static (Sources, String) {
        static REAL: std::sync::OnceLock<(Sources, String)> = std::sync::OnceLock::new();
        REAL.get_or_init(|| {
            let root = crate::workspace_root();
            let sources =
                Sources::load(&root, None).expect("pinned upstream sources are available");
            let committed =
                fs::read_to_string(root.join(SPEC)).expect("spec/ess.yaml is committed");
            (sources, committed)
        })
    }

    #[test]
    fn import_reproduces_the_committed_spec_byte_for_byte() {
        let (sources, committed) = real();
        let generated = generate(sources).expect("import succeeds");
        assert!(
            generated == *committed,
            "spec/ess.yaml is stale: run `cargo xtask import`"
        );
    }

    #[test]
    fn no_upstream_description_appears_in_the_spec_or_overlay() {
        let (sources, committed) = real();
        let api = parse_api(&sources.api_text).unwrap();
        let mut copied = Vec::new();
        let mut checked = 0;
        for (type_name, object) in &api.objects {
            for member in &object.members {
                let doc = plain_text(&member.document);
                // Short docs ("签署人姓名。", "统一社会信用代码") are names, not prose.
                if doc.chars().count() < 12 || doc.is_ascii() {
                    continue;
                }
                checked += 1;
                if committed.contains(&doc) || sources.overlay_text.contains(&doc) {
                    copied.push(format!("{type_name}.{}", member.name));
                }
            }
        }
        assert!(
            checked > 1500,
            "only {checked} upstream descriptions were checked"
        );
        assert!(
            copied.is_empty(),
            "upstream descriptions copied verbatim: {copied:?}"
        );
        let leaks = crate::prose::leaks(&api, &sources.overlay_text);
        assert!(leaks.is_empty(), "overlay copies upstream prose: {leaks:?}");
    }
}
