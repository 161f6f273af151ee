//! Client configuration: endpoint, region, language, timeouts, retries, rate limiting and
//! credentials, with a builder that checks every value when it builds.
//! `Config::from_env()` is the usual start.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::action::EndpointHosts;
use crate::credentials::{Credentials, CredentialsProvider};
use crate::error::Error;
use crate::rate_limit::{Limiter, RateLimiter};
use crate::retry::RetryPolicy;

/// Why a configuration cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value that goes in a header holds control characters or non-ASCII text.
    #[error("{0} cannot be sent as an HTTP header value (control characters or non-ASCII)")]
    HeaderValue(&'static str),
    /// An extra root certificate cannot be read.
    #[error("root certificates: {0}")]
    RootCertificates(String),
    /// The rate limiter the environment names cannot be used.
    #[error("rate limiter: {0}")]
    RateLimiter(String),
    /// The endpoint URL is unusable.
    #[error("endpoint `{url}`: {problem}")]
    Endpoint {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A proxy (configured, or named by the environment) cannot be used safely. The URL is
    /// never repeated: it may hold a password.
    #[error("proxy ({source_name}): {problem}")]
    Proxy {
        /// Where it came from: `ConfigBuilder::proxy` or the variable's name.
        source_name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// The variables a proxy comes from (hyper-util's matcher reads the same ones).
const PROXY_VARIABLES: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Checks the proxies the environment names (read through `get`), each as
/// [`check_proxy`] does; an empty variable counts as unset.
fn check_env_proxies(
    get: impl Fn(&str) -> Option<String>,
    cleartext_auth: bool,
) -> Result<(), ConfigError> {
    for name in PROXY_VARIABLES {
        if let Some(value) = get(name).filter(|v| !v.trim().is_empty()) {
            check_proxy(name, &value, cleartext_auth)?;
        }
    }
    Ok(())
}

/// Checks a proxy URL: `http://`, `https://` (TLS to the proxy), `socks5://` or
/// `socks5h://`; credentials only where they travel encrypted (`https://`), unless
/// `cleartext_auth` allows them elsewhere. Anything else would be ignored or sent in clear
/// text, so it is refused.
pub(crate) fn check_proxy(
    source_name: &str,
    value: &str,
    cleartext_auth: bool,
) -> Result<(), ConfigError> {
    let problem = |problem: &str| ConfigError::Proxy {
        source_name: source_name.to_owned(),
        problem: problem.to_owned(),
    };
    // As the proxy matcher reads it: no scheme means http.
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let parsed = url::Url::parse(&with_scheme).map_err(|_| problem("not a URL"))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(problem("the URL has no host"));
    }
    let has_credentials = !parsed.username().is_empty() || parsed.password().is_some();
    match parsed.scheme() {
        "https" if !TLS => Err(problem(
            "an https:// proxy needs TLS: enable the `rustls-aws-lc-rs` or `rustls-ring` feature",
        )),
        "https" => Ok(()),
        "http" | "socks5" | "socks5h" if !has_credentials || cleartext_auth => Ok(()),
        "http" | "socks5" | "socks5h" => Err(problem(
            "its credentials would travel in clear text: use an https:// proxy, or \
             allow_cleartext_proxy_credentials(true) on a network you trust",
        )),
        other => Err(problem(&format!(
            "the scheme `{other}` is not supported (http, https, socks5 or socks5h)"
        ))),
    }
}

/// The default timeout of one attempt: a third of the default deadline.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The production hosts the spec gives each action (`ess.tencentcloudapi.com`, and
    /// `file.ess.tencent.cn` for uploads), over https.
    Production,
    /// The test-environment hosts the spec gives each action (`ess.test.ess.tencent.cn`,
    /// and `file.test.ess.tencent.cn` for uploads), over https.
    Test,
    /// Any base URL, e.g. a local emulator's `http://127.0.0.1:8080`; used for every action.
    Url(String),
}

impl Endpoint {
    /// Reads `ESS_ENDPOINT`: `production`, `test`, or a URL (`None` when unset or empty).
    pub fn from_env() -> Option<Endpoint> {
        std::env::var("ESS_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Endpoint::parse(v.trim()))
    }

    /// `production`, `test`, or a URL.
    pub fn parse(value: &str) -> Endpoint {
        match value {
            "production" | "prod" => Endpoint::Production,
            "test" => Endpoint::Test,
            url => Endpoint::Url(url.trim_end_matches('/').to_owned()),
        }
    }

    /// The base URL of an endpoint group (an action's [`Action::ENDPOINT`](crate::Action)).
    pub fn base_url(&self, hosts: &EndpointHosts) -> String {
        match self {
            Endpoint::Production => format!("https://{}", hosts.production),
            Endpoint::Test => format!("https://{}", hosts.test),
            Endpoint::Url(url) => url.clone(),
        }
    }

    /// `production`, `test`, or the URL: how the endpoint is named in messages.
    fn name(&self) -> &str {
        match self {
            Endpoint::Production => "production",
            Endpoint::Test => "test",
            Endpoint::Url(url) => url,
        }
    }
}

/// Response language (`X-TC-Language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Simplified Chinese (the service's default).
    #[default]
    ZhCn,
    /// English.
    EnUs,
}

impl Language {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
        }
    }
}

/// Everything a client needs; build with [`Config::builder`] or [`Config::from_env`].
/// Clients built from one `Config` (or its clones) share its rate limiter.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) credentials: CredentialsProvider,
    pub(crate) endpoint: Endpoint,
    pub(crate) region: Option<String>,
    pub(crate) language: Language,
    pub(crate) request_client: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: bool,
    pub(crate) rate_limit_burst: Option<u32>,
    /// What rate limits count for, when the user named it: hex SHA-256 of the name.
    pub(crate) rate_limit_account: Option<String>,
    /// The limiter calls acquire their starts from (the process's own window by default).
    pub(crate) limiter: Arc<dyn Limiter>,
    /// A limiter given to the builder, which wins over the default.
    custom_limiter: Option<Arc<dyn Limiter>>,
    pub(crate) allow_http: bool,
    /// The proxy `ConfigBuilder::proxy` sets, instead of the environment's.
    pub(crate) proxy: Option<String>,
    /// Whether proxy credentials may travel in clear text (an http:// or socks5 proxy).
    pub(crate) cleartext_proxy_auth: bool,
    /// PEM bundles of extra roots, as given (parsed by `build`).
    root_pem: Vec<Vec<u8>>,
    /// The extra roots, parsed.
    pub(crate) root_certificates: Vec<CertificateDer<'static>>,
}

impl Config {
    /// A builder with the given credentials and every default: the production endpoint,
    /// no region, zh-CN, a 5 s connect timeout and a 10 s attempt timeout (so a hung answer
    /// is retried, where that is safe, within the 30 s deadline of the default retry
    /// policy), client-side rate limiting on. The environment is not read (see [`Config::from_env`]).
    ///
    /// `credentials` is static [`Credentials`], a
    /// [`RefreshingCredentials`](crate::RefreshingCredentials) source, or any
    /// [`CredentialsProvider`].
    pub fn builder(credentials: impl Into<CredentialsProvider>) -> ConfigBuilder {
        ConfigBuilder(Config {
            credentials: credentials.into(),
            endpoint: Endpoint::Production,
            region: None,
            language: Language::default(),
            request_client: "ess-rs".to_owned(),
            connect_timeout: Duration::from_secs(5),
            timeout: DEFAULT_ATTEMPT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            rate_limit: true,
            rate_limit_burst: None,
            rate_limit_account: None,
            limiter: Arc::new(RateLimiter::new()),
            custom_limiter: None,
            allow_http: false,
            proxy: None,
            cleartext_proxy_auth: false,
            root_pem: Vec::new(),
            root_certificates: Vec::new(),
        })
    }

    /// Defaults with credentials from the default chain (environment, then profile file),
    /// the endpoint from `ESS_ENDPOINT` (production when unset) and, when
    /// `ESS_RATE_LIMIT_REDIS_URL` is set, a rate limiter on that Redis shared with every
    /// process that uses it (the `redis` feature; without it, setting the variable is an
    /// error rather than a limit silently kept per process).
    pub fn from_env() -> Result<Config, Error> {
        let mut builder = Self::builder(Credentials::from_default_chain()?);
        if let Some(endpoint) = Endpoint::from_env() {
            builder = builder.endpoint(endpoint);
        }
        if let Some(url) = std::env::var("ESS_RATE_LIMIT_REDIS_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            builder = builder.rate_limiter(redis_limiter(url.trim())?);
        }
        Ok(builder.build()?)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The timeout of one attempt.
    pub fn attempt_timeout(&self) -> Duration {
        self.timeout
    }
}

/// Builds a [`Config`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder(Config);

impl ConfigBuilder {
    /// Where requests go.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.0.endpoint = endpoint;
        self
    }

    /// `X-TC-Region` (omitted when unset).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.0.region = Some(region.into());
        self
    }

    /// `X-TC-Language`.
    pub fn language(mut self, language: Language) -> Self {
        self.0.language = language;
        self
    }

    /// Appended to `X-TC-RequestClient` (`ess-rs/<suffix>`).
    pub fn request_client_suffix(mut self, suffix: &str) -> Self {
        self.0.request_client = format!("ess-rs/{suffix}");
        self
    }

    /// Connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.0.connect_timeout = timeout;
        self
    }

    /// Timeout of one attempt, from sending to the last byte of the response (10 s by
    /// default). Keep it below the deadline, so a hung answer can be retried within it; a
    /// single call can carry its own ([`CallOptions`](crate::CallOptions)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = timeout;
        self
    }

    /// The largest response body read (32 MiB by default: ESS answers are JSON with links,
    /// never file contents, and its largest lists stay far below this). A larger answer is
    /// [`Error::ResponseTooLarge`], read no further than the cap.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.0.max_response_bytes = limit;
        self
    }

    /// Retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.0.retry = retry;
        self
    }

    /// Client-side rate limiting per action (on by default).
    pub fn rate_limit(mut self, on: bool) -> Self {
        self.0.rate_limit = on;
        self
    }

    /// At most this many calls of an action start together (the action's documented rate
    /// by default, the most the service accepts in a second; 1 spaces calls evenly).
    pub fn rate_limit_burst(mut self, burst: u32) -> Self {
        self.0.rate_limit_burst = Some(burst.max(1));
        self
    }

    /// What the rate limits count for: the account (or sub-account) whose budget ESS
    /// spends, named by you (its UIN, or any name you keep per account). By default they
    /// count for the SecretId the call is signed with, which is right for a static key but
    /// not for temporary keys: each process and each refresh brings a new SecretId, so a
    /// fleet on temporary keys would never share one budget. Only a SHA-256 of the name
    /// reaches the limiter (and Redis).
    pub fn rate_limit_account(mut self, account: impl AsRef<str>) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("account:{}", account.as_ref()));
        self.0.rate_limit_account = Some(hex::encode(digest));
        self
    }

    /// Where calls acquire their starts: by default the process's own sliding window
    /// ([`RateLimiter`]); a fleet of processes shares one budget through a shared limiter
    /// (with the `redis` feature, `RedisLimiter`). A custom limiter takes no burst setting.
    pub fn rate_limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.0.custom_limiter = Some(limiter);
        self
    }

    /// Allows a plain `http://` endpoint that is not on this machine (loopback is always
    /// allowed, for emulators). Off by default: requests carry signatures and personal data.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.0.allow_http = allow;
        self
    }

    /// Sends every request to a host other than this machine through this proxy, instead of
    /// the one the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`; `NO_PROXY`
    /// is still honoured): `https://[user:password@]host:port` (TLS to the proxy, then a
    /// CONNECT tunnel), `http://host:port`, or `socks5h://host:port` (`socks5://` resolves
    /// names locally). Credentials are refused where they would travel in clear text
    /// (see [`allow_cleartext_proxy_credentials`](Self::allow_cleartext_proxy_credentials)).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.0.proxy = Some(url.into());
        self
    }

    /// Allows credentials for an `http://` or `socks5` proxy, which go to the proxy in clear
    /// text (Basic auth in a header, or SOCKS5's user/password): off by default. Prefer an
    /// `https://` proxy.
    pub fn allow_cleartext_proxy_credentials(mut self, allow: bool) -> Self {
        self.0.cleartext_proxy_auth = allow;
        self
    }

    /// Also trusts the root certificates of this PEM bundle (one or more `CERTIFICATE`
    /// blocks) for https, beside the platform's (or Mozilla's, with `webpki-roots`): for a
    /// proxy that inspects TLS, or a test server with its own CA.
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.0.root_pem.push(pem.into());
        self
    }

    /// The configuration, once every value checks out: header values that can be sent,
    /// and an endpoint URL that is `https://`, or `http://` on loopback (or anywhere with
    /// [`allow_insecure_http`](Self::allow_insecure_http)), with no path, query or fragment.
    pub fn build(mut self) -> Result<Config, ConfigError> {
        let config = &mut self.0;
        if let Some(region) = &config.region {
            header_value("region", region)?;
        }
        header_value("request client", &config.request_client)?;
        if let Endpoint::Url(url) = &config.endpoint {
            check_url(url, config.allow_http)?;
        }
        let https = match &config.endpoint {
            Endpoint::Url(url) => url.starts_with("https:"),
            Endpoint::Production | Endpoint::Test => true,
        };
        if https && !TLS {
            return Err(ConfigError::Endpoint {
                url: config.endpoint.name().to_owned(),
                problem: "this build has no TLS backend: enable the `rustls-aws-lc-rs` or \
                          `rustls-ring` feature"
                    .to_owned(),
            });
        }
        // The environment's proxies matter only where one would be used: never for a
        // loopback endpoint (an emulator), which is always reached directly.
        let loopback = match &config.endpoint {
            Endpoint::Url(url) => url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(is_loopback))
                .unwrap_or(false),
            Endpoint::Production | Endpoint::Test => false,
        };
        match &config.proxy {
            Some(proxy) => check_proxy("ConfigBuilder::proxy", proxy, config.cleartext_proxy_auth)?,
            None if loopback => {}
            None => {
                check_env_proxies(|name| std::env::var(name).ok(), config.cleartext_proxy_auth)?
            }
        }
        for pem in &config.root_pem {
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConfigError::RootCertificates(e.to_string()))?;
            if certificates.is_empty() {
                return Err(ConfigError::RootCertificates(
                    "the PEM bundle holds no certificate".to_owned(),
                ));
            }
            config.root_certificates.extend(certificates);
        }
        if !config.root_pem.is_empty() && !TLS {
            return Err(ConfigError::RootCertificates(
                "this build has no TLS backend: enable the `rustls-aws-lc-rs` or `rustls-ring` \
                 feature"
                    .to_owned(),
            ));
        }
        config.limiter = match (&config.custom_limiter, config.rate_limit_burst) {
            (Some(limiter), _) => limiter.clone(),
            (None, Some(burst)) => Arc::new(RateLimiter::with_burst(burst)),
            (None, None) => Arc::new(RateLimiter::new()),
        };
        Ok(self.0)
    }
}

/// The shared limiter `ESS_RATE_LIMIT_REDIS_URL` names.
#[cfg(feature = "redis")]
fn redis_limiter(url: &str) -> Result<Arc<dyn Limiter>, ConfigError> {
    crate::redis_limiter::RedisLimiter::new(url)
        .map(|l| Arc::new(l) as Arc<dyn Limiter>)
        .map_err(|e| ConfigError::RateLimiter(e.to_string()))
}

#[cfg(not(feature = "redis"))]
fn redis_limiter(_url: &str) -> Result<Arc<dyn Limiter>, ConfigError> {
    Err(ConfigError::RateLimiter(
        "ESS_RATE_LIMIT_REDIS_URL is set, but this build has no `redis` feature".to_owned(),
    ))
}

/// Whether a TLS backend was compiled in.
const TLS: bool = cfg!(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"));

/// Whether `value` can be sent as a header value as it is: visible ASCII, spaces and tabs
/// (no line breaks that would end the header, no bytes a server may refuse).
pub(crate) fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

fn header_value(what: &'static str, value: &str) -> Result<(), ConfigError> {
    if is_header_value(value) {
        Ok(())
    } else {
        Err(ConfigError::HeaderValue(what))
    }
}

fn check_url(url: &str, allow_http: bool) -> Result<(), ConfigError> {
    let problem = |problem: &str| ConfigError::Endpoint {
        url: url.to_owned(),
        problem: problem.to_owned(),
    };
    let parsed = url::Url::parse(url).map_err(|e| problem(&e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| problem("the URL has no host"))?;
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(problem("give the base URL only: requests go to its `/`"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(problem("credentials do not go in the URL"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback(host) => Ok(()),
        "http" => Err(problem(
            "plain http is allowed for loopback only (use https, or allow_insecure_http)",
        )),
        other => Err(problem(&format!(
            "the scheme must be https or http, not {other}"
        ))),
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environments_proxies_are_held_to_the_same_rules() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let refused =
            check_env_proxies(env(&[("https_proxy", "http://u:secret@proxy:3128")]), false)
                .unwrap_err()
                .to_string();
        assert!(
            refused.contains("https_proxy") && refused.contains("clear text"),
            "{refused}"
        );
        assert!(!refused.contains("secret"), "{refused}");
        let refused = check_env_proxies(env(&[("ALL_PROXY", "socks4://proxy:1080")]), false);
        assert!(refused.is_err());
        check_env_proxies(env(&[("HTTPS_PROXY", "http://u:secret@proxy:3128")]), true).unwrap();
        check_env_proxies(env(&[("HTTP_PROXY", ""), ("NO_PROXY", "*")]), false).unwrap();
    }

    #[test]
    fn endpoints() {
        let file = EndpointHosts {
            group: "file",
            production: "file.ess.tencent.cn",
            test: "file.test.ess.tencent.cn",
        };
        assert_eq!(
            Endpoint::Production.base_url(&file),
            "https://file.ess.tencent.cn"
        );
        assert_eq!(
            Endpoint::Test.base_url(&file),
            "https://file.test.ess.tencent.cn"
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080/").base_url(&file),
            "http://127.0.0.1:8080"
        );
        assert_eq!(Endpoint::parse("test"), Endpoint::Test);
    }

    fn build(endpoint: &str, allow_http: bool) -> Result<Config, ConfigError> {
        let credentials = Credentials::new("AKIDx", "key").unwrap();
        Config::builder(credentials)
            .endpoint(Endpoint::parse(endpoint))
            .allow_insecure_http(allow_http)
            .build()
    }

    #[test]
    fn endpoints_are_checked_when_built() {
        for ok in [
            "https://ess.example.com",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080/",
            "https://10.0.0.1",
        ] {
            // Without a TLS backend, https is refused for that reason alone.
            let tls_refused = !TLS && ok.starts_with("https");
            assert_eq!(build(ok, false).is_ok(), !tls_refused, "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "ftp://127.0.0.1",
            "https://host/prefix",
            "https://host/?q=1",
            "https://user:pw@host",
            "not a url",
        ] {
            assert!(
                matches!(build(bad, false), Err(ConfigError::Endpoint { .. })),
                "{bad}"
            );
        }
        assert!(build("http://10.0.0.1:8080", true).is_ok());
    }

    #[test]
    fn https_needs_a_tls_backend_and_gets_the_chosen_one() {
        let credentials = Credentials::new("AKIDx", "key").unwrap();
        let built = Config::builder(credentials).build();
        if TLS {
            // The chosen backend (aws-lc-rs, or ring installed on demand; the OS store or
            // Mozilla's roots) builds a client.
            assert!(crate::HttpTransport::new(built.unwrap()).is_ok());
        } else {
            assert!(
                matches!(built, Err(ConfigError::Endpoint { .. })),
                "{built:?}"
            );
        }
        // Plain http on loopback needs no TLS.
        assert!(build("http://127.0.0.1:1", false).is_ok());
    }

    #[test]
    fn header_values_are_checked_when_built() {
        let credentials = || Credentials::new("AKIDx", "key").unwrap();
        let err = Config::builder(credentials())
            .region("ap-guangzhou\r\nX-Evil: 1")
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::HeaderValue("region"));
        let err = Config::builder(credentials())
            .request_client_suffix("客户端")
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::HeaderValue("request client"));
    }
}
