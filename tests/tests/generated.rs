//! Behaviour of the generated types and client (ess-generated, built from spec/ess.yaml).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ess_generated::*;
use serde_json::json;

fn approver(kind: ApproverType) -> FlowCreateApprover {
    FlowCreateApprover::new(kind)
        .approver_name("张三")
        .approver_mobile("13800000000")
}

#[test]
fn validation_lists_every_violation_with_its_wire_path() {
    let request = CreateFlowSignUrlRequest::new("too-short")
        .video_verify_times_limit(11)
        .url_type(UrlType::from(9))
        .jump_url("x".repeat(1001))
        .flow_approver_infos(vec![
            FlowCreateApprover::new(ApproverType::Person).approver_name("李四"),
            approver(ApproverType::Organization).approver_mobile("1380000"),
        ]);
    let violations = request.validate().unwrap_err();
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "FlowId: must be exactly 32 characters long (is 9)",
            "FlowApproverInfos[1].ApproverMobile: must be exactly 11 characters long (is 7)",
            "VideoVerifyTimesLimit: must be between 1 and 10 (it is above)",
            "JumpUrl: must be at most 1000 characters long (is 1001)",
            "FlowApproverInfos[0]: needs SignId, UserId, or ApproverName and ApproverMobile (required by CreateFlowSignUrl)",
            "FlowApproverInfos[1].OrganizationName: is required by CreateFlowSignUrl",
        ]
    );
    assert!(
        violations
            .to_string()
            .starts_with("6 invalid values: FlowId: must be exactly 32")
    );
}

#[test]
fn a_signer_is_named_by_sign_id_user_id_or_name_and_mobile() {
    let request = |signer: FlowCreateApprover| {
        CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm")
            .flow_approver_infos(vec![signer])
            .validate()
    };
    let person = || FlowCreateApprover::new(ApproverType::Person);
    assert_eq!(
        request(person().sign_id("yDCHHUUckpbdauq9UEjnoFDCCumAMmv1")),
        Ok(())
    );
    assert_eq!(
        request(person().user_id("yDCHHUUckpbdauq9UEjnoFDCCumAMmv1")),
        Ok(())
    );
    assert_eq!(
        request(
            person()
                .approver_name("张三")
                .approver_mobile("13800000000")
        ),
        Ok(())
    );
    // An empty SignId names nobody, and a name alone is not a pair.
    let refused = request(person().sign_id("").approver_name("张三")).unwrap_err();
    assert_eq!(
        refused.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "FlowApproverInfos[0]: needs SignId, UserId, or ApproverName and ApproverMobile (required by CreateFlowSignUrl)"
        ]
    );
}

#[test]
fn a_value_the_spec_does_not_list_is_sent_unchanged() {
    // Upstream may add a value before this crate lists it: the caller can send it at once.
    let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm")
        .url_type(UrlType::from(9))
        .flow_approver_infos(vec![
            approver(ApproverType::Person).approver_id_card_type(IdCardType::from("NEW_KIND")),
        ]);
    assert_eq!(request.validate(), Ok(()));
    let wire = serde_json::to_value(&request).unwrap();
    assert_eq!(wire["UrlType"], json!(9));
    assert_eq!(
        wire["FlowApproverInfos"][0]["ApproverIdCardType"],
        json!("NEW_KIND")
    );
}

#[test]
fn limits_upstream_states_in_prose_are_validated() {
    let lines = |violations: Violations| -> Vec<String> {
        violations.iter().map(ToString::to_string).collect()
    };
    let ids = |n: usize| vec!["yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm".to_owned(); n];
    let describe = DescribeFlowInfoRequest::new().flow_ids(ids(101));
    assert_eq!(
        lines(describe.validate().unwrap_err()),
        ["FlowIds: must be at most 100 items long (is 101)"]
    );
    assert_eq!(
        DescribeFlowInfoRequest::new().flow_ids(ids(100)).validate(),
        Ok(())
    );
    let operator = || UserInfo::new().user_id("operator-1");
    let cancel = CancelFlowRequest::new(
        operator(),
        "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm",
        "撤".repeat(201),
    );
    assert_eq!(
        lines(cancel.validate().unwrap_err()),
        ["CancelMessage: must be at most 200 characters long (is 201)"]
    );
    let roles = DescribeIntegrationRolesRequest::new(UserInfo::new(), 0u64);
    assert_eq!(
        lines(roles.validate().unwrap_err()),
        ["Operator.UserId: is required by DescribeIntegrationRoles"]
    );
    assert_eq!(
        DescribeIntegrationRolesRequest::new(operator(), 0u64).validate(),
        Ok(())
    );
}

#[test]
fn a_valid_request_passes() {
    let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm")
        .flow_approver_infos(vec![
            approver(ApproverType::Person),
            approver(ApproverType::Organization).organization_name("示例企业"),
        ])
        .url_type(UrlType::Preview)
        .expired_on(1800);
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn debug_redacts_sensitive_members() {
    let a = approver(ApproverType::Person).approver_id_card_number("110101199003070000");
    let shown = format!("{a:?}");
    assert!(!shown.contains("13800000000"), "{shown}");
    assert!(!shown.contains("110101199003070000"), "{shown}");
    assert!(!shown.contains("张三"), "{shown}");
    assert!(
        shown.contains("approver_mobile: Some(<redacted>)"),
        "{shown}"
    );
    assert!(shown.contains("approver_type: Person"), "{shown}");

    let response: CreateFlowSignUrlResponse = serde_json::from_value(json!({
        "FlowApproverUrlInfos": [{"SignUrl": "https://essurl.cn/secret-token", "LongUrl": "https://x/long?token=t", "ApproverType": 1}],
        "RequestId": "r-1"
    }))
    .unwrap();
    let shown = format!("{response:?}");
    assert!(
        !shown.contains("secret-token") && !shown.contains("token=t"),
        "{shown}"
    );
    assert!(shown.contains("r-1"), "{shown}");
}

#[test]
fn unknown_enum_values_and_fields_round_trip() {
    let value = json!({"ApproverType": 9, "ApproverIdCardType": "PASSPORT", "NotifyType": "SMS"});
    let a: FlowCreateApprover = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(a.approver_type, ApproverType::from(9));
    assert!(!a.approver_type.is_known());
    assert_eq!(a.approver_type.value(), 9);
    // A listed value is never `Unknown`, however it is made.
    assert_eq!(ApproverType::from(1), ApproverType::Person);
    assert_eq!(a.approver_id_card_type, Some(IdCardType::from("PASSPORT")));
    assert_eq!(a.notify_type, Some(NotifyType::Sms));
    assert_eq!(serde_json::to_value(&a).unwrap(), value);

    let response: CreateFlowSignUrlResponse = serde_json::from_value(
        json!({"RequestId": "r", "SomethingNew": {"A": 1}, "FlowApproverUrlInfos": []}),
    )
    .unwrap();
    assert_eq!(response.request_id, "r");
}

#[test]
fn none_is_omitted_and_empty_values_are_sent() {
    let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm");
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"FlowId": "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm"})
    );
    let request = request.flow_approver_infos(Vec::new()).jump_url("");
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"FlowId": "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm", "FlowApproverInfos": [], "JumpUrl": ""})
    );
}

fn retry_safe<A: Action>() -> bool {
    A::RETRY_SAFE
}

#[test]
fn actions_carry_their_spec_facts() {
    assert_eq!(
        <CreateFlowSignUrlRequest as Action>::NAME,
        "CreateFlowSignUrl"
    );
    assert_eq!(<CreateFlowSignUrlRequest as Action>::RATE_LIMIT, Some(20));
    assert!(retry_safe::<CreateFlowSignUrlRequest>());
    // Hosts come from the spec's endpoint groups.
    let upload = <UploadFilesRequest as Action>::ENDPOINT;
    assert_eq!(
        (upload.group, upload.production, upload.test),
        ("file", "file.ess.tencent.cn", "file.test.ess.tencent.cn")
    );
    let sign = <CreateFlowSignUrlRequest as Action>::ENDPOINT;
    assert_eq!(
        (sign.group, sign.production, sign.test),
        (
            "default",
            "ess.tencentcloudapi.com",
            "ess.test.ess.tencent.cn"
        )
    );
    // No write is retry-safe: a ClientToken is no guard (upstream: no longer used).
    for write in [
        retry_safe::<CreateFlowRequest>(),
        retry_safe::<CreateDocumentRequest>(),
        retry_safe::<StartFlowRequest>(),
        retry_safe::<CreateFlowByFilesRequest>(),
        retry_safe::<CancelFlowRequest>(),
    ] {
        assert!(!write);
    }
    assert!(CreateFlowSignUrlRequest::ERROR_CODES.contains(&ErrorCode::ResourceNotFoundFlow));
    // Exactly the codes the spec lists for the action, in its order.
    let spec_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    let spec = ess_codegen::load_file(&spec_path).unwrap_or_else(|d| panic!("{d}"));
    let listed: Vec<&str> = spec
        .actions
        .get("CreateFlowSignUrl")
        .unwrap()
        .errors
        .iter()
        .map(|c| c.as_str())
        .collect();
    let typed: Vec<&str> = CreateFlowSignUrlRequest::ERROR_CODES
        .iter()
        .map(ErrorCode::as_str)
        .collect();
    assert_eq!(typed, listed);
    assert_eq!(
        ErrorCode::from("ResourceNotFound.Flow"),
        ErrorCode::ResourceNotFoundFlow
    );
    assert_eq!(
        ErrorCode::ResourceNotFoundFlow.to_string(),
        "ResourceNotFound.Flow"
    );
    let unknown = ErrorCode::from("Brand.New");
    assert!(matches!(unknown, ErrorCode::Unknown(_)) && !unknown.is_known());
    assert_eq!(unknown.as_str(), "Brand.New");
    assert_eq!(ACTIONS.len(), 156);
}

/// A transport that records what it is asked to send and answers with a canned body.
struct Canned {
    answer: Vec<u8>,
    sent: AtomicUsize,
    last: Mutex<Option<(String, serde_json::Value)>>,
}

impl Canned {
    fn new(answer: serde_json::Value) -> Self {
        Self {
            answer: answer.to_string().into_bytes(),
            sent: AtomicUsize::new(0),
            last: Mutex::new(None),
        }
    }
}

impl Transport for Canned {
    async fn send(&self, info: &CallInfo, body: Vec<u8>) -> Result<Vec<u8>, ess_runtime::Error> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        *self.last.lock().unwrap() = Some((
            info.action.to_owned(),
            serde_json::from_slice(&body).unwrap(),
        ));
        Ok(self.answer.clone())
    }
}

#[test]
fn the_client_validates_sends_and_decodes() {
    let client = Client::new(Canned::new(json!({"Response": {
        "FlowApproverUrlInfos": [{"SignUrl": "https://essurl.cn/x", "ApproverType": 1}],
        "RequestId": "r-42"
    }})));
    let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm")
        .flow_approver_infos(vec![approver(ApproverType::Person)]);
    let response = futures_executor::block_on(client.create_flow_sign_url(&request)).unwrap();
    assert_eq!(response.request_id, "r-42");
    let infos = response.flow_approver_url_infos.unwrap();
    assert_eq!(infos[0].sign_url.as_deref(), Some("https://essurl.cn/x"));
    assert_eq!(infos[0].approver_type, Some(ApproverType::Person));
    let (action, body) = client.transport().last.lock().unwrap().clone().unwrap();
    assert_eq!(action, "CreateFlowSignUrl");
    assert_eq!(body["FlowApproverInfos"][0]["ApproverType"], json!(1));
}

#[test]
fn an_invalid_request_is_never_sent() {
    let client = Client::new(Canned::new(json!({"Response": {"RequestId": "r"}})));
    let err = futures_executor::block_on(
        client.create_flow_sign_url(&CreateFlowSignUrlRequest::new("short")),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    assert_eq!(client.transport().sent.load(Ordering::SeqCst), 0);
}

#[test]
fn service_errors_carry_code_message_and_request_id() {
    let client = Client::new(Canned::new(json!({"Response": {
        "Error": {"Code": "ResourceNotFound.Flow", "Message": "flow not found"},
        "RequestId": "r-7"
    }})));
    let request = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm");
    let err = futures_executor::block_on(client.create_flow_sign_url(&request)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ResourceNotFound.Flow: flow not found (RequestId r-7)"
    );
    let Error::Service(service) = err else {
        panic!("expected a service error")
    };
    assert_eq!(
        ErrorCode::from(service.code.as_str()),
        ErrorCode::ResourceNotFoundFlow
    );
}

#[test]
fn numbers_are_set_with_literals() {
    // `impl Into<u64>` would refuse these literals (E0277); the setters take the number.
    let request = DescribeFlowTemplatesRequest::new(UserInfo::new().user_id("operator-1"))
        .offset(20)
        .limit(10);
    assert_eq!(request.offset, Some(20));
    let component = Component::new(ComponentType::SignSeal, 60.0, 120.0, 1, 100.5, 200.0, 0);
    assert_eq!(component.component_page, 1);
    assert_eq!(component.component_type(), &ComponentType::SignSeal);
}

#[test]
fn every_type_answers_reach_reads_through_getters() {
    let info: DescribeFlowInfoResponse = serde_json::from_value(json!({
        "FlowDetailInfos": [{
            "FlowId": "f-1",
            "FlowStatus": 4,
            "CreatedOn": 1700000000,
            "FlowApproverInfos": [{"ApproveStatus": 3, "SignOrder": 0, "ApproveTime": 1700000100}]
        }],
        "RequestId": "r-1"
    }))
    .unwrap();
    assert_eq!(info.request_id(), "r-1");
    let flow = &info.flow_detail_infos()[0];
    assert_eq!(flow.flow_id(), Some("f-1"));
    assert_eq!(flow.flow_status(), Some(&FlowStatus::Signed));
    assert_eq!(flow.created_on(), Some(1_700_000_000));
    assert_eq!(flow.user_flow_type(), None);
    let signer = &flow.flow_approver_infos()[0];
    assert_eq!(signer.approve_status(), Some(&ApproveStatus::Signed));
    assert_eq!(signer.approve_time(), Some(1_700_000_100));
    // Absent lists read as empty.
    assert!(flow.cc_infos().is_empty());
}

#[test]
fn members_confirmed_present_are_plain_and_required_when_decoding() {
    let created: CreateFlowResponse = serde_json::from_value(
        json!({"FlowId": "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm", "RequestId": "r"}),
    )
    .unwrap();
    let flow_id: &str = created.flow_id();
    assert_eq!(flow_id, "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm");
    // An answer without it is a decode error, not an empty id handed to the next call.
    let missing = serde_json::from_value::<CreateFlowResponse>(json!({"RequestId": "r"}));
    assert!(missing.unwrap_err().to_string().contains("FlowId"));
}

#[test]
fn types_both_sides_reach_set_with_with_and_read_by_name() {
    // Staff is sent (UpdateIntegrationEmployees) and answered (DescribeIntegrationEmployees).
    let staff = Staff::new()
        .with_display_name("张三")
        .with_mobile("13800000000");
    assert_eq!(staff.display_name(), Some("张三"));
    assert_eq!(staff.mobile(), Some("13800000000"));
    assert!(staff.roles().is_empty());
}
