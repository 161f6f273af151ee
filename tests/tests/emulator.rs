//! End to end: the generated client against the in-process emulator. The scenarios of
//! CreateFlowSignUrl's documentation, the whole flow lifecycle with signing on the issued
//! links, rate limits, every injected fault, server-side validation, and every action of the
//! spec answered with a response the generated types decode.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ess_emulator::{DEMO_FLOW_ID, DEMO_ORGANIZATION, DEMO_PERSON, Emulator, Fault, FaultRule};
use ess_generated::{
    Action, ApproveStatus, ApproverInfo, ApproverType, CallInfo, CancelFlowRequest, Client, Config,
    ConfigBuilder, CreateDocumentRequest, CreateFlowByFilesRequest, CreateFlowRequest,
    CreateFlowSignUrlRequest, Credentials, DescribeFlowInfoRequest, Endpoint, Error, ErrorCode,
    FlowCreateApprover, FlowStatus, HttpTransport, Intention, IntentionQuestion, IntentionType,
    RetryPolicy, SignTypeSelector, SignVerifyType, StartFlowRequest, Transport, UploadFile,
    UploadFilesRequest, UrlType, UserInfo,
};

/// Every test is bounded: a hang fails instead of stalling CI.
const BOUND: Duration = Duration::from_secs(60);

fn config(emulator: &Emulator) -> ConfigBuilder {
    let key = &emulator.credentials()[0];
    Config::builder(Credentials::new(&key.secret_id, &key.secret_key).unwrap())
        .endpoint(Endpoint::Url(emulator.url().to_owned()))
}

fn client(emulator: &Emulator, configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Client {
    Client::from_config(configure(config(emulator)).build().unwrap()).unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        deadline: Duration::from_secs(10),
        ..RetryPolicy::default()
    }
}

fn person() -> FlowCreateApprover {
    let (name, mobile) = DEMO_PERSON;
    FlowCreateApprover::new(ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile)
}

fn employee() -> FlowCreateApprover {
    let (name, mobile, organization) = DEMO_ORGANIZATION;
    FlowCreateApprover::new(ApproverType::Organization)
        .approver_name(name)
        .approver_mobile(mobile)
        .organization_name(organization)
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// The one link a CreateFlowSignUrl answer holds.
async fn one_link(client: &Client, request: &CreateFlowSignUrlRequest) -> (String, String) {
    let response = client.create_flow_sign_url(request).await.unwrap();
    let infos = response.flow_approver_url_infos.unwrap();
    assert_eq!(infos.len(), 1);
    let info = &infos[0];
    (
        info.sign_url.clone().unwrap(),
        info.long_url.clone().unwrap(),
    )
}

async fn page(url: &str) -> (u16, String) {
    let response = browser().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Signs on a link's page the way a test signer would: one POST.
async fn sign(long_url: &str) -> reqwest::Response {
    let url = long_url.split('?').next().unwrap();
    browser().post(url).send().await.unwrap()
}

#[tokio::test]
async fn create_flow_sign_url_scenarios_of_its_documentation() {
    tokio::time::timeout(BOUND, async {
        let emulator = Emulator::start().await.unwrap();
        let client = client(&emulator, |c| c);
        let url = emulator.url();

        // 1. A personal signer: a link per signer, on the emulator, valid 30 minutes.
        let request =
            CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).flow_approver_infos(vec![person()]);
        let response = client.create_flow_sign_url(&request).await.unwrap();
        let info = &response.flow_approver_url_infos.unwrap()[0];
        assert_eq!(info.approver_type, Some(ApproverType::Person));
        assert_eq!(info.approver_name.as_deref(), Some(DEMO_PERSON.0));
        assert_eq!(info.approver_mobile.as_deref(), Some(DEMO_PERSON.1));
        let short = info.sign_url.as_deref().unwrap();
        assert!(short.starts_with(&format!("{url}/s/")), "{short}");
        let long = info.long_url.as_deref().unwrap();
        let (status, text) = page(long).await;
        assert_eq!(status, 200);
        assert!(
            text.contains(DEMO_PERSON.0) && text.contains("(30 min left)"),
            "{text}"
        );
        let redirect = browser().get(short).send().await.unwrap();
        assert_eq!(redirect.status().as_u16(), 302);

        // 2. Sign types re-specified for this link only.
        let signer = person()
            .approver_sign_types(vec![SignVerifyType::Face, SignVerifyType::Password])
            .sign_type_selector(SignTypeSelector::FirstRecommended);
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).flow_approver_infos(vec![signer]);
        one_link(&client, &request).await;
        let sent = emulator.received_for("CreateFlowSignUrl").pop().unwrap();
        assert_eq!(
            sent.body["FlowApproverInfos"][0]["ApproverSignTypes"],
            serde_json::json!([1, 2])
        );

        // 3. An enterprise signer's preview: it shows, it cannot sign.
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID)
            .flow_approver_infos(vec![employee()])
            .url_type(UrlType::Preview);
        let (_, long) = one_link(&client, &request).await;
        assert!(page(&long).await.1.contains("preview link"));
        assert_eq!(sign(&long).await.status().as_u16(), 403);

        // 4. The initiator's preview: no signers given.
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
        let (_, long) = one_link(&client, &request).await;
        assert!(page(&long).await.1.contains("the initiator"));

        // 5. An enterprise signer signs.
        let request =
            CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).flow_approver_infos(vec![employee()]);
        let (_, long) = one_link(&client, &request).await;
        assert!(page(&long).await.1.contains(DEMO_ORGANIZATION.2));
        assert_eq!(sign(&long).await.status().as_u16(), 200);
        let (_, statuses) = emulator.flow_status(DEMO_FLOW_ID).unwrap();
        assert_eq!(
            statuses,
            [
                ess_emulator::approve_status::WAITING,
                ess_emulator::approve_status::SIGNED
            ]
        );

        // 6. Video verification with questions and answers.
        let intention = Intention::new()
            .intention_type(IntentionType::QuestionAnswer)
            .intention_questions(vec![
                IntentionQuestion::new()
                    .question("Do you agree to sign?")
                    .answers(vec!["Yes".to_owned(), "I agree".to_owned()]),
            ]);
        let signer = person()
            .approver_sign_types(vec![SignVerifyType::Face])
            .intention(intention);
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID)
            .flow_approver_infos(vec![signer])
            .video_verify_times_limit(3);
        one_link(&client, &request).await;

        // 7. JumpUrl: after signing, the page sends the signer there.
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID)
            .flow_approver_infos(vec![person()])
            .jump_url("https://www.example.com/signed");
        let (_, long) = one_link(&client, &request).await;
        let signed = sign(&long).await;
        assert_eq!(signed.status().as_u16(), 303);
        assert_eq!(
            signed.headers()["location"],
            "https://www.example.com/signed"
        );
        assert_eq!(
            emulator.flow_status(DEMO_FLOW_ID).unwrap().0,
            ess_emulator::flow_status::SIGNED
        );

        // 8. ExpiredOn: the link lives that long, then says it expired.
        let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID)
            .url_type(UrlType::Preview)
            .expired_on(3600);
        let (_, long) = one_link(&client, &request).await;
        assert!(page(&long).await.1.contains("(60 min left)"));
        emulator.set_clock_offset(3601).unwrap();
        let (status, text) = page(&long).await;
        assert_eq!(status, 410);
        assert!(text.contains("expired"), "{text}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_flows_and_strangers_are_not_found() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator, |c| c);
    let request = CreateFlowSignUrlRequest::new("yDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    let err = client.create_flow_sign_url(&request).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::ResourceNotFoundFlow), "{err}");
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));

    let stranger = FlowCreateApprover::new(ApproverType::Person)
        .approver_name("王五")
        .approver_mobile("13700000000");
    let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).flow_approver_infos(vec![stranger]);
    let err = client.create_flow_sign_url(&request).await.unwrap_err();
    assert_eq!(err.code_str(), Some("ResourceNotFound"), "{err}");
    assert!(err.to_string().contains("FlowApproverInfos[0]"), "{err}");
}

/// Sends a raw body for action `A`, skipping the client's own validation.
async fn send_raw<A: Action>(
    emulator: &Emulator,
    body: serde_json::Value,
) -> Result<Vec<u8>, ess_runtime::Error> {
    let transport =
        HttpTransport::new(config(emulator).retry(RetryPolicy::none()).build().unwrap()).unwrap();
    transport
        .send(&CallInfo::of::<A>(), serde_json::to_vec(&body).unwrap())
        .await
}

#[tokio::test]
async fn the_server_checks_requests_against_the_spec_too() {
    let emulator = Emulator::start().await.unwrap();
    let body = serde_json::json!({
        "FlowId": "short",
        "Bogus": true,
        "UrlType": "1",
        "FlowApproverInfos": [{"ApproverType": 1}]
    });
    let answer = send_raw::<CreateFlowSignUrlRequest>(&emulator, body)
        .await
        .unwrap();
    let err = ess_runtime::decode::<serde_json::Value>(&answer).unwrap_err();
    // The code is the first problem's; the message lists each, with its path.
    assert_eq!(err.code_str(), Some("UnknownParameter"), "{err}");
    for path in [
        "`Bogus`",
        "`FlowId`",
        "`UrlType`",
        "`FlowApproverInfos[0].ApproverName`",
        // A signer may be named by SignId or UserId instead.
        "SignId; UserId; ApproverName and ApproverMobile",
    ] {
        assert!(err.to_string().contains(path), "{path} missing from {err}");
    }
    let cases = [
        (serde_json::json!({}), "MissingParameter"),
        (serde_json::json!({"FlowId": 7}), "InvalidParameter"),
        (
            serde_json::json!({"FlowId": DEMO_FLOW_ID, "ExpiredOn": 60}),
            "InvalidParameterValue",
        ),
    ];
    for (body, code) in cases {
        let answer = send_raw::<CreateFlowSignUrlRequest>(&emulator, body)
            .await
            .unwrap();
        let err = ess_runtime::decode::<serde_json::Value>(&answer).unwrap_err();
        assert_eq!(err.code_str(), Some(code), "{err}");
    }
}

#[tokio::test]
async fn the_whole_flow_lifecycle() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator, |c| c);
    let operator = UserInfo::new().user_id("operator-1");
    let created = client
        .create_flow(&CreateFlowRequest::new(
            operator.clone(),
            "Lease",
            vec![person(), employee()],
        ))
        .await
        .unwrap();
    let flow_id = created.flow_id;
    let describe = || DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]);
    let status = |response: ess_generated::DescribeFlowInfoResponse| {
        let detail = response.flow_detail_infos.unwrap().remove(0);
        let approvers = detail.flow_approver_infos.unwrap_or_default();
        (
            detail.flow_status.unwrap(),
            approvers
                .iter()
                .map(|a| a.approve_status.clone().unwrap())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        status(client.describe_flow_info(&describe()).await.unwrap()),
        (FlowStatus::NotStarted, vec![ApproveStatus::NotStarted; 2])
    );

    let err = client
        .start_flow(&StartFlowRequest::new(operator.clone(), flow_id.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("FailedOperation.FlowHasNoDocument"));
    client
        .create_document(
            &CreateDocumentRequest::new(operator.clone(), "template-1").flow_id(flow_id.clone()),
        )
        .await
        .unwrap();
    let started = client
        .start_flow(&StartFlowRequest::new(operator.clone(), flow_id.clone()))
        .await
        .unwrap();
    assert_eq!(started.status(), &ess_generated::StartFlowStatus::Started);
    // Signers sign in list order (CreateFlow's Unordered is false by default).
    assert_eq!(
        status(client.describe_flow_info(&describe()).await.unwrap()),
        (
            FlowStatus::ToSign,
            vec![ApproveStatus::ToSign, ApproveStatus::NotYetDue]
        )
    );

    let links =
        |signer| CreateFlowSignUrlRequest::new(flow_id.clone()).flow_approver_infos(vec![signer]);
    let (_, first) = one_link(&client, &links(person())).await;
    assert_eq!(sign(&first).await.status().as_u16(), 200);
    assert_eq!(
        status(client.describe_flow_info(&describe()).await.unwrap()),
        (
            FlowStatus::PartlySigned,
            vec![ApproveStatus::Signed, ApproveStatus::ToSign]
        )
    );
    let (_, second) = one_link(&client, &links(employee())).await;
    assert_eq!(sign(&second).await.status().as_u16(), 200);
    assert_eq!(
        status(client.describe_flow_info(&describe()).await.unwrap()),
        (FlowStatus::Signed, vec![ApproveStatus::Signed; 2])
    );
    let err = client
        .cancel_flow(&CancelFlowRequest::new(
            operator.clone(),
            flow_id.clone(),
            "too late",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code_str(), Some("OperationDenied.FlowHasTerminated"));

    // A second flow, cancelled before anyone signs: its links no longer sign.
    let created = client
        .create_flow(&CreateFlowRequest::new(
            operator.clone(),
            "Withdrawn",
            vec![person()],
        ))
        .await
        .unwrap();
    let other = created.flow_id;
    client
        .create_document(
            &CreateDocumentRequest::new(operator.clone(), "template-1").flow_id(other.clone()),
        )
        .await
        .unwrap();
    client
        .start_flow(&StartFlowRequest::new(operator.clone(), other.clone()))
        .await
        .unwrap();
    let request = CreateFlowSignUrlRequest::new(other.clone()).flow_approver_infos(vec![person()]);
    let (_, link) = one_link(&client, &request).await;
    client
        .cancel_flow(&CancelFlowRequest::new(
            operator,
            other.clone(),
            "withdrawn",
        ))
        .await
        .unwrap();
    assert_eq!(sign(&link).await.status().as_u16(), 409);
    assert_eq!(emulator.flow_status(&other), Some((6, vec![6])));
    // Upstream lists no specific code for this on CreateFlowSignUrl: its generic one.
    let err = client.create_flow_sign_url(&request).await.unwrap_err();
    assert_eq!(err.code_str(), Some("FailedOperation"));
    assert!(CreateFlowSignUrlRequest::ERROR_CODES.contains(err.code().unwrap()));
}

/// `n` concurrent CreateFlowSignUrl calls through `client`; the errors that surfaced.
async fn burst(client: &Client, n: usize) -> Vec<Error> {
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..n {
        let client = client.clone();
        calls.spawn(async move {
            let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
            client.create_flow_sign_url(&request).await.err()
        });
    }
    calls.join_all().await.into_iter().flatten().collect()
}

#[tokio::test]
async fn one_client_paces_a_burst_within_the_documented_limit() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator, |c| c);
    let started = Instant::now();
    let errors = tokio::time::timeout(BOUND, burst(&client, 200))
        .await
        .unwrap();
    assert!(
        errors.is_empty(),
        "{} calls failed, first: {}",
        errors.len(),
        errors[0]
    );
    // 20 per second: the last of 200 cannot start before 9 s.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    // The client paces when calls start; the emulator counts when they arrive, allowing
    // 50 ms of delivery jitter. On a loaded machine a call can arrive later than that after
    // its start, next to calls that started a second after it, and be refused (then retried:
    // no error surfaced above). A tenth is the most jitter may account for; unpaced, far
    // more are refused (the next test).
    let refused = refused_sign_urls(&emulator);
    assert!(
        refused <= PACED_REFUSALS,
        "the client's pacing kept within the emulator's window but for jitter: {refused} of 200 refused"
    );
}

/// The most refusals a paced burst of 200 may see from delivery jitter.
const PACED_REFUSALS: usize = 20;

/// CreateFlowSignUrl calls the emulator refused for the rate limit.
fn refused_sign_urls(emulator: &Emulator) -> usize {
    emulator
        .received_for("CreateFlowSignUrl")
        .iter()
        .filter(|r| r.code.as_deref() == Some("RequestLimitExceeded"))
        .count()
}

#[tokio::test]
async fn an_unpaced_burst_is_refused_beyond_what_jitter_explains() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator, |c| {
        c.rate_limit(false).retry(RetryPolicy::none())
    });
    let errors = tokio::time::timeout(BOUND, burst(&client, 200))
        .await
        .unwrap();
    let refused = refused_sign_urls(&emulator);
    assert!(
        refused > PACED_REFUSALS,
        "without pacing only {refused} of 200 were refused"
    );
    assert_eq!(errors.len(), refused);
}

#[tokio::test]
async fn two_clients_exceed_the_limit_together_and_the_emulator_refuses() {
    let emulator = Emulator::start().await.unwrap();
    // Separately built: each paces itself, neither knows of the other.
    let a = client(&emulator, |c| c.retry(RetryPolicy::none()));
    let b = client(&emulator, |c| c.retry(RetryPolicy::none()));
    let (errors_a, errors_b) =
        tokio::time::timeout(BOUND, async { tokio::join!(burst(&a, 60), burst(&b, 60)) })
            .await
            .unwrap();
    let surfaced: Vec<Error> = errors_a.into_iter().chain(errors_b).collect();
    let refused = emulator
        .received_for("CreateFlowSignUrl")
        .iter()
        .filter(|r| r.code.as_deref() == Some("RequestLimitExceeded"))
        .count();
    assert!(refused >= 20, "two clients at 20/s each: {refused} refused");
    assert_eq!(surfaced.len(), refused);
    assert!(
        surfaced
            .iter()
            .all(|e| e.code() == Some(&ErrorCode::RequestLimitExceeded))
    );
}

/// One call made under a fault rule.
struct Run {
    outcome: Result<(), Error>,
    elapsed: Duration,
    emulator: Emulator,
    action: &'static str,
}

impl Run {
    /// The calls the emulator received.
    fn calls(&self) -> Vec<ess_emulator::Received> {
        self.emulator.received_for(self.action)
    }
}

/// The calls the fault tests make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    /// A read the spec marks retry-safe.
    SignUrl,
    /// The writes of the signing path: none may be sent twice (their ClientToken, where they
    /// have one, is unused upstream).
    CreateFlow,
    CreateDocument,
    StartFlow,
    CreateFlowByFiles,
}

const WRITES: [Call; 4] = [
    Call::CreateFlow,
    Call::CreateDocument,
    Call::StartFlow,
    Call::CreateFlowByFiles,
];

impl Call {
    fn action(self) -> &'static str {
        match self {
            Call::SignUrl => "CreateFlowSignUrl",
            Call::CreateFlow => "CreateFlow",
            Call::CreateDocument => "CreateDocument",
            Call::StartFlow => "StartFlow",
            Call::CreateFlowByFiles => "CreateFlowByFiles",
        }
    }
}

/// Makes one call under `rule`. CreateDocument and StartFlow get a flow in the state they
/// need, made before the rule is in force.
async fn under_fault(
    rule: FaultRule,
    configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    call: Call,
) -> Run {
    let emulator = Emulator::start().await.unwrap();
    let operator = UserInfo::new().user_id("operator-1");
    let flow_id = match call {
        Call::CreateDocument | Call::StartFlow => {
            let setup = client(&emulator, |c| c);
            let request = CreateFlowRequest::new(operator.clone(), "f", vec![person()]);
            let id = setup.create_flow(&request).await.unwrap().flow_id;
            if call == Call::StartFlow {
                let document =
                    CreateDocumentRequest::new(operator.clone(), "template-1").flow_id(id.clone());
                setup.create_document(&document).await.unwrap();
            }
            id
        }
        _ => DEMO_FLOW_ID.to_owned(),
    };
    // CreateFlowByFiles takes a file UploadFiles gave (and the rule is not in force yet).
    let file_id = if call == Call::CreateFlowByFiles {
        let setup = client(&emulator, |c| c);
        let upload = UploadFilesRequest::new("DOCUMENT")
            .caller(ess_generated::Caller::new().operator_id("operator-1"))
            .file_infos(vec![UploadFile::from_bytes("f.pdf", b"%PDF-1.4")]);
        setup.upload_files(&upload).await.unwrap().file_ids()[0].clone()
    } else {
        String::new()
    };
    emulator.inject(rule);
    let client = client(&emulator, |c| configure(c.retry(fast_retries())));
    let started = Instant::now();
    let outcome = tokio::time::timeout(BOUND, async {
        match call {
            Call::SignUrl => {
                let request =
                    CreateFlowSignUrlRequest::new(flow_id).flow_approver_infos(vec![person()]);
                client.create_flow_sign_url(&request).await.map(drop)
            }
            Call::CreateFlow => {
                let request = CreateFlowRequest::new(operator, "f", vec![person()]);
                client.create_flow(&request).await.map(drop)
            }
            Call::CreateDocument => {
                let request = CreateDocumentRequest::new(operator, "template-1").flow_id(flow_id);
                client.create_document(&request).await.map(drop)
            }
            Call::StartFlow => {
                let request = StartFlowRequest::new(operator, flow_id);
                client.start_flow(&request).await.map(drop)
            }
            Call::CreateFlowByFiles => {
                let request = CreateFlowByFilesRequest::new(operator, "f", vec![file_id])
                    .approvers(vec![
                        ApproverInfo::new(ApproverType::Person)
                            .approver_name(DEMO_PERSON.0)
                            .approver_mobile(DEMO_PERSON.1),
                    ]);
                client.create_flow_by_files(&request).await.map(drop)
            }
        }
    })
    .await
    .expect("a fault never hangs the client");
    Run {
        outcome,
        elapsed: started.elapsed(),
        emulator,
        action: call.action(),
    }
}

/// The faults after which a write may have executed: an InternalError, a 502, a dropped
/// connection (each after the handler ran) and an attempt timeout (the answer comes too
/// late), each with the client configuration it needs.
type Configure = fn(ConfigBuilder) -> ConfigBuilder;

fn ambiguous_faults() -> Vec<(&'static str, FaultRule, Configure)> {
    let same = |c: ConfigBuilder| c;
    let short = |c: ConfigBuilder| c.timeout(Duration::from_millis(150));
    let internal = Fault::Error {
        code: "InternalError".into(),
        message: "boom".into(),
    };
    vec![
        (
            "InternalError",
            FaultRule::new(internal).after_execution(),
            same,
        ),
        (
            "a 502",
            FaultRule::new(Fault::Status(502)).after_execution(),
            same,
        ),
        (
            "a lost connection",
            FaultRule::new(Fault::Drop).after_execution(),
            same,
        ),
        (
            "an attempt timeout",
            FaultRule::new(Fault::Delay(Duration::from_millis(600))),
            short,
        ),
    ]
}

#[tokio::test]
async fn a_write_that_may_have_executed_is_sent_once_and_says_so() {
    for call in WRITES {
        for (what, rule, configure) in ambiguous_faults() {
            let action = call.action();
            let run = under_fault(rule.action(action), configure, call).await;
            let err = run.outcome.as_ref().unwrap_err();
            assert!(err.may_have_executed(), "{action} after {what}: {err}");
            assert!(!err.is_retryable(), "{action} after {what}: {err}");
            // A late answer still runs to the end on the server: wait for it.
            tokio::time::sleep(Duration::from_millis(700)).await;
            let calls = run.calls();
            assert_eq!(calls.len(), 1, "{action} after {what} was sent again");
            assert!(calls[0].executed(), "{action} ran before {what}");
        }
    }
}

#[tokio::test]
async fn a_read_is_retried_after_what_may_have_executed() {
    for (what, rule, configure) in ambiguous_faults() {
        let run = under_fault(rule.times(1), configure, Call::SignUrl).await;
        assert!(run.outcome.is_ok(), "after {what}: {:?}", run.outcome);
        // The late answer is recorded when its call ends on the server.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(run.calls().len(), 2, "after {what}");
    }
}

#[tokio::test]
async fn faults_end_in_a_typed_error_or_a_safe_retry() {
    let sign_url = || {
        FaultRule::new(Fault::Status(502))
            .action("CreateFlowSignUrl")
            .times(1)
    };

    // A 502 on a retry-safe read: retried, and it succeeds.
    let run = under_fault(sign_url(), |c| c, Call::SignUrl).await;
    let (outcome, calls) = (&run.outcome, run.calls());
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(calls.len(), 2);

    // A 502 after CreateFlowByFiles ran: never sent again (a second contract).
    let rule = FaultRule::new(Fault::Status(502))
        .action("CreateFlowByFiles")
        .after_execution();
    let run = under_fault(rule, |c| c, Call::CreateFlowByFiles).await;
    let (outcome, calls) = (&run.outcome, run.calls());
    let Err(Error::Transport(t)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(t.status, Some(502));
    assert_eq!(calls.len(), 1);
    assert!(calls[0].executed(), "the flow was created before the 502");

    // A ClientToken is no guard: the emulator, like ESS, runs a repeat again. Two calls with
    // the same token make two flows.
    let emulator = Emulator::start().await.unwrap();
    let same_token = client(&emulator, |c| c);
    #[allow(deprecated)]
    let request =
        CreateFlowRequest::new(UserInfo::new().user_id("operator-1"), "f", vec![person()])
            .client_token("caller-token-1");
    let first = same_token.create_flow(&request).await.unwrap().flow_id;
    let second = same_token.create_flow(&request).await.unwrap().flow_id;
    assert_ne!(first, second);
    assert_eq!(
        emulator.flow_ids().len(),
        3,
        "the demo flow and two new flows"
    );

    // InternalError: retried for the read, not for the write.
    let error = || Fault::Error {
        code: "InternalError".into(),
        message: "boom".into(),
    };
    let run = under_fault(FaultRule::new(error()).times(1), |c| c, Call::SignUrl).await;
    let (outcome, calls) = (&run.outcome, run.calls());
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(calls.len(), 2);
    let run = under_fault(
        FaultRule::new(error()).after_execution(),
        |c| c,
        Call::CreateFlowByFiles,
    )
    .await;
    let (outcome, calls) = (&run.outcome, run.calls());
    assert_eq!(
        outcome.as_ref().unwrap_err().code_str(),
        Some("InternalError")
    );
    assert_eq!(calls.len(), 1);

    // A dropped connection: retried for the read; a transport error for the write, sent once.
    let drop_once = FaultRule::new(Fault::Drop).times(1);
    let run = under_fault(drop_once, |c| c, Call::SignUrl).await;
    let (outcome, calls) = (&run.outcome, run.calls());
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(calls.len(), 2);
    let run = under_fault(FaultRule::new(Fault::Drop), |c| c, Call::CreateFlowByFiles).await;
    let (outcome, calls) = (&run.outcome, run.calls());
    assert!(matches!(outcome, Err(Error::Transport(_))), "{outcome:?}");
    assert_eq!(calls.len(), 1);

    // A delay: slower but fine within the timeout; a typed timeout beyond it.
    let delay = || FaultRule::new(Fault::Delay(Duration::from_millis(300)));
    let run = under_fault(delay(), |c| c, Call::SignUrl).await;
    let (outcome, elapsed) = (&run.outcome, run.elapsed);
    assert!(
        matches!(run.calls()[0].fault, Some(Fault::Delay(_))),
        "the delay is recorded"
    );
    assert!(
        outcome.is_ok() && elapsed >= Duration::from_millis(300),
        "{outcome:?} {elapsed:?}"
    );
    let run = under_fault(
        delay(),
        |c| {
            c.timeout(Duration::from_millis(100))
                .retry(RetryPolicy::none())
        },
        Call::CreateFlowByFiles,
    )
    .await;
    let (outcome, elapsed) = (&run.outcome, run.elapsed);
    assert!(
        matches!(outcome, Err(Error::AttemptTimeout(_))),
        "{outcome:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    // The emulator finishes what arrived, as a server would: the write happened although
    // the caller saw a timeout. It was not sent twice.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let calls = run.calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].executed());

    // A truncated body and an HTML page: transport errors, not retried, never a panic. Only
    // the HTML is excerpted: a truncated JSON answer may hold personal data.
    for (fault, excerpted) in [(Fault::Truncated, false), (Fault::Html, true)] {
        let run = under_fault(FaultRule::new(fault.clone()), |c| c, Call::SignUrl).await;
        let (outcome, calls) = (&run.outcome, run.calls());
        let Err(Error::Transport(t)) = outcome else {
            panic!("{fault:?}: {outcome:?}")
        };
        assert_eq!(t.status, Some(200), "{fault:?}");
        assert_eq!(t.body_excerpt.is_some(), excerpted, "{fault:?}: {t}");
        assert!(!t.to_string().contains(DEMO_PERSON.1), "{fault:?}: {t}");
        assert_eq!(calls.len(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn clock_skew_is_recovered_from_the_servers_date() {
    let emulator = Emulator::builder().clock_skew(-1000).start().await.unwrap();
    let client = client(&emulator, |c| c);
    let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
    client.create_flow_sign_url(&request).await.unwrap();
    let codes: Vec<Option<String>> = emulator.received().into_iter().map(|r| r.code).collect();
    assert_eq!(
        codes,
        [Some("AuthFailure.SignatureExpire".to_owned()), None]
    );
}

#[tokio::test]
async fn wrong_keys_are_refused_like_the_service_does() {
    let emulator = Emulator::start().await.unwrap();
    let key = &emulator.credentials()[0];
    let request = CreateFlowSignUrlRequest::new(DEMO_FLOW_ID).url_type(UrlType::Preview);
    for (id, secret, code) in [
        (
            key.secret_id.as_str(),
            "not-the-key",
            "AuthFailure.SignatureFailure",
        ),
        (
            "AKIDnobody",
            key.secret_key.as_str(),
            "AuthFailure.SecretIdNotFound",
        ),
    ] {
        let config = Config::builder(Credentials::new(id, secret).unwrap())
            .endpoint(Endpoint::Url(emulator.url().to_owned()))
            .build()
            .unwrap();
        let err = Client::from_config(config)
            .unwrap()
            .create_flow_sign_url(&request)
            .await
            .unwrap_err();
        assert_eq!(err.code_str(), Some(code), "{err}");
    }
}

#[tokio::test]
async fn every_action_is_routed_and_answers_in_its_response_type() {
    let emulator = Emulator::builder()
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    let transport = Arc::new(HttpTransport::new(config(&emulator).build().unwrap()).unwrap());
    let schema = emulator.schema();
    let stateful = [
        "CancelFlow",
        "CreateDocument",
        "CreateFlow",
        "CreateFlowByFiles",
        "CreateFlowSignUrl",
        "DescribeFlowInfo",
        // Evidence reports need a signed flow the emulator holds, and a ReportId it issued.
        "CreateFlowEvidenceReport",
        "DescribeFlowEvidenceReport",
        // Its example registers a URL without the key the emulator encrypts with.
        "ModifyApplicationCallbackInfo",
        "StartFlow",
    ];
    let mut checked = 0;
    for name in schema.action_names() {
        let request = schema.example_request(name).unwrap();
        let info = CallInfo {
            action: name,
            service: "ess",
            version: "2020-11-11",
            endpoint: ess_runtime::EndpointHosts {
                group: "default",
                production: "ess.tencentcloudapi.com",
                test: "ess.test.ess.tencent.cn",
            },
            rate_limit: None,
            retry_safe: false,
            options: Default::default(),
        };
        let answer = transport
            .send(&info, serde_json::to_vec(&request).unwrap())
            .await
            .unwrap();
        let mut envelope: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        let response = envelope["Response"].take();
        assert!(
            response["RequestId"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{name}"
        );
        if let Some(code) = response
            .get("Error")
            .map(|e| e["Code"].as_str().unwrap().to_owned())
        {
            // Example ids name no flow the emulator holds; only stateful actions may say so.
            assert!(stateful.contains(&name), "{name} answered {code}");
            assert!(schema.is_error_code(&code), "{name}: {code}");
            continue;
        }
        let decoded = ess_generated::__roundtrip(name, true, response.clone())
            .unwrap_or_else(|| panic!("{name} is not generated"));
        assert!(decoded.is_ok(), "{name}: {decoded:?}");
        checked += 1;
    }
    // Every action but the stateful ones whose example names data the emulator lacks.
    let least = schema.action_names().len() - stateful.len();
    assert!(checked >= least, "only {checked} actions answered");
    assert_eq!(schema.action_names().len(), 156);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_keys_rotate_under_load_without_a_failed_call() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::SystemTime;

    use ess_emulator::Credential;
    use ess_generated::RefreshingCredentials;

    // Six temporary keys, each refused by the emulator one second after the previous.
    let start = SystemTime::now();
    let keys: Vec<Credential> = (0..6u64)
        .map(|i| {
            let mut key = Credential::new(format!("AKIDrotation{i}"), format!("secret-{i}"));
            key.token = Some(format!("token-{i}"));
            key.expires_at = Some(start + Duration::from_millis(1000 * (i + 1)));
            key
        })
        .collect();
    let mut builder = Emulator::builder().rate_limits(false);
    for key in &keys {
        builder = builder.credential(key.clone());
    }
    let emulator = builder.start().await.unwrap();

    // The source hands out the first key with more than half a second left, as an STS would.
    let fetches = Arc::new(AtomicUsize::new(0));
    let (counter, issued) = (fetches.clone(), keys.clone());
    let source = RefreshingCredentials::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let now = SystemTime::now();
        let key = issued
            .iter()
            .find(|k| k.expires_at.unwrap() > now + Duration::from_millis(500))
            .cloned();
        async move {
            let key = key.expect("the test runs within the keys' lifetimes");
            Ok(Credentials::new(key.secret_id, key.secret_key)?
                .with_token(key.token.unwrap())?
                .with_expiry(key.expires_at.unwrap()))
        }
    })
    .refresh_margin(Duration::from_millis(400));
    let config = Config::builder(source)
        .endpoint(Endpoint::Url(emulator.url().to_owned()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let client = Client::from_config(config).unwrap();

    let until = Instant::now() + Duration::from_millis(3000);
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let client = client.clone();
        callers.spawn(async move {
            let request = DescribeFlowInfoRequest::new().flow_ids(vec![DEMO_FLOW_ID.to_owned()]);
            let mut calls = 0;
            while Instant::now() < until {
                client.describe_flow_info(&request).await?;
                calls += 1;
            }
            Ok::<_, Error>(calls)
        });
    }
    let mut calls = 0;
    for result in callers.join_all().await {
        calls += result.expect("no call fails across a rotation");
    }
    let used: std::collections::BTreeSet<String> = emulator
        .received()
        .into_iter()
        .filter_map(|r| r.secret_id)
        .collect();
    assert!(calls > 100, "{calls} calls");
    assert!(used.len() >= 3, "keys used: {used:?}");
    assert!(fetches.load(Ordering::SeqCst) >= 3);
    assert!(emulator.received().iter().all(|r| r.code.is_none()));
}
