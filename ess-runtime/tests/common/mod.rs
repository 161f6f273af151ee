//! Helpers of the transport tests: a scripted local server, a transport for it, and test
//! actions with and without retry safety and a rate limit.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use ess_runtime::{Action, Validate, Violation};
use ess_runtime::{Config, Credentials, Endpoint, HttpTransport, RetryPolicy};
use serde::{Deserialize, Serialize};

pub const SECRET_KEY: &str = "sk-0123456789-very-secret";
pub const TOKEN: &str = "session-token-shh";
pub const MOBILE: &str = "13912345678";

#[derive(Serialize)]
pub struct Ping {
    #[serde(rename = "FlowId")]
    pub flow_id: String,
    #[serde(rename = "ApproverMobile")]
    pub mobile: String,
}

#[derive(Deserialize, Debug)]
pub struct Pong {
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// Declares a test action type wrapping [`Ping`].
#[macro_export]
macro_rules! action {
    ($name:ident, $retry_safe:expr, $limit:expr) => {
        action!($name, $retry_safe, $limit, Pong);
    };
    ($name:ident, $retry_safe:expr, $limit:expr, $response:ty) => {
        #[derive(Serialize)]
        pub struct $name(pub Ping);
        impl Validate for $name {
            fn validate_into(&self, _path: &ess_runtime::Path<'_>, _out: &mut Vec<Violation>) {}
        }
        impl Action for $name {
            const NAME: &'static str = "CreateFlowSignUrl";
            const SERVICE: &'static str = "ess";
            const VERSION: &'static str = "2020-11-11";
            const ENDPOINT: ess_runtime::EndpointHosts = ess_runtime::EndpointHosts {
                group: "default",
                production: "ess.tencentcloudapi.com",
                test: "ess.test.ess.tencent.cn",
            };
            const RATE_LIMIT: Option<u32> = $limit;
            const RETRY_SAFE: bool = $retry_safe;
            type Response = $response;
            type Code = String;
        }
    };
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
pub struct Listed {
    #[serde(rename = "RequestId")]
    pub request_id: String,
    #[serde(rename = "Items")]
    pub items: Vec<Item>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
pub struct Item {
    #[serde(rename = "N")]
    pub n: u32,
}

action!(Safe, true, None);
action!(Unsafe, false, None);
action!(Limited, true, Some(20));
action!(Listing, true, None, Listed);

pub fn ping() -> Ping {
    Ping {
        flow_id: "yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm".into(),
        mobile: MOBILE.into(),
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub type Reply = Box<dyn Fn(&Seen) -> Response + Send + Sync>;

#[derive(Default)]
pub struct Server {
    pub script: Mutex<VecDeque<Reply>>,
    pub seen: Mutex<Vec<Seen>>,
}

pub fn json(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn json_owned(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn service_error(code: &'static str) -> Reply {
    Box::new(move |_| {
        let body = format!(
            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-err"}}}}"#
        );
        let content_type = "application/json; charset=utf-8";
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
    })
}

pub async fn handle(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen { headers, body };
    server.seen.lock().unwrap().push(seen.clone());
    let reply = server.script.lock().unwrap().pop_front();
    match reply {
        Some(reply) => reply(&seen),
        None => json(StatusCode::OK, r#"{"Response":{"RequestId":"r-ok"}}"#),
    }
}

pub async fn serve(script: Vec<Reply>) -> (String, Arc<Server>) {
    let server = Arc::new(Server {
        script: Mutex::new(script.into()),
        seen: Mutex::default(),
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, server)
}

pub fn credentials() -> Credentials {
    Credentials::new("AKIDtest", SECRET_KEY).unwrap()
}

pub fn transport(url: &str, retry: RetryPolicy) -> HttpTransport {
    let credentials = credentials().with_token(TOKEN).unwrap();
    let config = Config::builder(credentials)
        .endpoint(Endpoint::Url(url.to_owned()))
        .retry(retry)
        .build()
        .unwrap();
    HttpTransport::new(config).unwrap()
}

pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
        ..RetryPolicy::default()
    }
}

pub fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A test CA (its PEM, which a client adds as a root) and TLS acceptors for certificates
/// it issues.
pub struct Ca {
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    pub fn new() -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ess test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            pem,
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    pub fn acceptor(&self, name: &str) -> tokio_rustls::TlsAcceptor {
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}
