//! Creates H5 signing links for a contract flow and prints them.
//!
//! ```text
//! TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... \
//! ESS_ENDPOINT=test \
//! cargo run -p ess-generated --example create_flow_sign_url -- --flow-id FLOW_ID \
//!     [--name NAME --mobile MOBILE]
//! ```
//!
//! `ESS_ENDPOINT` is `production` (the default), `test`, or a base URL such as a local
//! emulator's `http://127.0.0.1:PORT`. Without `--name`/`--mobile` the link is the initiator's
//! preview link.

use std::process::ExitCode;

use ess_generated::{ApproverType, Client, CreateFlowSignUrlRequest, FlowCreateApprover};

/// A placeholder flow id, for trying the example against a stand-in service.
const DEMO_FLOW_ID: &str = "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm";

#[tokio::main]
async fn main() -> ExitCode {
    let mut flow_id = DEMO_FLOW_ID.to_owned();
    let (mut name, mut mobile) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--flow-id", Some(v)) => flow_id = v,
            ("--name", Some(v)) => name = Some(v),
            ("--mobile", Some(v)) => mobile = Some(v),
            _ => {
                eprintln!(
                    "usage: create_flow_sign_url [--flow-id ID] [--name NAME --mobile MOBILE]"
                );
                return ExitCode::FAILURE;
            }
        }
    }

    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut request = CreateFlowSignUrlRequest::new(flow_id);
    if let (Some(name), Some(mobile)) = (name, mobile) {
        let signer = FlowCreateApprover::new(ApproverType::Person)
            .approver_name(name)
            .approver_mobile(mobile);
        request = request.flow_approver_infos(vec![signer]);
    }
    match client.create_flow_sign_url(&request).await {
        Ok(response) => {
            for info in response.flow_approver_url_infos.unwrap_or_default() {
                println!("{}", info.sign_url.as_deref().unwrap_or("(no link)"));
            }
            println!(
                "RequestId {}",
                response.request_id.as_deref().unwrap_or("-")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
