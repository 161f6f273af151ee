//! Uploads a PDF, starts a flow on it and creates the signer's link: UploadFiles ->
//! CreateFlowByFiles -> CreateFlowSignUrl, then waits until the flow is signed.
//!
//! ```text
//! cargo run -p ess-generated --example upload_and_sign [-- FILE.pdf]
//! ```
//!
//! It runs on the local emulator, started in process (no credentials needed), and signs on
//! the link's page as a test signer would. Without FILE it uploads a one-page PDF of its own.
//! The upload gets a deadline of its own: a 60 MB contract needs more than the client's 30 s.

use std::time::Duration;

use ess_emulator::{DEMO_PERSON, Emulator};
use ess_generated::{
    ApproverInfo, ApproverType, CallOptions, Client, Config, CreateFlowByFilesRequest,
    CreateFlowSignUrlRequest, Credentials, DescribeFlowInfoRequest, Endpoint, FlowCreateApprover,
    UploadFile, UploadFilesRequest, UserInfo, WaitOptions, Waited,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// A minimal one-page PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

#[tokio::main]
async fn main() -> Result<()> {
    let file = match std::env::args_os().nth(1) {
        Some(path) => UploadFile::from_path(path).await?,
        None => UploadFile::from_bytes("contract.pdf", PDF),
    };
    // FileBody prints as its length, never as the contract.
    println!("uploading {file:?}");

    let emulator = Emulator::start().await?;
    let key = &emulator.credentials()[0];
    let config = Config::builder(Credentials::new(&key.secret_id, &key.secret_key)?)
        .endpoint(Endpoint::Url(emulator.url().to_owned()))
        .build()?;
    let client = Client::from_config(config)?;
    let operator = UserInfo::new().user_id("operator-1");

    let upload = UploadFilesRequest::new("DOCUMENT")
        .caller(ess_generated::Caller::new().operator_id("operator-1"))
        .file_infos(vec![file]);
    let uploaded = client
        .with_options(CallOptions::new().deadline(Duration::from_secs(300)))
        .upload_files(&upload)
        .await?;
    let file_ids = uploaded.file_ids().to_vec();
    println!(
        "UploadFiles       -> {} file(s), FileIds {file_ids:?}",
        uploaded.total_count()
    );

    let (name, mobile) = DEMO_PERSON;
    let signer = ApproverInfo::new(ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile);
    let create =
        CreateFlowByFilesRequest::new(operator, "Upload example", file_ids).approvers(vec![signer]);
    let flow_id = client
        .create_flow_by_files(&create)
        .await?
        .flow_id()
        .unwrap_or_default()
        .to_owned();
    println!("CreateFlowByFiles -> FlowId {flow_id}");

    let person = FlowCreateApprover::new(ApproverType::Person)
        .approver_name(name)
        .approver_mobile(mobile);
    let links = CreateFlowSignUrlRequest::new(flow_id.as_str()).flow_approver_infos(vec![person]);
    let answer = client.create_flow_sign_url(&links).await?;
    let link = &answer.flow_approver_url_infos()[0];
    println!(
        "CreateFlowSignUrl -> {}",
        link.sign_url().unwrap_or_default()
    );

    // A test signer signs on the link's page while the client waits for the flow.
    let page = link
        .long_url()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let describe = DescribeFlowInfoRequest::new().flow_ids(vec![flow_id]);
    let options = WaitOptions::new()
        .initial_delay(Duration::from_millis(100))
        .timeout(Duration::from_secs(30));
    let (waited, signed) = tokio::join!(client.wait_for_flow_status(&describe, options), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(page)
            .send()
            .await
    });
    println!(
        "signed on the link's page -> HTTP {}",
        signed?.status().as_u16()
    );
    match waited? {
        Waited::Succeeded(answer) => println!(
            "wait_for_flow_status -> {:?}",
            answer.flow_detail_infos()[0].flow_status()
        ),
        Waited::Failed(answer) => {
            return Err(
                format!("the flow ended unsigned: {:?}", answer.flow_detail_infos()).into(),
            );
        }
    }
    emulator.stop().await;
    Ok(())
}
