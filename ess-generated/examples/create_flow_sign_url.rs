//! Creates an H5 signing link for a contract flow and prints it.
//!
//! ```text
//! cargo run -p ess-generated --example create_flow_sign_url
//! ```
//!
//! With no credentials in the environment (and no `ESS_ENDPOINT`), it starts the local
//! emulator in process and runs the whole loop there: it starts a callback receiver (the
//! `callback_server` example) and registers it (ModifyApplicationCallbackInfo), runs the
//! signing path (CreateFlow, CreateDocument, StartFlow, CreateFlowSignUrl), signs on the
//! link's page as a test signer would, prints the FlowStatusChange callbacks the receiver
//! verified and decrypted, then the flow's status from DescribeFlowInfo.
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

#[path = "callback_server.rs"]
#[allow(dead_code)] // Its `main` and what only its tests read.
mod callback_server;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ess_generated::callback::CallbackKeys;
use ess_generated::{
    ApproverType, CallbackInfo, Client, Config, CreateDocumentRequest, CreateFlowRequest,
    CreateFlowSignUrlRequest, Credentials, DescribeFlowInfoRequest, Endpoint, FlowCallbackStatus,
    FlowCreateApprover, ModifyApplicationCallbackInfoRequest, StartFlowRequest, UserInfo,
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
    print_links(&client, &request).await.map(drop)
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
            let receiver = start_receiver(&client, &operator).await?;
            let created = client
                .create_flow(&CreateFlowRequest::new(
                    operator.clone(),
                    "Example contract",
                    vec![signer()],
                ))
                .await?;
            let flow_id = created.flow_id().to_owned();
            println!("CreateFlow       -> FlowId {flow_id}");
            let document = client
                .create_document(
                    &CreateDocumentRequest::new(operator.clone(), "example-template")
                        .flow_id(flow_id.clone()),
                )
                .await?;
            println!("CreateDocument   -> DocumentId {}", document.document_id());
            let started = client
                .start_flow(&StartFlowRequest::new(operator, flow_id.clone()))
                .await?;
            println!("StartFlow        -> Status {}", started.status().as_str());
            let request =
                CreateFlowSignUrlRequest::new(flow_id.clone()).flow_approver_infos(vec![signer()]);
            let long_url = print_links(&client, &request).await?;
            sign_and_follow(&client, &receiver, &flow_id, long_url).await?;
            emulator.stop().await;
            return Ok(());
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

/// Starts the callback receiver on a free port and registers it with the emulator, the way
/// an integration registers its URL with ESS.
async fn start_receiver(client: &Client, operator: &UserInfo) -> Result<Arc<callback_server::App>> {
    // The URL's key and token: 32 characters, and any text.
    let key: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect();
    let token: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect();
    let app = callback_server::App::new(CallbackKeys::new(&key, &token)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(axum::serve(listener, callback_server::router(app.clone())).into_future());
    client
        .modify_application_callback_info(&ModifyApplicationCallbackInfoRequest::new(
            operator.clone(),
            1,
            CallbackInfo::new(url.clone())
                .callback_key(key)
                .callback_token(token),
        ))
        .await?;
    println!("ModifyApplicationCallbackInfo -> callbacks go to {url}");
    Ok(app)
}

/// Signs on the link's page as a test signer would, prints the callbacks as they arrive,
/// then what DescribeFlowInfo says.
async fn sign_and_follow(
    client: &Client,
    receiver: &callback_server::App,
    flow_id: &str,
    long_url: Option<String>,
) -> Result<()> {
    let page = long_url.ok_or("the answer has no link to sign on")?;
    let page = page.split('?').next().unwrap_or_default().to_owned();
    let signed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?
        .post(&page)
        .send()
        .await?;
    println!(
        "signed on the link's page -> HTTP {}",
        signed.status().as_u16()
    );
    // The receiver prints each callback; wait (bounded) for the three of a one-signer flow:
    // start, then sign and finish on completion.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let done = {
            let flows = receiver.flows.lock().unwrap_or_else(|p| p.into_inner());
            flows.status(flow_id) == Some(&FlowCallbackStatus::AllSigned) && flows.received >= 3
        };
        if done {
            break;
        }
        if Instant::now() > deadline {
            return Err("no completion callback within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let described = client
        .describe_flow_info(&DescribeFlowInfoRequest::new().flow_ids(vec![flow_id.to_owned()]))
        .await?;
    let status = described
        .flow_detail_infos()
        .first()
        .and_then(|f| f.flow_status.clone());
    println!("DescribeFlowInfo -> FlowStatus {status:?}");
    Ok(())
}

/// Prints each link; returns the first one's long form (the page to sign on).
async fn print_links(
    client: &Client,
    request: &CreateFlowSignUrlRequest,
) -> Result<Option<String>> {
    let response = client.create_flow_sign_url(request).await?;
    for info in response.flow_approver_url_infos() {
        println!(
            "CreateFlowSignUrl -> {}",
            info.sign_url().unwrap_or("(no link)")
        );
    }
    println!("RequestId {}", response.request_id);
    Ok(response
        .flow_approver_url_infos()
        .first()
        .and_then(|info| info.long_url.clone()))
}
