//! The admin API under `/_emulator/`, over HTTP as a test in any language drives it: faults,
//! received calls, flows (seed, sign, reject, expire), the clock, templates, answer
//! overrides and reset; and that it is served only where it should be.

use ess_emulator::Emulator;
use ess_generated::{CreateFlowSignUrlRequest, DescribeFileUrlsRequest, ErrorCode, UserInfo};
use serde_json::{Value, json};

struct Admin {
    base: String,
    http: reqwest::Client,
}

impl Admin {
    fn of(emulator: &Emulator) -> Admin {
        Admin {
            base: format!("{}/_emulator", emulator.url()),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

fn flow_request() -> Value {
    json!({
        "Operator": {"UserId": "u-1"},
        "FlowName": "seeded",
        "Approvers": [
            {"ApproverType": 1, "ApproverName": "张三", "ApproverMobile": "13800000000"},
            {"ApproverType": 1, "ApproverName": "李四", "ApproverMobile": "13900000000"}
        ]
    })
}

#[tokio::test]
async fn faults_and_received_calls_over_http() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let key = &emulator.credentials()[0];
    let client = ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key);

    let (status, about) = admin.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(about["api_version"], "2020-11-11");
    assert_eq!(about["emulator"], env!("CARGO_PKG_VERSION"));

    let (status, added) = admin
        .post(
            "/faults",
            json!({"rule": "CreateFlowSignUrl=error:ResourceNotFound.Flow*1"}),
        )
        .await;
    assert_eq!(
        (status, &added["rule"]),
        (
            201,
            &json!("CreateFlowSignUrl=error:ResourceNotFound.Flow*1")
        )
    );
    let (_, listed) = admin.get("/faults").await;
    assert_eq!(listed["faults"].as_array().unwrap().len(), 1);
    let (status, bad) = admin.post("/faults", json!({"rule": "explode"})).await;
    assert_eq!(status, 400, "{bad}");

    let request = CreateFlowSignUrlRequest::new(ess_emulator::DEMO_FLOW_ID)
        .url_type(ess_generated::UrlType::Preview);
    let err = client.create_flow_sign_url(&request).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::ResourceNotFoundFlow));
    client.create_flow_sign_url(&request).await.unwrap();

    let (_, calls) = admin.get("/calls?action=CreateFlowSignUrl").await;
    let calls = calls["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["code"], "fault:error:ResourceNotFound.Flow");
    assert_eq!(calls[1]["code"], Value::Null);
    assert_eq!(calls[1]["secret_id"], key.secret_id.as_str());
    assert_eq!(calls[1]["body"]["FlowId"], ess_emulator::DEMO_FLOW_ID);
    assert_eq!(calls[1]["headers"]["x-tc-action"], "CreateFlowSignUrl");
    assert!(calls[1]["headers"].get("authorization").is_none());
    assert!(
        calls[1]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );
    assert!(
        calls[1]["received_at_ms"].as_i64().unwrap()
            >= calls[0]["received_at_ms"].as_i64().unwrap()
    );

    assert_eq!(admin.delete("/faults").await.0, 200);
    assert_eq!(admin.delete("/calls").await.0, 200);
    assert!(emulator.received().is_empty());
    assert!(emulator.faults().is_empty());
}

#[tokio::test]
async fn flows_are_seeded_signed_rejected_and_expired_over_http() {
    let emulator = Emulator::builder().seed_demo(false).start().await.unwrap();
    let admin = Admin::of(&emulator);
    let (status, flow) = admin
        .post(
            "/flows",
            json!({"request": flow_request(), "started": true}),
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    let id = flow["flow_id"].as_str().unwrap().to_owned();
    assert_eq!(flow["status"], 1);
    assert_eq!(flow["signers"][0]["status"], 2);
    assert_eq!(flow["signers"][1]["status"], 1);

    // Out of turn, then in turn (by position, then by RecipientId).
    let (status, _) = admin
        .post(&format!("/flows/{id}/sign"), json!({"signer": 1}))
        .await;
    assert_eq!(status, 409);
    let (status, flow) = admin
        .post(&format!("/flows/{id}/sign"), json!({"signer": 0}))
        .await;
    assert_eq!((status, &flow["status"]), (200, &json!(2)));
    let recipient = flow["signers"][1]["recipient_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, flow) = admin
        .post(
            &format!("/flows/{id}/reject"),
            json!({"signer": recipient, "reason": "no"}),
        )
        .await;
    assert_eq!((status, &flow["status"]), (200, &json!(3)));
    assert_eq!(flow["signers"][1]["message"], "no");
    let (status, _) = admin.post(&format!("/flows/{id}/expire"), json!({})).await;
    assert_eq!(status, 409, "a closed flow does not expire");

    let (_, other) = admin
        .post(
            "/flows",
            json!({"request": flow_request(), "started": true}),
        )
        .await;
    let other = other["flow_id"].as_str().unwrap().to_owned();
    let (status, flow) = admin
        .post(&format!("/flows/{other}/expire"), json!({}))
        .await;
    assert_eq!((status, &flow["status"]), (200, &json!(5)));
    assert_eq!(flow["signers"][0]["status"], 5);

    let (status, _) = admin.get("/flows/nope").await;
    assert_eq!(status, 404);
    let (_, all) = admin.get("/flows").await;
    assert_eq!(all["flows"].as_array().unwrap().len(), 2);
    // Held to CreateFlow's spec: every problem named.
    let (status, refused) = admin
        .post("/flows", json!({"request": {"FlowName": "x"}}))
        .await;
    assert_eq!(status, 400, "{refused}");
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("`Operator` is required") && error.contains("`Approvers`"),
        "{error}"
    );
}

#[tokio::test]
async fn the_clock_moves_and_reset_returns_to_the_start() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let (_, before) = admin.get("/clock").await;
    let (status, after) = admin.post("/clock", json!({"advance_seconds": 3600})).await;
    assert_eq!(status, 200);
    assert_eq!(after["offset_seconds"], 3600);
    assert!(after["now"].as_i64().unwrap() >= before["now"].as_i64().unwrap() + 3600);
    let (status, refused) = admin
        .post("/clock", json!({"offset_seconds": 99_999_999_999_i64}))
        .await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().contains("out of range"));
    assert_eq!(emulator.clock_offset(), 3600);

    admin.post("/faults", json!({"rule": "drop"})).await;
    admin
        .post(
            "/flows",
            json!({"request": flow_request(), "started": false}),
        )
        .await;
    admin
        .post(
            "/templates",
            json!({"TemplateId": "t-1", "TemplateName": "x"}),
        )
        .await;
    admin
        .post(
            "/overrides",
            json!({"action": "DescribeFileUrls", "answers": [{}]}),
        )
        .await;
    let (status, _) = admin.post("/reset", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.clock_offset(), 0);
    assert!(emulator.faults().is_empty());
    assert!(emulator.overrides().is_empty());
    let ids: Vec<_> = emulator.flows().into_iter().map(|f| f.flow_id).collect();
    assert_eq!(ids, [ess_emulator::DEMO_FLOW_ID]);
}

#[tokio::test]
async fn overrides_script_answers_for_matching_calls() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let key = &emulator.credentials()[0];
    let client = ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key);
    let operator = || UserInfo::new().user_id("operator-1");
    let files =
        |flow: &str| DescribeFileUrlsRequest::new(operator(), "FLOW", vec![flow.to_owned()]);
    let url = "http://127.0.0.1:1/signed.pdf";
    let (status, added) = admin
        .post(
            "/overrides",
            json!({
                "action": "DescribeFileUrls",
                "when": {"BusinessIds": ["flow-a"]},
                "answers": [
                    {"FileUrls": [{"Url": url, "Option": ""}], "TotalCount": 1},
                    {"Error": {"Code": "ResourceNotFound.Resource", "Message": "gone"}}
                ]
            }),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let first = client.describe_file_urls(&files("flow-a")).await.unwrap();
    assert_eq!(first.file_urls()[0].url(), url);
    let second = client
        .describe_file_urls(&files("flow-a"))
        .await
        .unwrap_err();
    assert_eq!(second.code(), Some(&ErrorCode::ResourceNotFoundResource));
    // Used up, and never for other flows: the emulator's own answer.
    for flow in ["flow-a", "flow-b"] {
        let own = client.describe_file_urls(&files(flow)).await.unwrap();
        assert_ne!(own.file_urls().first().map(|f| f.url()), Some(url));
    }
    // Only codes the action may answer.
    let (status, refused) = admin
        .post(
            "/overrides",
            json!({"action": "DescribeFileUrls", "answers": [{"Error": {"Code": "ResourceNotFound.Flow"}}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("ResourceNotFound.Flow")
    );
    let (status, _) = admin
        .post(
            "/overrides",
            json!({"action": "NoSuchAction", "answers": [{}]}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_admin_api_can_be_turned_off() {
    // (Off by default on a non-loopback address: a unit test of the server's rule, since
    // tests listen on loopback only.)
    let off = Emulator::builder().admin(false).start().await.unwrap();
    let (status, _) = Admin::of(&off).get("/").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn recorded_calls_show_no_personal_data_key_or_token() {
    use ess_generated::{
        ApproverType, CallbackInfo, CreateFlowRequest, FlowCreateApprover,
        ModifyApplicationCallbackInfoRequest,
    };
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let key = &emulator.credentials()[0];
    let client = ess_tests::client(emulator.url(), &key.secret_id, &key.secret_key);
    const NAME: &str = "欧阳明月";
    const MOBILE: &str = "13712345678";
    const CALLBACK_KEY: &str = "0123456789abcdefghijklmnopqrstuv";
    const CALLBACK_TOKEN: &str = "callback-token-shh";
    let operator = UserInfo::new().user_id("u-1");
    let signer = FlowCreateApprover::new(ApproverType::Person)
        .approver_name(NAME)
        .approver_mobile(MOBILE);
    let _ = client
        .create_flow(&CreateFlowRequest::new(
            operator.clone(),
            "recorded",
            vec![signer],
        ))
        .await;
    let info = CallbackInfo::new("http://127.0.0.1:9/callbacks")
        .callback_key(CALLBACK_KEY)
        .callback_token(CALLBACK_TOKEN);
    let _ = client
        .modify_application_callback_info(&ModifyApplicationCallbackInfoRequest::new(
            operator, 1, info,
        ))
        .await;
    let (_, calls) = admin.get("/calls").await;
    let shown = calls.to_string();
    for secret in [NAME, MOBILE, CALLBACK_KEY, CALLBACK_TOKEN] {
        assert!(
            !shown.contains(secret),
            "the admin API shows {secret}: {shown}"
        );
    }
    let in_process = format!(
        "{:?}",
        emulator
            .received()
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    for secret in [NAME, MOBILE, CALLBACK_KEY, CALLBACK_TOKEN] {
        assert!(!in_process.contains(secret), "received() shows {secret}");
    }
    // What is not personal stays, so a test can still check what was sent.
    let created = &emulator.received_for("CreateFlow")[0].body;
    assert_eq!(created["FlowName"], "recorded");
    assert_eq!(created["Approvers"][0]["ApproverName"], "<redacted>");
    assert_eq!(created["Approvers"][0]["ApproverType"], 1);
    let registered = &emulator.received_for("ModifyApplicationCallbackInfo")[0].body;
    assert_eq!(
        registered["CallbackInfo"]["CallbackUrl"],
        "http://127.0.0.1:9/callbacks"
    );
    assert_eq!(registered["CallbackInfo"]["CallbackKey"], "<redacted>");
}

#[tokio::test]
async fn a_web_page_cannot_reach_the_admin_api() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let reset = format!("{}/reset", admin.base);
    // A form, or a text/plain fetch: what a page can send without asking first.
    for content_type in ["application/x-www-form-urlencoded", "text/plain"] {
        let refused = admin
            .http
            .post(&reset)
            .header("content-type", content_type)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 415, "{content_type}");
    }
    // A cross-site Origin, even with JSON.
    let refused = admin
        .http
        .post(&reset)
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    // DNS rebinding: a page's name for 127.0.0.1 arrives as its Host.
    let refused = admin
        .http
        .get(format!("{}/calls", admin.base))
        .header("host", "attacker.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let answer: Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    // The description at `/_emulator/` too.
    let about = admin
        .http
        .get(format!("{}/", admin.base))
        .header("host", "attacker.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(about.status().as_u16(), 403);
    assert!(answer["error"].as_str().is_some(), "{answer}");
    // The emulator's own origin and a loopback name are fine.
    let own = admin
        .http
        .post(&reset)
        .header("content-type", "Application/JSON")
        .header("origin", emulator.url())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    let port = emulator.url().rsplit(':').next().unwrap().to_owned();
    let by_name = admin
        .http
        .get(format!("{}/calls", admin.base))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status().as_u16(), 200);
    // Unknown routes and methods answer JSON too.
    let (status, missing) = admin.get("/nothing-here").await;
    assert_eq!(status, 404);
    assert!(missing["error"].is_string(), "{missing}");
    let (status, wrong) = admin.delete("/reset").await;
    assert_eq!(status, 405);
    assert!(wrong["error"].is_string(), "{wrong}");
}

#[tokio::test]
async fn seeded_templates_are_listed() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    assert_eq!(admin.get("/templates").await.1["templates"], json!([]));
    let (status, _) = admin
        .post(
            "/templates",
            json!({"TemplateId": "tpl-1", "TemplateName": "Lease"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, listed) = admin.get("/templates").await;
    assert_eq!(listed["templates"][0]["TemplateId"], "tpl-1");
    assert_eq!(emulator.templates().len(), 1);
}

#[tokio::test]
async fn an_admin_body_that_does_not_arrive_is_answered_within_the_idle_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emulator = Emulator::builder()
        .idle_timeout(std::time::Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let authority = emulator.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let head = format!(
        "POST /_emulator/faults HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "still open after 10 s");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// The names of `Emulator`'s public methods, read from its source.
fn emulator_methods() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/server.rs"))
        .expect("server.rs");
    let start = source.find("\nimpl Emulator {").expect("impl Emulator");
    let end = start + source[start..].find("\n}\n").expect("its end");
    source[start..end]
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("pub fn ")
                .or_else(|| line.strip_prefix("pub async fn "))?;
            Some(rest.split(['(', '<']).next()?.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn every_method_of_the_emulator_has_its_admin_route_or_a_reason() {
    let methods = emulator_methods();
    assert!(methods.len() > 30, "{methods:?}");
    let table: Vec<&str> = ess_emulator::ADMIN_OPERATIONS
        .iter()
        .map(|(m, _)| *m)
        .collect();
    for method in &methods {
        assert!(
            table.contains(&method.as_str()),
            "Emulator::{method} has no entry in ADMIN_OPERATIONS: give it an admin route, or say why it has none"
        );
    }
    for listed in &table {
        assert!(
            methods.iter().any(|m| m == listed),
            "{listed} is no method of Emulator"
        );
    }
    // Every route the table names is served (a 404 for a missing flow is the route's
    // answer; the router's own 404 and 405 say the route is missing).
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    for (method, route) in ess_emulator::ADMIN_OPERATIONS {
        if route.starts_with("in process: ") {
            continue;
        }
        let (verb, path) = route.split_once(' ').unwrap();
        let path = path
            .strip_prefix("/_emulator")
            .unwrap()
            .replace("{id}", "yDnoSuchIdAtAll000000000000000000");
        let verb = reqwest::Method::from_bytes(verb.as_bytes()).unwrap();
        let (status, answer) = admin.send(verb.clone(), &path, Some(json!({}))).await;
        assert_ne!(status, 405, "{method}: {verb} {path}: {answer}");
        assert!(
            !(status == 404 && answer["error"] == "no such admin route"),
            "{method}: {verb} {path} is not served"
        );
    }
}

#[tokio::test]
async fn callbacks_and_reports_over_http() {
    let emulator = Emulator::builder().seed_demo(false).start().await.unwrap();
    let admin = Admin::of(&emulator);
    let (status, added) = admin
        .post(
            "/callbacks",
            json!({"url": "http://127.0.0.1:9/cb", "key": "0123456789abcdefghijklmnopqrstuv", "token": "t"}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(emulator.callback_urls(), ["http://127.0.0.1:9/cb"]);
    let (status, _) = admin
        .post("/callbacks", json!({"url": "http://x/", "key": "short"}))
        .await;
    assert_eq!(status, 400);
    // The in-process door refuses it the same way.
    assert!(
        emulator
            .add_callback(ess_emulator::CallbackTarget::new("http://x/", "short"))
            .is_err()
    );
    let (status, _) = admin
        .post("/callbacks/faults", json!({"fault": "delay:5"}))
        .await;
    assert_eq!(status, 201);
    let (status, _) = admin
        .post("/callbacks/faults", json!({"fault": "explode"}))
        .await;
    assert_eq!(status, 400);
    let (_, listed) = admin.get("/callbacks").await;
    assert_eq!(listed["urls"], json!(["http://127.0.0.1:9/cb"]));
    assert_eq!(listed["deliveries"], json!([]));
    let (status, removed) = admin
        .send(
            reqwest::Method::DELETE,
            "/callbacks",
            Some(json!({"url": "http://127.0.0.1:9/cb"})),
        )
        .await;
    assert_eq!((status, &removed["urls"]), (200, &json!([])));
    let (status, _) = admin.post("/reports/yDnoSuchReport/fail", json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn templates_are_bounded_by_bytes() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let big = "x".repeat(ess_emulator::MAX_TEMPLATE_BYTES);
    let (status, refused) = admin
        .post(
            "/templates",
            json!({"TemplateId": "tpl-big", "TemplateName": big}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(emulator.templates().is_empty());
}

#[tokio::test]
async fn a_frozen_business_clock_moves_only_when_a_test_moves_it() {
    let emulator = Emulator::start().await.unwrap();
    let admin = Admin::of(&emulator);
    let (status, frozen) = admin.post("/clock", json!({"frozen": true})).await;
    assert_eq!((status, &frozen["frozen"]), (200, &json!(true)));
    let at = frozen["now"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(admin.get("/clock").await.1["now"], at, "it stood still");
    let (_, moved) = admin.post("/clock", json!({"advance_seconds": 90})).await;
    assert_eq!(moved["now"], at + 90, "moved exactly as asked");
    // A reset lets it run again.
    admin.post("/reset", json!({})).await;
    assert!(!emulator.clock_frozen());
    emulator.freeze_clock(true);
    assert!(emulator.clock_frozen());
}
