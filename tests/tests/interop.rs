//! Interop with the official Python SDK: requests our client sends to a local server are
//! verified by the SDK's own TC3 signing code (tencentcloud-sdk-python-common, pinned), for
//! ASCII and non-ASCII bodies. The test sets up its Python environment itself
//! (`ess_tests::official_python`) the first time, so `cargo test` needs only Python 3 with
//! venv and pip; it fails, never skips, when that cannot be done.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use ess_generated::{
    ApproverType, Client, Config, CreateFlowSignUrlRequest, Credentials, Endpoint,
    FlowCreateApprover, HttpTransport,
};

const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

/// The venv's python, with the official SDK (created the first time).
fn python() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir");
    ess_tests::official_python(target).join("python")
}

type Captured = Arc<Mutex<Vec<serde_json::Value>>>;

async fn capture(State(seen): State<Captured>, headers: HeaderMap, body: Bytes) -> &'static str {
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                serde_json::Value::String(v.to_str().unwrap_or_default().to_owned()),
            )
        })
        .collect();
    let body = String::from_utf8(body.to_vec()).expect("JSON bodies are UTF-8");
    seen.lock()
        .unwrap()
        .push(serde_json::json!({"headers": headers, "body": body}));
    r#"{"Response":{"RequestId":"r-interop"}}"#
}

#[tokio::test]
async fn the_official_python_sdk_verifies_our_signatures() {
    let python = python();
    let seen = Captured::default();
    let app = axum::Router::new()
        .fallback(capture)
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let credentials = Credentials::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", SECRET_KEY).unwrap();
    let config = Config::builder(credentials)
        .endpoint(Endpoint::Url(url))
        .build()
        .unwrap();
    let client = Client::new(HttpTransport::new(config).unwrap());
    let ascii = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm");
    let chinese = CreateFlowSignUrlRequest::new("yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm")
        .flow_approver_infos(vec![
            FlowCreateApprover::new(ApproverType::Organization)
                .approver_name("典子谦")
                .approver_mobile("13200000000")
                .organization_name("示例科技有限公司"),
        ]);
    for request in [&ascii, &chinese] {
        let response = client.create_flow_sign_url(request).await.unwrap();
        assert_eq!(response.request_id, "r-interop");
    }

    let dump = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-requests.json");
    std::fs::write(&dump, serde_json::to_vec(&*seen.lock().unwrap()).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/verify_tc3.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&dump)
        .arg(SECRET_KEY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python SDK rejects our signatures:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("ASCII body") && stdout.contains("non-ASCII body"),
        "{stdout}"
    );
    assert!(stdout.contains("2 verified, 0 mismatched"), "{stdout}");
}
