//! Flows as ESS runs them, through the generated client: signers sign in list order unless
//! the flow is unordered, automatic signers sign as it starts, a signer may reject, a flow
//! expires at its DeadLine on the emulator's clock, a closed flow's links no longer sign, and
//! CreateDocument holds a flow to a seeded template, and CreateFlowByFiles takes only a file
//! UploadFiles gave within its hour. Statuses are DescribeFlowInfo's numbers.

use ess_emulator::{ControlError, Emulator, Signer, approve_status as signer, flow_status as flow};
use ess_generated::{
    ApproverInfo, ApproverType, CancelFlowRequest, Client, CreateDocumentRequest,
    CreateFlowByFilesRequest, CreateFlowRequest, CreateFlowSignUrlRequest, DescribeFlowInfoRequest,
    DescribeFlowTemplatesRequest, ErrorCode, FlowCreateApprover, StartFlowRequest, UploadFile,
    UploadFilesRequest, UserInfo,
};
use serde_json::json;

fn person(name: &str, mobile: &str) -> FlowCreateApprover {
    FlowCreateApprover::new(ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile)
}

fn operator() -> UserInfo {
    UserInfo::new().user_id("operator-1")
}

async fn setup() -> (Emulator, Client) {
    let emulator = Emulator::builder().seed_demo(false).start().await.unwrap();
    let key = &emulator.credentials()[0];
    let client = ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key);
    (emulator, client)
}

fn statuses(emulator: &Emulator, flow_id: &str) -> (i64, Vec<i64>) {
    emulator.flow_status(flow_id).expect("the flow exists")
}

/// A file id UploadFiles gives for a small PDF.
async fn uploaded(client: &Client) -> String {
    let upload = UploadFilesRequest::new("DOCUMENT")
        .caller(ess_generated::Caller::new().operator_id("operator-1"))
        .file_infos(vec![UploadFile::from_bytes("a.pdf", b"%PDF-1.4")]);
    client.upload_files(&upload).await.unwrap().file_ids()[0].clone()
}

/// CreateFlowByFiles of `file_id` for one person.
fn by_files(file_id: &str, name: &str) -> CreateFlowByFilesRequest {
    CreateFlowByFilesRequest::new(operator(), name, vec![file_id.to_owned()]).approvers(vec![
        ApproverInfo::new(ApproverType::Person)
            .approver_name("张三")
            .approver_mobile("13800000000"),
    ])
}

fn two_people() -> Vec<FlowCreateApprover> {
    vec![person("张三", "13800000000"), person("李四", "13900000000")]
}

/// The page a sign link opens, and what POSTing it (the Sign button) answers.
async fn link_page(client: &Client, flow_id: &str, signer: FlowCreateApprover) -> (String, u16) {
    let request = CreateFlowSignUrlRequest::new(flow_id).flow_approver_infos(vec![signer]);
    let links = client.create_flow_sign_url(&request).await.unwrap();
    let long = links.flow_approver_url_infos()[0]
        .long_url()
        .unwrap()
        .to_owned();
    let page = long.split('?').next().unwrap().to_owned();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let html = http.get(&page).send().await.unwrap().text().await.unwrap();
    let posted = http.post(&page).send().await.unwrap().status().as_u16();
    (html, posted)
}

#[tokio::test]
async fn an_ordered_flow_is_signed_in_list_order() {
    let (emulator, client) = setup().await;
    let request = CreateFlowRequest::new(operator(), "ordered", two_people());
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    assert_eq!(
        statuses(&emulator, &flow_id),
        (flow::WAITING, vec![signer::WAITING, signer::NOT_YET_DUE])
    );
    // The second signer's page does not offer to sign, and signing is refused.
    let (html, posted) = link_page(&client, &flow_id, two_people().remove(1)).await;
    assert!(html.contains("turn has not come"), "{html}");
    assert!(!html.contains("<button"), "{html}");
    assert_eq!(posted, 409);
    assert_eq!(
        emulator.sign(&flow_id, &Signer::Index(1)).unwrap_err(),
        ControlError::Conflict("the flow is ordered and it is not this signer's turn yet")
    );
    ess_tests::sign_on_link(&client, &flow_id, two_people().remove(0)).await;
    assert_eq!(
        statuses(&emulator, &flow_id),
        (
            flow::PARTIALLY_SIGNED,
            vec![signer::SIGNED, signer::WAITING]
        )
    );
    ess_tests::sign_on_link(&client, &flow_id, two_people().remove(1)).await;
    assert_eq!(
        statuses(&emulator, &flow_id),
        (flow::SIGNED, vec![signer::SIGNED, signer::SIGNED])
    );
}

#[tokio::test]
async fn an_unordered_flow_takes_signatures_in_any_order() {
    let (emulator, client) = setup().await;
    let request = CreateFlowRequest::new(operator(), "unordered", two_people()).unordered(true);
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    assert_eq!(
        statuses(&emulator, &flow_id),
        (flow::WAITING, vec![signer::WAITING, signer::WAITING])
    );
    ess_tests::sign_on_link(&client, &flow_id, two_people().remove(1)).await;
    assert_eq!(
        statuses(&emulator, &flow_id),
        (
            flow::PARTIALLY_SIGNED,
            vec![signer::WAITING, signer::SIGNED]
        )
    );
}

#[tokio::test]
async fn automatic_signers_sign_as_the_flow_starts() {
    let (emulator, client) = setup().await;
    let seal = FlowCreateApprover::new(ApproverType::OrganizationAutoSign)
        .organization_name("示例科技有限公司");
    let approvers = vec![seal, person("张三", "13800000000")];
    let request = CreateFlowRequest::new(operator(), "auto", approvers);
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    // The enterprise's seal is on before anyone acts; the person is due next.
    assert_eq!(
        statuses(&emulator, &flow_id),
        (
            flow::PARTIALLY_SIGNED,
            vec![signer::SIGNED, signer::WAITING]
        )
    );
}

#[tokio::test]
async fn a_rejection_closes_the_flow_with_its_reason() {
    let (emulator, client) = setup().await;
    let request = CreateFlowRequest::new(operator(), "rejected", two_people());
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    let view = emulator
        .reject(&flow_id, &Signer::Index(0), "wrong amount")
        .unwrap();
    assert_eq!(view.status, flow::REJECTED);
    let described = client
        .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]))
        .await
        .unwrap();
    let detail = &described.flow_detail_infos()[0];
    assert_eq!(
        detail.flow_status.as_ref().map(|s| s.value()),
        Some(flow::REJECTED)
    );
    let first = &detail.flow_approver_infos()[0];
    assert_eq!(
        first.approve_status.as_ref().map(|s| s.value()),
        Some(signer::REJECTED)
    );
    assert_eq!(first.approve_message(), Some("wrong amount"));
    // Closed: no signing link, no cancelling, no second act.
    let links = CreateFlowSignUrlRequest::new(flow_id.as_str())
        .flow_approver_infos(vec![two_people().remove(1)]);
    let refused = client.create_flow_sign_url(&links).await.unwrap_err();
    assert_eq!(refused.code(), Some(&ErrorCode::FailedOperation));
    let cancel = CancelFlowRequest::new(operator(), flow_id.clone(), "too late");
    let refused = client.cancel_flow(&cancel).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Some(&ErrorCode::OperationDeniedFlowHasTerminated)
    );
    assert!(emulator.sign(&flow_id, &Signer::Index(1)).is_err());
}

#[tokio::test]
async fn a_flow_expires_when_the_emulators_clock_passes_its_deadline() {
    let (emulator, client) = setup().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let request =
        CreateFlowRequest::new(operator(), "deadline", two_people()).dead_line(now + 3600);
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    ess_tests::sign_on_link(&client, &flow_id, two_people().remove(0)).await;
    assert_eq!(emulator.flow(&flow_id).unwrap().deadline, Some(now + 3600));
    emulator.set_clock_offset(3599 - 5).unwrap();
    assert_eq!(statuses(&emulator, &flow_id).0, flow::PARTIALLY_SIGNED);
    // Signatures count against the emulator's clock; the client re-learns it when it
    // differs from the machine's (AuthFailure.SignatureExpire, then the Date header).
    emulator.set_clock_offset(3600 + 5).unwrap();
    let described = client
        .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]))
        .await
        .unwrap();
    let detail = &described.flow_detail_infos()[0];
    assert_eq!(
        detail.flow_status.as_ref().map(|s| s.value()),
        Some(flow::EXPIRED)
    );
    let signers: Vec<_> = detail
        .flow_approver_infos()
        .iter()
        .map(|a| a.approve_status.as_ref().map(|s| s.value()))
        .collect();
    assert_eq!(signers, [Some(signer::SIGNED), Some(signer::EXPIRED)]);
    // A default deadline is CreateFlow's documented 365 days.
    let later = CreateFlowRequest::new(operator(), "default", two_people());
    let other = ess_tests::create_and_start_flow(&client, &later).await;
    let deadline = emulator.flow(&other).unwrap().deadline.unwrap();
    let expected = now + 3605 + ess_emulator::DEFAULT_DEADLINE_SECONDS;
    assert!((deadline - expected).abs() <= 5, "{deadline} vs {expected}");
}

#[tokio::test]
async fn a_cancelled_flows_links_no_longer_offer_to_sign() {
    let (_emulator, client) = setup().await;
    let request = CreateFlowRequest::new(operator(), "cancelled", two_people());
    let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
    let links = CreateFlowSignUrlRequest::new(flow_id.as_str())
        .flow_approver_infos(vec![two_people().remove(0)]);
    let issued = client.create_flow_sign_url(&links).await.unwrap();
    let long = issued.flow_approver_url_infos()[0]
        .long_url()
        .unwrap()
        .to_owned();
    let page = long.split('?').next().unwrap().to_owned();
    client
        .cancel_flow(&CancelFlowRequest::new(
            operator(),
            flow_id.clone(),
            "changed terms",
        ))
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let html = http.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("cancelled"), "{html}");
    assert!(!html.contains("<button"), "{html}");
    assert_eq!(
        http.post(&page).send().await.unwrap().status().as_u16(),
        409
    );
}

#[tokio::test]
async fn seeded_templates_hold_create_document_to_them() {
    let (emulator, client) = setup().await;
    let template = json!({
        "TemplateId": "tpl-person-only",
        "TemplateName": "Lease",
        "Recipients": [{"RecipientId": "r-1", "RecipientType": "INDIVIDUAL", "RoleName": "Tenant"}],
    });
    assert_eq!(
        emulator.seed_template(&template).unwrap(),
        "tpl-person-only"
    );
    let created = client
        .create_flow(&CreateFlowRequest::new(
            operator(),
            "lease",
            vec![person("张三", "13800000000")],
        ))
        .await
        .unwrap();
    let flow_id = created.flow_id().to_owned();
    let document =
        |template: &str| CreateDocumentRequest::new(operator(), template).flow_id(flow_id.as_str());
    let refused = client
        .create_document(&document("tpl-unknown"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(&ErrorCode::ResourceNotFoundTemplate));
    client
        .create_document(&document("tpl-person-only"))
        .await
        .unwrap();
    client
        .start_flow(&StartFlowRequest::new(operator(), flow_id.as_str()))
        .await
        .unwrap();
    // An enterprise signer where the template has a person.
    let employee = FlowCreateApprover::new(ApproverType::Organization)
        .approver_name("李四")
        .approver_mobile("13900000000")
        .organization_name("示例科技有限公司");
    let other = client
        .create_flow(&CreateFlowRequest::new(operator(), "lease", vec![employee]))
        .await
        .unwrap();
    let refused = client
        .create_document(
            &CreateDocumentRequest::new(operator(), "tpl-person-only").flow_id(other.flow_id()),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Some(&ErrorCode::OperationDeniedApproverNoMatchTemplate)
    );
    // DescribeFlowTemplates lists what was seeded.
    let listed = client
        .describe_flow_templates(&DescribeFlowTemplatesRequest::new(operator()))
        .await
        .unwrap();
    let ids: Vec<_> = listed.templates().iter().map(|t| t.template_id()).collect();
    assert_eq!(ids, [Some("tpl-person-only")]);
    assert_eq!(listed.total_count, Some(1));
}

#[tokio::test]
async fn create_flow_by_files_takes_only_a_file_uploaded_within_its_hour() {
    let (emulator, client) = setup().await;
    let by_files = |file_id: &str| by_files(file_id, "by files");
    let refused = |err: ess_generated::Error| match err.code() {
        Some(code) => code.clone(),
        None => panic!("not a service error: {err}"),
    };
    // An id UploadFiles never gave: ResourceNotFound.Resource (upstream: the file resource
    // could not be found, check that its upload finished and it is still valid).
    let err = client
        .create_flow_by_files(&by_files("yDnotUploadedHere000000000000000"))
        .await
        .unwrap_err();
    assert_eq!(refused(err), ErrorCode::ResourceNotFoundResource);
    let file_id = uploaded(&client).await;
    // Usable any number of times within the hour.
    for _ in 0..2 {
        let created = client
            .create_flow_by_files(&by_files(&file_id))
            .await
            .unwrap();
        assert!(created.flow_id().is_some());
    }
    // From its deadline on (an hour after the upload) it is refused.
    emulator.set_clock_offset(3600 + 5).unwrap();
    let err = client
        .create_flow_by_files(&by_files(&file_id))
        .await
        .unwrap_err();
    assert_eq!(refused(err), ErrorCode::ResourceNotFoundResource);
}

#[tokio::test]
async fn create_flow_by_files_takes_the_documented_deadline_and_refuses_a_past_one() {
    let (emulator, client) = setup().await;
    let file_id = uploaded(&client).await;
    let request = by_files(&file_id, "by files").flow_type("lease");
    let created = client.create_flow_by_files(&request).await.unwrap();
    let flow_id = created.flow_id().unwrap().to_owned();
    // Both actions' docs: 365 days after creation when no deadline is given.
    let view = emulator.flow(&flow_id).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let deadline = view.deadline.expect("a default deadline");
    assert!((deadline - now - 365 * 86_400).abs() < 60, "{deadline}");
    // The FlowType given is what DescribeFlowInfo shows.
    let described = client
        .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id]))
        .await
        .unwrap();
    assert_eq!(described.flow_detail_infos()[0].flow_type(), Some("lease"));
    // A deadline already past: InvalidParameter.FlowDeadLine, which its list has.
    let late = by_files(&file_id, "late").deadline(now - 60);
    let err = client.create_flow_by_files(&late).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidParameterFlowDeadLine));
}

#[tokio::test]
async fn a_document_preview_link_opens() {
    let (_emulator, client) = setup().await;
    let created = client
        .create_flow(&CreateFlowRequest::new(
            operator(),
            "previewed",
            vec![person("张三", "13800000000")],
        ))
        .await
        .unwrap();
    let document = CreateDocumentRequest::new(operator(), "template-1")
        .flow_id(created.flow_id())
        .need_preview(true);
    let answer = client.create_document(&document).await.unwrap();
    let url = answer
        .preview_file_url()
        .expect("a preview link")
        .to_owned();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "{url}");
    assert!(page.text().await.unwrap().contains("previewed"));
    let missing = http
        .get(url.replace(answer.document_id(), "yDnoSuchDocument"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn a_seeded_flow_signed_by_automatic_signers_alone_sends_its_finish() {
    use axum::routing::post;
    let receiver = axum::Router::new().route("/", post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let emulator = Emulator::builder()
        .seed_demo(false)
        .callback(ess_emulator::CallbackTarget::new(
            url,
            "0123456789abcdefghijklmnopqrstuv",
        ))
        .start()
        .await
        .unwrap();
    let seeded = emulator
        .seed_flow(
            &json!({
                "Operator": {"UserId": "u-1"},
                "FlowName": "sealed by itself",
                "Approvers": [{"ApproverType": 3, "OrganizationName": "示例科技有限公司"}]
            }),
            true,
        )
        .unwrap();
    assert_eq!(seeded.status, flow::SIGNED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let operates = loop {
        let sent: Vec<String> = emulator
            .callback_deliveries()
            .into_iter()
            .map(|d| d.operate)
            .collect();
        if sent.len() >= 2 || std::time::Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(operates, ["start", "finish"]);
}

#[tokio::test]
async fn create_flow_by_files_in_preview_mode_makes_no_flow_and_a_five_minute_link() {
    let (emulator, client) = setup().await;
    let file_id = uploaded(&client).await;
    let request = by_files(&file_id, "to preview");
    // A real creation answers its FlowId and its signers, as DescribeFlowInfo knows them.
    let created = client.create_flow_by_files(&request).await.unwrap();
    let flow_id = created.flow_id().unwrap().to_owned();
    let described = client
        .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]))
        .await
        .unwrap();
    let sign_id = described.flow_detail_infos()[0].flow_approver_infos()[0]
        .sign_id()
        .unwrap()
        .to_owned();
    assert_eq!(created.approvers()[0].sign_id(), Some(sign_id.as_str()));
    // Preview mode: no flow, no FlowId, a link that works for 300 s (upstream).
    let before = emulator.flow_ids();
    let previewed = client
        .create_flow_by_files(&request.clone().need_preview(true))
        .await
        .unwrap();
    assert_eq!(previewed.flow_id(), None);
    assert_eq!(emulator.flow_ids(), before);
    let url = previewed.preview_url().expect("a preview link").to_owned();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status().as_u16(), 200);
    emulator.set_clock_offset(301).unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status().as_u16(), 404);
}
