//! Tests of import: miniature upstream fixtures, then the real pinned upstream.

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
    let overlay = "actions:\n  GetThings:\n    rate_limit: 5\n    rate_limit_source: a page\ntypes:\n  Unknown:\n    doc: x\n  GetThingRequest:\n    members:\n      Limt:\n        doc: x\n";
    let err = generate(&sources(overlay)).unwrap_err().to_string();
    assert!(
            err.contains("spec/overlay.yaml:11:3: error: overlay action `GetThings` matches nothing upstream\n  = hint: did you mean `GetThing`?"),
            "{err}"
        );
    assert!(
        err.contains(
            "spec/overlay.yaml:15:3: error: overlay type `Unknown` matches nothing upstream"
        ),
        "{err}"
    );
    assert!(
            err.contains("spec/overlay.yaml:19:7: error: overlay member of `GetThingRequest` `Limt` matches nothing upstream"),
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
fn retry_safe_is_for_reads_and_writes_with_a_cited_upstream_statement() {
    let text = generate(&sources("actions:\n  GetThing:\n    retry_safe: true\n")).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    assert!(spec.actions.get("GetThing").unwrap().retry_safe);
    // A ClientToken proves nothing (upstream says the service no longer reads it).
    assert!(!spec.actions.get("MakeThing").unwrap().retry_safe);
    // A write marked without a citation is refused at its line, by its official title.
    let err = generate(&sources("actions:\n  MakeThing:\n    retry_safe: true\n"))
        .unwrap_err()
        .to_string();
    assert!(
            err.contains("spec/overlay.yaml:12:17: error: `MakeThing` is marked retry_safe, but its official title `创建东西` names no read"),
            "{err}"
        );
    assert!(err.contains("cite it in `retry_safe_source`"), "{err}");
    // With the citation, it is the overlay's fact.
    let cited = "actions:\n  MakeThing:\n    retry_safe: true\n    retry_safe_source: the action's doc page says a repeat returns the first result\n";
    let text = generate(&sources(cited)).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    assert!(spec.actions.get("MakeThing").unwrap().retry_safe);
    // A citation without the mark is a mistake too.
    let stray = "actions:\n  MakeThing:\n    retry_safe_source: a page\n";
    let err = generate(&sources(stray)).unwrap_err().to_string();
    assert!(
        err.contains("spec/overlay.yaml:12:24: error: `MakeThing` cites a retry_safe_source but is not marked retry_safe"),
        "{err}"
    );
}

/// The fixture's upstream with one more member of MakeThingRequest.
fn sources_with_member(member: serde_json::Value, overlay_tail: &str) -> Sources {
    let mut api: serde_json::Value = serde_json::from_str(&api_text()).unwrap();
    api["objects"]["MakeThingRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(member);
    Sources {
        api_text: api.to_string(),
        ..sources(overlay_tail)
    }
}

#[test]
fn a_member_upstream_says_is_no_longer_used_is_marked_unused() {
    let member = serde_json::json!({"name": "OldMode", "type": "string", "member": "string",
        "document": "<p>该字段已不再使用</p>", "required": false});
    let text = generate(&sources_with_member(member, "")).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    let unused = |name: &str| {
        spec.types
            .get("MakeThingRequest")
            .unwrap()
            .members
            .iter()
            .find(|m| m.name.as_str() == name)
            .unwrap()
            .unused
    };
    assert!(unused("OldMode"));
    assert!(!unused("ClientToken"));
}

#[test]
fn a_review_that_contradicts_upstream_on_personal_data_is_refused() {
    let member = serde_json::json!({"name": "NotifyAddress", "type": "string", "member": "string",
        "document": "通知类型为短信时，此处为手机号", "required": false});
    let overlay = "types:\n  MakeThingRequest:\n    members:\n      NotifyAddress:\n        sensitive: false\n";
    let err = generate(&sources_with_member(member.clone(), overlay))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spec/overlay.yaml:14:20: error: `MakeThingRequest.NotifyAddress` is marked `sensitive: false`, but upstream documents it as holding a mobile number"),
        "{err}"
    );
    let overlay = overlay.replace("false", "true");
    generate(&sources_with_member(member, &overlay)).unwrap();
}

#[test]
fn a_doc_that_defers_to_a_list_nobody_gives_is_refused() {
    let overlay = "types:\n  GetThingRequest:\n    members:\n      Limit:\n        doc: At most 20, or what the action lists.\n";
    let err = generate(&sources(overlay)).unwrap_err().to_string();
    assert!(
        err.contains("spec/overlay.yaml:13:7: error: the doc of `Limit` defers to a list it does not give (`the action lists`)"),
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

/// Tests against the real pinned upstream (downloaded once into the cache, like `import`).
mod upstream {
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

/// The fixture with a `Kind` member on `GetThingRequest` whose upstream doc lists values.
fn with_listed_kind(mut sources: Sources) -> Sources {
    let mut api: serde_json::Value = serde_json::from_str(&sources.api_text).unwrap();
    api["objects"]["GetThingRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "Kind", "type": "int", "member": "int64",
            "document": "种类<ul><li><b>0</b>: 甲</li><li><b>1</b>: 乙</li><li><b>2</b>: 丙</li></ul>",
            "required": false}));
    sources.api_text = api.to_string();
    sources
}

const KIND_ENUM: &str = "enums:\n  Kind:\n    type: int64\n    values:\n      - {value: \"0\", name: A}\n      - {value: \"1\", name: B}\n";

#[test]
fn a_member_listing_values_is_typed_by_an_enum_that_has_them_all() {
    // The enum lacks `2`, which upstream lists: refused at the member's `enum:`.
    let overlay = format!(
        "{KIND_ENUM}types:\n  GetThingRequest:\n    members:\n      Kind:\n        enum: Kind\n"
    );
    let err = generate(&with_listed_kind(sources(&overlay)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "error: upstream lists `2` for `GetThingRequest.Kind`, which enum `Kind` lacks"
        ),
        "{err}"
    );
    // With the value, the member is typed; the spec records no separate list.
    let overlay = overlay.replace("name: B}\n", "name: B}\n      - {value: \"2\", name: C}\n");
    let text = generate(&with_listed_kind(sources(&overlay))).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    let kind = &spec.types.get("GetThingRequest").unwrap().members[2];
    assert_eq!(
        kind.enumeration.as_deref().map(String::as_str),
        Some("Kind")
    );
    assert!(kind.listed_values.is_empty());
}

#[test]
fn a_member_listing_values_without_an_enum_is_recorded_and_a_stale_review_refused() {
    // Untyped and unreviewed: the values go into the spec, for docs and coverage.
    let text = generate(&with_listed_kind(sources(""))).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    let kind = &spec.types.get("GetThingRequest").unwrap().members[2];
    assert_eq!(kind.listed_values, ["0", "1", "2"]);
    assert_eq!(kind.keep_wire_type, None);
    // A review of a member whose doc lists nothing is stale.
    let overlay =
        "types:\n  GetThingRequest:\n    members:\n      ThingId:\n        keep_wire_type: an id\n";
    let err = generate(&with_listed_kind(sources(overlay)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "`GetThingRequest.ThingId` keeps its wire type, but upstream lists no values for it"
        ),
        "{err}"
    );
}

#[test]
fn always_present_needs_upstreams_flag_and_every_example_answer() {
    let mut with_note = sources(
        "types:\n  GetThingResponse:\n    members:\n      Note:\n        always_present: true\n",
    );
    let mut api: serde_json::Value = serde_json::from_str(&with_note.api_text).unwrap();
    api["objects"]["GetThingResponse"]["members"]
        .as_array_mut()
        .unwrap()
        .insert(
            0,
            serde_json::json!({"name": "Note", "type": "string", "member": "string",
            "document": "备注", "output_required": true}),
        );
    with_note.api_text = api.to_string();
    let answer = |body: &str| {
        serde_json::json!({"actions": {"GetThing": [{"input": "{}", "output": body}]}}).to_string()
    };
    // Without examples there is nothing to confirm against.
    let err = generate(&with_note).unwrap_err().to_string();
    assert!(err.contains("there are no official examples"), "{err}");
    // An example answer that leaves it out refutes it.
    with_note.examples_json = Some(answer(r#"{"Response": {"RequestId": "r"}}"#));
    let err = generate(&with_note).unwrap_err().to_string();
    assert!(
        err.contains("`GetThingResponse.Note` cannot be confirmed always present: 1 of 1 official example answers leave it out"),
        "{err}"
    );
    // Shown by every example answer: confirmed.
    with_note.examples_json = Some(answer(r#"{"Response": {"Note": "n", "RequestId": "r"}}"#));
    let text = generate(&with_note).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    assert!(spec.types.get("GetThingResponse").unwrap().members[0].always_present);
}

#[test]
fn the_change_report_names_paging_and_waiters_gained_or_changed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let load = |text: &str| ess_codegen::load_str("ess.yaml", text).unwrap().into_spec();
    let paging = "    pagination: {offset: page, items: Templates, total: TotalCount}\n";
    let status = "      success: [EvidenceStatusSuccess]\n      failure: [EvidenceStatusFailed]\n      pending: [EvidenceStatusExecuting]\n";
    assert!(text.contains(paging) && text.contains(status));
    // Before: DescribeFlowTemplates not paginated; the report waiter read failure as pending.
    let before = text.replace(paging, "").replace(
        status,
        "      success: [EvidenceStatusSuccess]\n      pending: [EvidenceStatusExecuting, EvidenceStatusFailed]\n",
    );
    let report = changes::diff(&load(&before), &load(&text));
    let markdown = report.markdown();
    assert!(
        markdown.contains("- minor: `DescribeFlowTemplates` gains a paging: Page offset, items Templates, TotalCount"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- major: `DescribeFlowEvidenceReport`'s waiter changes:"),
        "{markdown}"
    );
    assert_eq!(report.verdict(), changes::Impact::Major);
    // And back: a paging removed is major.
    let removed = changes::diff(&load(&text), &load(&before)).markdown();
    assert!(
        removed.contains("- major: `DescribeFlowTemplates` loses its paging"),
        "{removed}"
    );
}

#[test]
fn every_rate_limit_cites_its_page_and_the_rest_take_the_cited_default() {
    let cited = "actions:\n  GetThing:\n    rate_limit: 50\n    rate_limit_source: https://cloud.tencent.com/document/api/1323/1 (its page)\n";
    let text = generate(&sources(cited)).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    let limit = |spec: &ess_codegen::spec::Spec, name: &str| {
        spec.actions
            .get(name)
            .unwrap()
            .rate_limit
            .as_ref()
            .map(|l| **l)
    };
    assert_eq!(limit(&spec, "GetThing"), Some(50));
    assert_eq!(limit(&spec, "MakeThing"), None, "no default, no limit");
    // With a default, the actions without their own limit take it.
    let mut with_default = sources(cited);
    with_default.overlay_text = with_default.overlay_text.replace(
        "errors:\n",
        "  default_rate_limit: {limit: 20, source: the lowest any page states}\nerrors:\n",
    );
    let spec = ess_codegen::load_str("spec/ess.yaml", &generate(&with_default).unwrap()).unwrap();
    assert_eq!(limit(&spec, "GetThing"), Some(50));
    assert_eq!(limit(&spec, "MakeThing"), Some(20));
    // A limit without its page, or a page without a limit, is refused at its line.
    let err = generate(&sources("actions:\n  GetThing:\n    rate_limit: 50\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "spec/overlay.yaml:12:17: error: `GetThing` has a rate_limit without its source"
        ),
        "{err}"
    );
    let err = generate(&sources(
        "actions:\n  GetThing:\n    rate_limit_source: a page\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`GetThing` cites a rate_limit_source but states no rate_limit"),
        "{err}"
    );
    // The page must be ESS's own: essbasic's (product 1420) states another service's limits.
    for page in [
        "https://cloud.tencent.com/document/api/1420/96111",
        "its page",
        "https://cloud.tencent.com/document/api/1323/",
    ] {
        let err = generate(&sources(&format!(
            "actions:\n  GetThing:\n    rate_limit: 20\n    rate_limit_source: {page}\n"
        )))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("spec/overlay.yaml:13:24: error: `GetThing` cites")
                && err.contains("which is not an ESS doc page"),
            "{page}: {err}"
        );
    }
    // A default needs its reason.
    let mut unsourced = sources("");
    unsourced.overlay_text = unsourced.overlay_text.replace(
        "errors:\n",
        "  default_rate_limit: {limit: 20, source: \" \"}\nerrors:\n",
    );
    let err = generate(&unsourced).unwrap_err().to_string();
    assert!(
        err.contains("the default rate limit has no source"),
        "{err}"
    );
}

#[test]
fn one_member_name_with_one_meaning_is_redacted_everywhere_or_nowhere() {
    // `Remark` (a signer's free text) is sensitive in GetThingRequest and unclassified in
    // MakeThingRequest: refused, naming both sides.
    let overlay =
        "types:\n  GetThingRequest:\n    members:\n      Remark:\n        sensitive: true\n";
    let mixed = with_members(sources(overlay), &["Remark"], &["Remark"]);
    let err = generate(&mixed).unwrap_err().to_string();
    assert!(
        err.contains(
            "error: `Remark` (string) is sensitive in GetThingRequest but not in MakeThingRequest"
        ) && err.contains("sensitivity follows meaning"),
        "{err}"
    );
    // A shared entry classifies it once, for every type.
    let shared = "  Remark: {type: string, sensitive: true}\n";
    let text = generate(&with_members(sources(shared), &["Remark"], &["Remark"])).unwrap();
    let spec = ess_codegen::load_str("spec/ess.yaml", &text).unwrap();
    for ty in ["GetThingRequest", "MakeThingRequest"] {
        let remark = spec
            .types
            .get(ty)
            .unwrap()
            .members
            .iter()
            .find(|m| m.name.as_str() == "Remark");
        assert_eq!(remark.unwrap().sensitive, Some(true), "{ty}");
    }
    // Where the name means different things in different types, a stated reason lets the
    // types differ; the error points at the shared entry that lacks one.
    let varies = format!(
        "  Remark: {{type: string, sensitivity_varies: \"a person's note in one, a label in the other\"}}\n{overlay}"
    );
    assert!(generate(&with_members(sources(&varies), &["Remark"], &["Remark"])).is_ok());
    let no_reason = format!("  Remark: {{type: string, doc: A remark.}}\n{overlay}");
    let err = generate(&with_members(sources(&no_reason), &["Remark"], &["Remark"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "spec/overlay.yaml:10:3: error: `Remark` (string) is sensitive in GetThingRequest"
        ),
        "{err}"
    );
}
