//! Drift: answers whose values have other JSON types than documented, as Tencent's services
//! are known to send, decode as documented for several actions, and each repair is logged
//! with its action and path, never its value. Alone in its test binary, because it installs
//! the process-wide subscriber.

use std::sync::Mutex;

use ess_emulator::{DEMO_FLOW_ID, DEMO_PERSON, Emulator, Fault, FaultRule};
use ess_generated::{
    ApproverType, Client, Config, CreateFlowSignUrlRequest, CreateSealRequest, Credentials,
    DescribeFlowInfoRequest, DescribeIntegrationEmployeesRequest, DescribeOrganizationSealsRequest,
    Endpoint, FlowCreateApprover, FlowStatus, UserInfo,
};

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Sink;

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn drifted_answers_decode_as_documented_and_each_repair_is_logged_without_its_value() {
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(|| Sink)
            .with_ansi(false)
            .finish(),
    )
    .unwrap();
    let emulator = Emulator::start().await.unwrap();
    let key = &emulator.credentials()[0];
    let client = Client::from_config(
        Config::builder(Credentials::new(&key.secret_id, &key.secret_key).unwrap())
            .endpoint(Endpoint::Url(emulator.url().to_owned()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let operator = || UserInfo::new().user_id("operator-1");
    let describe = DescribeFlowInfoRequest::new()
        .operator(operator())
        .flow_ids(vec![DEMO_FLOW_ID.to_owned()]);
    // The answer as documented, to compare with.
    let plain = client.describe_flow_info(&describe).await.unwrap();
    let created_on = plain.flow_detail_infos()[0].created_on.unwrap();

    emulator.inject(FaultRule::new(Fault::Drift));
    let drifted = client.describe_flow_info(&describe).await.unwrap();
    let detail = &drifted.flow_detail_infos()[0];
    assert_eq!(detail.flow_status, Some(FlowStatus::ToSign));
    assert_eq!(detail.created_on, Some(created_on));
    // The rest as documented too; the empty list came as null.
    let mut expected = plain.flow_detail_infos()[0].clone();
    expected.cc_infos = None;
    assert_eq!(detail, &expected);

    let (name, mobile) = DEMO_PERSON;
    let links = client
        .create_flow_sign_url(
            &CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).flow_approver_infos(vec![
                FlowCreateApprover::new(ApproverType::Person)
                    .approver_name(name)
                    .approver_mobile(mobile),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        links.flow_approver_url_infos()[0].approver_type,
        Some(ApproverType::Person)
    );
    // Answers from the spec's example values, with counts and flags.
    client
        .describe_integration_employees(
            &DescribeIntegrationEmployeesRequest::new(operator()).limit(20),
        )
        .await
        .unwrap();
    // Seals are the emulator's own: one to list.
    client
        .create_seal(&CreateSealRequest::new(operator(), "seal"))
        .await
        .unwrap();
    client
        .describe_organization_seals(&DescribeOrganizationSealsRequest::new(operator()).limit(20))
        .await
        .unwrap();
    emulator.stop().await;

    let logs = String::from_utf8(LOGS.lock().unwrap().clone()).unwrap();
    let repairs: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("decoded as documented"))
        .collect();
    for (action, path) in [
        ("DescribeFlowInfo", "Response.FlowDetailInfos[0].FlowStatus"),
        ("DescribeFlowInfo", "Response.FlowDetailInfos[0].CreatedOn"),
        (
            "CreateFlowSignUrl",
            "Response.FlowApproverUrlInfos[0].ApproverType",
        ),
        ("DescribeIntegrationEmployees", "Response.TotalCount"),
        ("DescribeOrganizationSeals", "Response.TotalCount"),
        ("DescribeOrganizationSeals", "Response.Seals[0].IsAllTime"),
    ] {
        assert!(
            repairs
                .iter()
                .any(|l| l.contains(&format!("action=\"{action}\""))
                    && l.contains(&format!("path={path} "))),
            "no repair of {action} at {path} in:\n{logs}"
        );
    }
    assert!(
        repairs
            .iter()
            .all(|l| l.contains("expected=") && l.contains("found="))
    );
    // Never a value: not the timestamp, not the signer.
    for value in [created_on.to_string().as_str(), mobile, name] {
        assert!(!logs.contains(value), "`{value}` is in the logs:\n{logs}");
    }
}
