//! The committed spec/ess.yaml: the whole ESS API, and the CreateFlowSignUrl facts.

use std::path::Path;

use ess_codegen::spec::{Member, Spec, Status, TypeDef, Usage};

fn spec() -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    ess_codegen::load_file(&path)
        .unwrap_or_else(|d| panic!("spec/ess.yaml does not load:\n{d}"))
        .into_spec()
}

fn ty<'a>(spec: &'a Spec, name: &str) -> &'a TypeDef {
    spec.types
        .get(name)
        .unwrap_or_else(|| panic!("no type {name}"))
}

fn member<'a>(spec: &'a Spec, ty_name: &str, name: &str) -> &'a Member {
    ty(spec, ty_name)
        .members
        .iter()
        .find(|m| m.name.as_str() == name)
        .unwrap_or_else(|| panic!("no member {ty_name}.{name}"))
}

#[test]
fn holds_the_whole_official_api() {
    let spec = spec();
    assert_eq!(spec.actions.len(), 156);
    // Upstream's types; the callback data types are ours (the overlay's `callbacks:`).
    let upstream =
        |(_, t): &(&ess_codegen::spec::Spanned<String>, &TypeDef)| t.usage != Some(Usage::Callback);
    assert_eq!(spec.types.iter().filter(upstream).count(), 462);
    assert_eq!(spec.types.iter().filter(|t| !upstream(t)).count(), 11);
    assert_eq!(spec.callbacks.len(), 46);
    // 242 from the SDK's errorcodes.py, plus one used by an official example.
    assert_eq!(spec.errors.service.len(), 243);
    assert!(
        spec.errors
            .service
            .iter()
            .any(|c| c.as_str() == "InternalError.DataNotFound")
    );
    assert_eq!(spec.errors.common.len(), 38);
    assert_eq!(spec.service.api_version.as_str(), "2020-11-11");
    let deprecated: Vec<&str> = spec
        .actions
        .iter()
        .filter(|(_, a)| *a.status == Status::Deprecated)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(deprecated, ["RenewAutoSignLicense"]);
    let members: usize = spec
        .types
        .iter()
        .filter(upstream)
        .map(|(_, t)| t.members.len())
        .sum();
    assert_eq!(members, 2234);
}

#[test]
fn every_action_lists_the_errors_it_may_return() {
    let spec = spec();
    let without: Vec<&str> = spec
        .actions
        .iter()
        .filter(|(_, a)| a.errors.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "actions without error codes: {without:?}"
    );
}

#[test]
fn create_flow_sign_url_facts() {
    let spec = spec();
    let action = spec
        .actions
        .get("CreateFlowSignUrl")
        .expect("flagship action");
    assert_eq!(action.title.as_str(), "获取H5签署链接");
    assert_eq!(action.rate_limit.as_deref(), Some(&20));
    assert!(action.retry_safe);
    assert!(action.doc.is_some());
    let codes: Vec<&str> = action.errors.iter().map(|c| c.as_str()).collect();
    assert!(codes.contains(&"ResourceNotFound.Flow"));
    assert_eq!(codes.len(), 12);

    assert_eq!(
        member(&spec, "CreateFlowSignUrlRequest", "FlowId")
            .length
            .as_ref()
            .unwrap()
            .exact,
        Some(32)
    );
    let video = member(&spec, "CreateFlowSignUrlRequest", "VideoVerifyTimesLimit");
    let range = video.range.as_ref().unwrap();
    assert_eq!(
        (
            range.min.as_deref().map(String::as_str),
            range.max.as_deref().map(String::as_str)
        ),
        (Some("1"), Some("10"))
    );
    assert_eq!(video.default.as_deref().map(String::as_str), Some("5"));
    assert_eq!(
        member(&spec, "CreateFlowSignUrlRequest", "JumpUrl")
            .length
            .as_ref()
            .unwrap()
            .max,
        Some(1000)
    );
    let expired = member(&spec, "CreateFlowSignUrlRequest", "ExpiredOn")
        .range
        .as_ref()
        .unwrap();
    assert_eq!(expired.min.as_deref().map(String::as_str), Some("1800"));
    assert_eq!(expired.max.as_deref().map(String::as_str), Some("7776000"));

    let url_type = spec.enums.get("UrlType").expect("UrlType enum");
    let values: Vec<(&str, &str)> = url_type
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.name.as_str()))
        .collect();
    assert_eq!(values, [("0", "Sign"), ("1", "Preview")]);
    let approver_type = spec.enums.get("ApproverType").expect("ApproverType enum");
    let values: Vec<&str> = approver_type
        .values
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    assert_eq!(values, ["0", "1", "3", "7"]);

    let reqs = &action.requirements;
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path.as_str(), "FlowApproverInfos[]");
    let required: Vec<&str> = reqs[0].members.iter().map(|m| m.as_str()).collect();
    assert_eq!(required, ["ApproverType"]);
    // Upstream: name and mobile unless the signer is named by UserId, or by SignId.
    let any_of: Vec<Vec<&str>> = reqs[1]
        .any_of
        .iter()
        .map(|g| g.iter().map(|m| m.as_str()).collect())
        .collect();
    assert_eq!(
        any_of,
        [
            vec!["SignId"],
            vec!["UserId"],
            vec!["ApproverName", "ApproverMobile"]
        ]
    );
    let when = reqs[2].when.as_ref().expect("enterprise condition");
    assert_eq!(when.member.as_str(), "ApproverType");
    assert_eq!(reqs[2].members[0].as_str(), "OrganizationName");

    for (ty_name, name) in [
        ("FlowCreateApprover", "ApproverMobile"),
        ("FlowCreateApprover", "ApproverIdCardNumber"),
        ("FlowApproverUrlInfo", "SignUrl"),
        ("FlowApproverUrlInfo", "LongUrl"),
        ("FlowApproverUrlInfo", "ApproverMobile"),
        // Beyond the flagship: CreateFlow's signers and CC'd parties, batch links.
        ("ApproverInfo", "ApproverMobile"),
        ("ApproverInfo", "ApproverIdCardNumber"),
        ("CcInfo", "Mobile"),
        ("CreateBatchSignUrlRequest", "IdCardNumber"),
        ("CreateBatchSignUrlResponse", "SignUrl"),
    ] {
        assert!(
            member(&spec, ty_name, name).is_sensitive(),
            "{ty_name}.{name} must be sensitive"
        );
    }
    // Reviewed: the names look personal, the values are not; the decision is recorded.
    for (ty_name, name) in [
        ("ApproverOption", "ApproverMobileMode"),
        ("CreateFlowRequest", "ClientToken"),
        ("RegisterInfoOption", "LegalNameSame"),
    ] {
        assert_eq!(
            member(&spec, ty_name, name).sensitive,
            Some(false),
            "{ty_name}.{name}"
        );
    }
}

#[test]
fn flagship_closure_is_documented_in_our_words() {
    let spec = spec();
    let closure = [
        "CreateFlowSignUrlRequest",
        "CreateFlowSignUrlResponse",
        "UserInfo",
        "Agent",
        "FlowCreateApprover",
        "OrganizationInfo",
        "FlowApproverUrlInfo",
        "ApproverOption",
        "Component",
        "Intention",
        "IntentionAction",
        "IntentionQuestion",
        "RegisterInfo",
        "RegisterInfoOption",
        "RuleIdConfig",
    ];
    let mut members = 0;
    for name in closure {
        let t = ty(&spec, name);
        assert!(t.doc.is_some(), "{name} has no doc");
        for m in &t.members {
            members += 1;
            assert!(m.doc.is_some(), "{name}.{} has no doc", m.name.as_str());
        }
    }
    assert_eq!(members, 116);
}

#[test]
fn the_generated_crate_sees_every_action() {
    let spec = spec();
    let names: Vec<&str> = spec.actions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(ess_generated::ACTIONS, names.as_slice());
    assert_eq!(ess_generated::API_VERSION, "2020-11-11");
}
