//! Creates an H5 signing link for a contract flow and prints it.
//!
//! ```text
//! cargo run -p ess-generated --example create_flow_sign_url
//! ```
//!
//! With no credentials in the environment (and no `ESS_ENDPOINT`), it starts the local
//! emulator in process, runs the signing path there (CreateFlow, CreateDocument, StartFlow,
//! CreateFlowSignUrl) and prints the link the emulator issued, which opens a page where a
//! test signer can sign.
//!
//! With `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (or `~/.tencentcloud/credentials`)
//! it calls the service `ESS_ENDPOINT` names (`production`, the default; `test`; or a base URL
//! such as a running emulator's) for an existing flow:
//!
//! ```text
//! cargo run -p ess-generated --example create_flow_sign_url -- --flow-id FLOW_ID \
//!     [--name NAME --mobile MOBILE]
//! ```
//!
//! Without `--name`/`--mobile` against a real service, the link is the initiator's preview.

use std::process::ExitCode;

use ess_generated::{
    ApproverType, Client, Config, CreateDocumentRequest, CreateFlowRequest,
    CreateFlowSignUrlRequest, Credentials, Endpoint, FlowCreateApprover, StartFlowRequest,
    UserInfo,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

struct Args {
    flow_id: Option<String>,
    name: Option<String>,
    mobile: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!("usage: create_flow_sign_url [--flow-id ID] [--name NAME --mobile MOBILE]");
        return ExitCode::FAILURE;
    };
    let outcome = match Config::from_env() {
        Ok(config) => against_service(config, args).await,
        Err(_) if std::env::var_os("ESS_ENDPOINT").is_none() => on_emulator(args).await,
        Err(e) => Err(e.into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Option<Args> {
    let mut parsed = Args {
        flow_id: None,
        name: None,
        mobile: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next()?;
        match arg.as_str() {
            "--flow-id" => parsed.flow_id = Some(value),
            "--name" => parsed.name = Some(value),
            "--mobile" => parsed.mobile = Some(value),
            _ => return None,
        }
    }
    Some(parsed)
}

/// Credentials were found: ask the configured service for links to an existing flow.
async fn against_service(config: Config, args: Args) -> Result<()> {
    let Some(flow_id) = args.flow_id else {
        let endpoint = config.endpoint();
        return Err(format!("give --flow-id: the id of a started flow on {endpoint:?}").into());
    };
    let client = Client::from_config(config)?;
    let mut request = CreateFlowSignUrlRequest::new(flow_id);
    if let (Some(name), Some(mobile)) = (args.name, args.mobile) {
        let signer = FlowCreateApprover::new(ApproverType::Person)
            .approver_name(name)
            .approver_mobile(mobile);
        request = request.flow_approver_infos(vec![signer]);
    }
    print_links(&client, &request).await
}

/// No credentials: run the whole signing path on an emulator started in this process.
async fn on_emulator(args: Args) -> Result<()> {
    let emulator = ess_emulator::Emulator::start()
        .await
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    println!(
        "No credentials found (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY), so this runs on \
         the local ess emulator at {}.",
        emulator.url()
    );
    let key = &emulator.credentials()[0];
    let config = Config::builder(Credentials::new(&key.secret_id, &key.secret_key)?)
        .endpoint(Endpoint::Url(emulator.url().to_owned()))
        .build()?;
    let client = Client::from_config(config)?;
    let (name, mobile) = ess_emulator::DEMO_PERSON;
    let name = args.name.unwrap_or_else(|| name.to_owned());
    let mobile = args.mobile.unwrap_or_else(|| mobile.to_owned());
    let signer = || {
        FlowCreateApprover::new(ApproverType::Person)
            .approver_name(name.clone())
            .approver_mobile(mobile.clone())
    };
    let flow_id = match args.flow_id {
        Some(id) => id,
        None => {
            let operator = UserInfo::new().user_id("emulator-operator");
            let created = client
                .create_flow(&CreateFlowRequest::new(
                    operator.clone(),
                    "Example contract",
                    vec![signer()],
                ))
                .await?;
            let flow_id = created.flow_id().unwrap_or_default().to_owned();
            println!("CreateFlow       -> FlowId {flow_id}");
            let document = client
                .create_document(
                    &CreateDocumentRequest::new(operator.clone(), "example-template")
                        .flow_id(flow_id.clone()),
                )
                .await?;
            println!(
                "CreateDocument   -> DocumentId {}",
                document.document_id().unwrap_or_default()
            );
            let started = client
                .start_flow(&StartFlowRequest::new(operator, flow_id.clone()))
                .await?;
            println!(
                "StartFlow        -> Status {}",
                started.status().unwrap_or_default()
            );
            flow_id
        }
    };
    let request = CreateFlowSignUrlRequest::new(flow_id).flow_approver_infos(vec![signer()]);
    print_links(&client, &request).await?;
    println!(
        "The link opens a page on the emulator, where POST signs; this emulator stops now. \
         `cargo run -p ess-emulator` serves one that stays up."
    );
    emulator.stop().await;
    Ok(())
}

async fn print_links(client: &Client, request: &CreateFlowSignUrlRequest) -> Result<()> {
    let response = client.create_flow_sign_url(request).await?;
    for info in response.flow_approver_url_infos() {
        println!(
            "CreateFlowSignUrl -> {}",
            info.sign_url().unwrap_or("(no link)")
        );
    }
    println!("RequestId {}", response.request_id);
    Ok(())
}
