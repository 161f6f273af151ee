//! Client configuration: endpoint, region, language, timeouts, retries, rate limiting and
//! credentials, with a builder. `Config::from_env()` is the usual start.

use std::time::Duration;

use crate::credentials::{Credentials, CredentialsError};
use crate::retry::RetryPolicy;

/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `https://ess.tencentcloudapi.com` (and `file.ess.tencent.cn` for uploads).
    Production,
    /// The test environment: `ess.test.ess.tencent.cn` (`file.test.ess.tencent.cn`).
    Test,
    /// Any base URL, e.g. a local emulator's `http://127.0.0.1:8080`; used for every action.
    Url(String),
}

impl Endpoint {
    /// Reads `ESS_ENDPOINT`: `production`, `test`, or a URL.
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

    /// The base URL for an endpoint group (`default` or `file`).
    pub fn base_url(&self, group: &str) -> String {
        match (self, group) {
            (Endpoint::Production, "file") => "https://file.ess.tencent.cn".to_owned(),
            (Endpoint::Production, _) => "https://ess.tencentcloudapi.com".to_owned(),
            (Endpoint::Test, "file") => "https://file.test.ess.tencent.cn".to_owned(),
            (Endpoint::Test, _) => "https://ess.test.ess.tencent.cn".to_owned(),
            (Endpoint::Url(url), _) => url.clone(),
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
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) credentials: Credentials,
    pub(crate) endpoint: Endpoint,
    pub(crate) region: Option<String>,
    pub(crate) language: Language,
    pub(crate) request_client: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: bool,
    pub(crate) http: Option<reqwest::Client>,
}

impl Config {
    /// A builder with the given credentials and every default: production endpoint (or
    /// `ESS_ENDPOINT`), no region, zh-CN, 5 s connect and 60 s total timeout, the default
    /// retry policy, client-side rate limiting on.
    pub fn builder(credentials: Credentials) -> ConfigBuilder {
        ConfigBuilder(Config {
            credentials,
            endpoint: Endpoint::from_env().unwrap_or(Endpoint::Production),
            region: None,
            language: Language::default(),
            request_client: "ess-rs".to_owned(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            rate_limit: true,
            http: None,
        })
    }

    /// Defaults with credentials from the default chain (environment, then profile file).
    pub fn from_env() -> Result<Config, CredentialsError> {
        Ok(Self::builder(Credentials::from_default_chain()?).build())
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
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

    /// Timeout of one attempt, from sending to the last byte of the response.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = timeout;
        self
    }

    /// The largest response body read (32 MiB by default: ESS answers are JSON with links,
    /// never file contents, and its largest lists stay far below this). A larger answer is
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge), read no further than the cap.
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

    /// Use this reqwest client (its own timeouts and proxy settings apply).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.0.http = Some(client);
        self
    }

    /// The configuration.
    pub fn build(self) -> Config {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::Production.base_url("default"),
            "https://ess.tencentcloudapi.com"
        );
        assert_eq!(
            Endpoint::Production.base_url("file"),
            "https://file.ess.tencent.cn"
        );
        assert_eq!(
            Endpoint::Test.base_url("default"),
            "https://ess.test.ess.tencent.cn"
        );
        assert_eq!(
            Endpoint::Test.base_url("file"),
            "https://file.test.ess.tencent.cn"
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080/").base_url("file"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(Endpoint::parse("test"), Endpoint::Test);
    }
}
