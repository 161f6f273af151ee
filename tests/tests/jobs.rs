//! Paginators and waiters against the in-process emulator: seals page by page index,
//! roles by items skipped, each stopping on the last page (by the total, or by the empty page
//! after it); waiters for an evidence report (done, failed, timed out) and for a flow's
//! status (signed, cancelled); uploads (content elided from `Debug`, the caller validated).

use std::time::Duration;

use ess_emulator::{DEMO_PERSON, Emulator, REPORT_SECONDS};
use ess_generated::{
    ApproverType, CancelFlowRequest, Client, CreateFlowEvidenceReportRequest, CreateFlowRequest,
    CreateIntegrationRoleRequest, CreateSealRequest, DescribeFlowEvidenceReportRequest,
    DescribeFlowInfoRequest, DescribeIntegrationRolesRequest, DescribeOrganizationSealsRequest,
    Error, EvidenceReportStatus, FlowCreateApprover, FlowStatus, SealType, UploadFile,
    UploadFilesRequest, UserInfo, WaitOptions, Waited,
};
use futures_util::{StreamExt, TryStreamExt};

/// Every test is bounded: a hang fails instead of stalling CI.
const BOUND: Duration = Duration::from_secs(60);

fn connect(emulator: &Emulator) -> Client {
    let key = &emulator.credentials()[0];
    ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key)
}

fn operator() -> UserInfo {
    UserInfo::new().user_id("operator-1")
}

/// The `Offset` each call of `action` carried, in order.
fn offsets(emulator: &Emulator, action: &str) -> Vec<u64> {
    emulator
        .received_for(action)
        .iter()
        .map(|r| r.body["Offset"].as_u64().unwrap_or(0))
        .collect()
}

async fn seals(client: &Client, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        // Contract seals: an organization has only one official seal (CreateSeal's doc).
        let request =
            CreateSealRequest::new(operator(), format!("seal {i}")).seal_type(SealType::Contract);
        ids.push(
            client
                .create_seal(&request)
                .await
                .unwrap()
                .seal_id()
                .to_owned(),
        );
    }
    ids
}

/// The ids of every seal the pages of `request` hold.
async fn seal_ids(client: &Client, request: DescribeOrganizationSealsRequest) -> Vec<String> {
    client
        .describe_organization_seals_pages(request)
        .items()
        .map_ok(|seal| seal.seal_id().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn seals_page_by_page_index_and_stop_at_the_total() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        let created = seals(&client, 7).await;

        let request = DescribeOrganizationSealsRequest::new(operator()).limit(3);
        let pages: Vec<usize> = client
            .describe_organization_seals_pages(request.clone())
            .pages()
            .map_ok(|page| page.seals().len())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages, [3, 3, 1]);
        // Page indices 0, 1, 2; the third page reached TotalCount, so no fourth call.
        assert_eq!(offsets(&emulator, "DescribeOrganizationSeals"), [0, 1, 2]);

        let items = seal_ids(&client, request).await;
        assert_eq!(items, created);

        // One official seal per organization; a second is refused.
        let official = CreateSealRequest::new(operator(), "公章");
        client.create_seal(&official).await.unwrap();
        let again = client.create_seal(&official).await.unwrap_err();
        assert_eq!(again.code_str(), Some("OperationDenied.AlreadyHas"));
        // TotalCount counts every seal of the organization, as its doc says, also when
        // SealTypes narrows the list; the pages end at the empty one.
        emulator.clear_received();
        let only_official = DescribeOrganizationSealsRequest::new(operator())
            .limit(3)
            .seal_types(vec![SealType::Official]);
        let pages: Vec<_> = client
            .describe_organization_seals_pages(only_official)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].seals().len(), 1);
        assert_eq!(pages[0].total_count(), Some(8));
        assert_eq!(offsets(&emulator, "DescribeOrganizationSeals"), [0, 1]);
        emulator.stop().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_later_start_page_ends_at_the_empty_page() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        let created = seals(&client, 5).await;
        // From page 1 of 2: what preceded the first page is not known from the answer, so
        // the total cannot end it; the empty page after the last does (and is not yielded).
        let request = DescribeOrganizationSealsRequest::new(operator())
            .limit(2)
            .offset(1);
        let items = seal_ids(&client, request).await;
        assert_eq!(items, created[2..]);
        assert_eq!(offsets(&emulator, "DescribeOrganizationSeals"), [1, 2, 3]);
        emulator.stop().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn roles_page_by_items_skipped() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        let mut created = Vec::new();
        for i in 0..5 {
            let request = CreateIntegrationRoleRequest::new(format!("role {i}"), operator());
            let answer = client.create_integration_role(&request).await.unwrap();
            created.push(answer.role_id().unwrap().to_owned());
        }
        let request = DescribeIntegrationRolesRequest::new(operator(), 2);
        let mut pages = client.describe_integration_roles_pages(request.clone());
        let mut seen = Vec::new();
        while let Some(page) = pages.next_page().await {
            let page = page.unwrap();
            assert_eq!(page.total_count(), Some(5));
            seen.extend(
                page.integrate_roles()
                    .iter()
                    .map(|r| r.role_id().unwrap().to_owned()),
            );
        }
        assert_eq!(seen, created);
        assert_eq!(offsets(&emulator, "DescribeIntegrationRoles"), [0, 2, 4]);

        // At most two pages: the third is refused, and nothing more is sent.
        emulator.clear_received();
        let mut items = Box::pin(
            client
                .describe_integration_roles_pages(request.clone())
                .max_pages(2)
                .items(),
        );
        let mut got = 0;
        let error = loop {
            match items.next().await.unwrap() {
                Ok(_) => got += 1,
                Err(error) => break error,
            }
        };
        assert_eq!(got, 4);
        assert!(matches!(error, Error::TooManyPages { limit: 2 }), "{error}");
        assert!(!error.may_have_executed());
        assert!(items.next().await.is_none());
        assert_eq!(emulator.received_for("DescribeIntegrationRoles").len(), 2);

        // The filters the emulator models: every role here is custom, none a group role.
        let filter =
            |key: &str, value: &str| ess_generated::Filter::new(key, vec![value.to_owned()]);
        for (key, value, expected) in [
            ("RoleType", "2", 5),
            ("RoleType", "1", 0),
            ("IsGroupRole", "0", 5),
            ("IsGroupRole", "1", 0),
        ] {
            let filtered = request.clone().filters(vec![filter(key, value)]);
            let page = client.describe_integration_roles(&filtered).await.unwrap();
            assert_eq!(page.total_count(), Some(expected), "{key} {value}");
        }

        // No roles at all: the one empty page is the answer.
        let empty = Emulator::start().await.unwrap();
        let pages: Vec<_> = connect(&empty)
            .describe_integration_roles_pages(request)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].total_count(), Some(0));
        empty.stop().await;
        emulator.stop().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_page_the_spec_refuses_ends_the_pages_with_the_violation() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        // DescribeIntegrationRoles documents at most 200 per page: refused before sending.
        let request = DescribeIntegrationRolesRequest::new(operator(), 201);
        let mut pages = client.describe_integration_roles_pages(request);
        let error = pages.next_page().await.unwrap().unwrap_err();
        assert!(matches!(error, Error::Validation(_)), "{error}");
        assert!(pages.next_page().await.is_none());
        assert!(emulator.received_for("DescribeIntegrationRoles").is_empty());
        emulator.stop().await;
    })
    .await
    .unwrap();
}

fn person() -> FlowCreateApprover {
    let (name, mobile) = DEMO_PERSON;
    FlowCreateApprover::new(ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile)
}

async fn started_flow(client: &Client) -> String {
    let request = CreateFlowRequest::new(operator(), "jobs", vec![person()]);
    ess_tests::create_and_start_flow(client, &request).await
}

fn quick() -> WaitOptions {
    WaitOptions::new()
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(100))
        .timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn evidence_reports_are_waited_for_until_done_failed_or_timed_out() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        let flow_id = started_flow(&client).await;

        // Only a flow every signer has signed gets a report.
        let create = CreateFlowEvidenceReportRequest::new(operator(), flow_id.as_str());
        let refused = client
            .create_flow_evidence_report(&create)
            .await
            .unwrap_err();
        assert_eq!(refused.code_str(), Some("OperationDenied.FlowStatusForbid"));
        ess_tests::sign_on_link(&client, &flow_id, person()).await;

        // Still running when the waiter's timeout passes.
        let report = client.create_flow_evidence_report(&create).await.unwrap();
        let report_id = report.report_id().unwrap().to_owned();
        let describe = DescribeFlowEvidenceReportRequest::new(operator(), report_id.as_str());
        let short = quick().timeout(Duration::from_millis(300));
        let error = client
            .wait_for_flow_evidence_report(&describe, short)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::WaitTimeout { .. }), "{error}");
        let polls = emulator.received_for("DescribeFlowEvidenceReport").len();
        assert!(polls >= 2, "{polls} polls");

        // Done once the emulator's clock passes the report's time; a waiter without a
        // timeout of its own (`Duration::MAX`) waits for it too, and does not overflow.
        emulator.set_clock_offset(REPORT_SECONDS + 1).unwrap();
        let done = client
            .wait_for_flow_evidence_report(&describe, quick().timeout(Duration::MAX))
            .await
            .unwrap();
        let Waited::Succeeded(answer) = done else {
            panic!("expected success, got {done:?}")
        };
        assert_eq!(answer.status(), Some(&EvidenceReportStatus::Succeeded));

        // A report a test fails ends the wait as failed, with the answer.
        let failing = client.create_flow_evidence_report(&create).await.unwrap();
        let failing_id = failing.report_id().unwrap().to_owned();
        assert!(emulator.fail_report(&failing_id));
        let describe = DescribeFlowEvidenceReportRequest::new(operator(), failing_id.as_str());
        let failed = client
            .wait_for_flow_evidence_report(&describe, quick())
            .await
            .unwrap();
        assert!(!failed.is_success());
        assert_eq!(
            failed.into_inner().status(),
            Some(&EvidenceReportStatus::Failed)
        );
        emulator.stop().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_flow_is_waited_for_until_signed_or_cancelled() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);

        // Signed while the waiter polls.
        let flow_id = started_flow(&client).await;
        let describe = DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]);
        let (waited, ()) = tokio::join!(client.wait_for_flow_status(&describe, quick()), async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            ess_tests::sign_on_link(&client, &flow_id, person()).await;
        });
        let Waited::Succeeded(answer) = waited.unwrap() else {
            panic!("expected the flow signed")
        };
        assert_eq!(
            answer.flow_detail_infos()[0].flow_status(),
            Some(&FlowStatus::Signed)
        );
        assert!(emulator.received_for("DescribeFlowInfo").len() >= 2);

        // Cancelled: the wait ends as failed.
        let cancelled = started_flow(&client).await;
        let cancel = CancelFlowRequest::new(operator(), cancelled.as_str(), "changed our minds");
        client.cancel_flow(&cancel).await.unwrap();
        let describe = DescribeFlowInfoRequest::new().flow_ids(vec![cancelled]);
        let waited = client
            .wait_for_flow_status(&describe, quick())
            .await
            .unwrap();
        let Waited::Failed(answer) = waited else {
            panic!("expected the flow cancelled")
        };
        assert_eq!(
            answer.flow_detail_infos()[0].flow_status(),
            Some(&FlowStatus::Cancelled)
        );
        emulator.stop().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn uploads_elide_their_content_and_need_their_caller() {
    tokio::time::timeout(BOUND, async {
        let contract = b"%PDF-1.4 the whole contract, clause by clause";
        let file = UploadFile::from_bytes("contract.pdf", contract);
        let shown = format!("{file:?}");
        assert!(shown.contains("<60 bytes>"), "{shown}");
        assert!(!shown.contains(&file.file_body), "{shown}");
        let path = std::env::temp_dir().join(format!("ess-upload-{}.pdf", std::process::id()));
        std::fs::write(&path, contract).unwrap();
        let read = UploadFile::from_path(&path).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read.file_body, file.file_body);
        assert_eq!(
            read.file_name.as_deref(),
            path.file_name().unwrap().to_str()
        );

        let emulator = Emulator::start().await.unwrap();
        let client = connect(&emulator);
        // Caller and its OperatorId are required (Caller's doc): refused before sending.
        let bare = UploadFilesRequest::new("DOCUMENT").file_infos(vec![file.clone()]);
        let Err(Error::Validation(violations)) = client.upload_files(&bare).await else {
            panic!("an upload without Caller must be refused")
        };
        assert!(violations.to_string().contains("Caller"), "{violations}");
        let anonymous = bare.clone().caller(ess_generated::Caller::new());
        let Err(Error::Validation(violations)) = client.upload_files(&anonymous).await else {
            panic!("an upload without Caller.OperatorId must be refused")
        };
        assert!(
            violations.to_string().contains("Caller.OperatorId"),
            "{violations}"
        );
        assert!(emulator.received_for("UploadFiles").is_empty());

        let upload = bare
            .caller(ess_generated::Caller::new().operator_id("operator-1"))
            .file_infos(vec![file.clone(), read]);
        let uploaded = client.upload_files(&upload).await.unwrap();
        assert_eq!(uploaded.total_count(), 2);
        assert_eq!(uploaded.file_ids().len(), 2);
        assert_ne!(uploaded.file_ids()[0], uploaded.file_ids()[1]);
        emulator.stop().await;
    })
    .await
    .unwrap();
}
