//! Writes are never sent twice: CreateFlow, CreateDocument and StartFlow against a scripted
//! server that answers each attempt in a way after which the write may have executed (an
//! `InternalError`, a 502, a connection closed without an answer, no answer in time). Each
//! is sent once and its error says it may have executed; a read under the same answers is
//! retried. The same holds against the emulator (tests/emulator.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ess_generated::{
    Client, Config, CreateDocumentRequest, CreateFlowRequest, CreateFlowSignUrlRequest,
    Credentials, DescribeFlowInfoRequest, Endpoint, Error, FlowCreateApprover, RetryPolicy,
    StartFlowRequest, UserInfo,
};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// How the server answers every request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    InternalError,
    BadGateway,
    /// The connection is closed without an answer.
    Close,
    /// No answer within the client's attempt timeout.
    Late,
}

/// Serves `answer` to every request on 127.0.0.1; counts the requests that arrived.
async fn scripted(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let arrived = Arc::new(AtomicUsize::new(0));
    let counter = arrived.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let (status, content_type, body) = match answer {
                            Answer::InternalError => (
                                200,
                                "application/json",
                                r#"{"Response":{"Error":{"Code":"InternalError","Message":"m"},"RequestId":"r-1"}}"#,
                            ),
                            Answer::BadGateway => {
                                (502, "text/html", "<html>502 Bad Gateway</html>")
                            }
                            Answer::Close => return Err(Closed),
                            Answer::Late => {
                                tokio::time::sleep(Duration::from_secs(3)).await;
                                (
                                    200,
                                    "application/json",
                                    r#"{"Response":{"RequestId":"r-late"}}"#,
                                )
                            }
                        };
                        hyper::Response::builder()
                            .status(status)
                            .header("content-type", content_type)
                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                            .map_err(|_| Closed)
                    }
                });
                // An error from the service closes the connection without an answer.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, arrived)
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed by the script")
    }
}

impl std::error::Error for Closed {}

fn client(url: &str) -> Client {
    let config = Config::builder(Credentials::new("AKIDtest", "secret-key").unwrap())
        .endpoint(Endpoint::Url(url.to_owned()))
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            deadline: Duration::from_secs(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    Client::from_config(config).unwrap()
}

const ANSWERS: [Answer; 4] = [
    Answer::InternalError,
    Answer::BadGateway,
    Answer::Close,
    Answer::Late,
];

const FLOW_ID: &str = "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm";

fn operator() -> UserInfo {
    UserInfo::new().user_id("operator-1")
}

#[tokio::test]
async fn create_flow_create_document_and_start_flow_are_sent_once() {
    for answer in ANSWERS {
        for action in ["CreateFlow", "CreateDocument", "StartFlow"] {
            let (url, arrived) = scripted(answer).await;
            let client = client(&url);
            let outcome: Result<(), Error> = match action {
                "CreateFlow" => {
                    let signer = FlowCreateApprover::new(ess_generated::ApproverType::Person)
                        .approver_name("张三")
                        .approver_mobile("13800000000");
                    let request = CreateFlowRequest::new(operator(), "Lease", vec![signer]);
                    client.create_flow(&request).await.map(drop)
                }
                "CreateDocument" => {
                    let request =
                        CreateDocumentRequest::new(operator(), "template-1").flow_id(FLOW_ID);
                    client.create_document(&request).await.map(drop)
                }
                _ => {
                    let request = StartFlowRequest::new(operator(), FLOW_ID);
                    client.start_flow(&request).await.map(drop)
                }
            };
            let err = outcome.unwrap_err();
            assert_eq!(
                arrived.load(Ordering::SeqCst),
                1,
                "{action} after {answer:?} was sent again"
            );
            assert!(err.may_have_executed(), "{action} after {answer:?}: {err}");
            assert!(!err.is_retryable(), "{action} after {answer:?}: {err}");
            if matches!(answer, Answer::Late) {
                assert!(matches!(err, Error::AttemptTimeout(_)), "{err}");
            }
        }
    }
}

#[tokio::test]
async fn reads_are_retried_after_the_same_answers() {
    for answer in ANSWERS {
        let (url, arrived) = scripted(answer).await;
        let describe = DescribeFlowInfoRequest::new().flow_ids(vec![FLOW_ID.to_owned()]);
        let err = client(&url)
            .describe_flow_info(&describe)
            .await
            .unwrap_err();
        assert_eq!(arrived.load(Ordering::SeqCst), 4, "after {answer:?}");
        assert!(err.may_have_executed(), "{err}");
        let (url, arrived) = scripted(answer).await;
        let sign_url = CreateFlowSignUrlRequest::new(FLOW_ID);
        client(&url)
            .create_flow_sign_url(&sign_url)
            .await
            .unwrap_err();
        assert_eq!(arrived.load(Ordering::SeqCst), 4, "after {answer:?}");
    }
}
