//! A TRACE-level log of calls through the emulator (client, runtime, hyper, hyper-util and the
//! emulator itself) carries no personal data and no secret: not the signers' names, mobiles,
//! ID numbers or emails, not the issued signing links, not the SecretKey. Alone in its test
//! binary, because it installs the process-wide subscriber.

use std::sync::Mutex;

use ess_emulator::Emulator;
use ess_generated::{
    ApproverType, CcInfo, CreateFlowRequest, CreateFlowSignUrlRequest, DescribeFlowInfoRequest,
    FlowCreateApprover, UserInfo,
};

/// Everything the subscriber writes, through [`Sink`].
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

const NAME: &str = "欧阳明月";
const MOBILE: &str = "13712345678";
const ID_NUMBER: &str = "11010119900307123X";
const EMAIL: &str = "mingyue@example.com";
const CC_NAME: &str = "司马青云";
const CC_MOBILE: &str = "13698765432";
const CLIENT_IP: &str = "203.0.113.77";

fn signer() -> FlowCreateApprover {
    FlowCreateApprover::new(ApproverType::Person)
        .approver_name(NAME)
        .approver_mobile(MOBILE)
        .approver_id_card_number(ID_NUMBER)
        .approver_email(EMAIL)
}

#[test]
fn trace_logs_of_a_signing_path_carry_no_personal_data() {
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Sink)
            .with_ansi(false)
            .finish(),
    )
    .unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (secret_key, issued, errors) = runtime.block_on(async {
        let emulator = Emulator::start().await.unwrap();
        let key = emulator.credentials()[0].clone();
        let client = ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key);
        // Upstream has not opened ClientIp (a deprecated setter), but a caller may still set
        // it, and it must never reach a log.
        #[allow(deprecated)]
        let operator = UserInfo::new().user_id("operator-1").client_ip(CLIENT_IP);

        let request = CreateFlowRequest::new(operator, "Lease", vec![signer()])
            .cc_infos(vec![CcInfo::new().name(CC_NAME).mobile(CC_MOBILE)]);
        let flow_id = ess_tests::create_and_start_flow(&client, &request).await;
        let links = client
            .create_flow_sign_url(
                &CreateFlowSignUrlRequest::new(flow_id.clone()).flow_approver_infos(vec![signer()]),
            )
            .await
            .unwrap();
        let info = links.flow_approver_url_infos.unwrap().remove(0);
        let issued = [info.sign_url.unwrap(), info.long_url.unwrap()];
        let described = client
            .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.clone()]))
            .await
            .unwrap();
        assert!(described.flow_detail_infos.is_some());

        // Failures: a signer who is not in the flow (a service error), and a mobile number
        // of the wrong length (refused before sending).
        let stranger = FlowCreateApprover::new(ApproverType::Person)
            .approver_name(CC_NAME)
            .approver_mobile(CC_MOBILE);
        let not_found = client
            .create_flow_sign_url(
                &CreateFlowSignUrlRequest::new(flow_id.clone()).flow_approver_infos(vec![stranger]),
            )
            .await
            .unwrap_err();
        let invalid = client
            .create_flow_sign_url(
                &CreateFlowSignUrlRequest::new(flow_id)
                    .flow_approver_infos(vec![signer().approver_mobile(format!("{MOBILE}9"))]),
            )
            .await
            .unwrap_err();
        let errors = format!("{not_found} {not_found:?} {invalid} {invalid:?}");
        emulator.stop().await;
        (key.secret_key.clone(), issued, errors)
    });

    let logs = String::from_utf8(LOGS.lock().unwrap().clone()).unwrap();
    for expected in [
        "CreateFlow",
        "StartFlow",
        "DescribeFlowInfo",
        "attempt",
        "TRACE",
    ] {
        assert!(
            logs.contains(expected),
            "`{expected}` was not traced:\n{logs}"
        );
    }
    let link_tokens: Vec<&str> = issued
        .iter()
        .map(|url| url.rsplit('/').next().unwrap().split('?').next().unwrap())
        .collect();
    let personal = [
        NAME,
        MOBILE,
        ID_NUMBER,
        EMAIL,
        CC_NAME,
        CC_MOBILE,
        CLIENT_IP,
        &secret_key,
    ];
    for value in personal.iter().chain(&link_tokens) {
        assert!(!value.is_empty());
        assert!(!logs.contains(value), "the logs carry `{value}`:\n{logs}");
        assert!(
            !errors.contains(value),
            "an error shows `{value}`: {errors}"
        );
    }
}
