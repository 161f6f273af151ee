//! Credentials and where they come from: static values, the environment, the profile file,
//! the official SDKs' default chain, or a refreshing source of temporary credentials (with
//! an expiry) that a client asks before every attempt, so keys rotate without rebuilding
//! the client. Secrets never show in `Debug` or `Display`, are compared in constant time
//! and are zeroed when dropped.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use zeroize::Zeroize;

/// A secret string; formatting it prints `<redacted>`; dropping it zeroes its memory.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Secret {
    /// Whether the secret is `other`, in constant time in the length of the shorter value:
    /// no early exit on the first difference.
    pub(crate) fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        let differences = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        (differences == 0) & (a.len() == b.len())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for Secret {}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A SecretId / SecretKey pair, with an optional session token and expiry (temporary
/// credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: String,
    /// Hex SHA-256 of the SecretId: what rate limits are counted for (made once, here).
    account: String,
    secret_key: Secret,
    token: Option<Secret>,
    expires_at: Option<SystemTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why credentials could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A value is empty, has surrounding white space (a common copy-and-paste slip), or
    /// holds characters a header cannot carry (control characters, non-ASCII).
    #[error(
        "{0} is empty, has leading or trailing white space, or holds characters other than visible ASCII"
    )]
    Malformed(&'static str),
    /// The source has no credentials.
    #[error("no credentials in {0}")]
    Missing(String),
    /// One of a pair is set and the other is not.
    #[error("{set} is set but {missing} is not")]
    Incomplete {
        /// The variable (or key) that is set.
        set: &'static str,
        /// The one that is missing.
        missing: &'static str,
    },
    /// The profile file cannot be read or parsed.
    #[error("profile file {path}: {problem}")]
    Profile {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A refreshing source failed, and no unexpired credentials were left.
    #[error("cannot refresh credentials: {0}")]
    Refresh(String),
}

const ENV_ID: &str = "TENCENTCLOUD_SECRET_ID";
const ENV_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
const ENV_TOKEN: &str = "TENCENTCLOUD_SESSION_TOKEN";
/// Names the profile file, as in the official Go SDK.
const ENV_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
/// The machine-wide profile file the official Python SDK falls back to.
const SYSTEM_PROFILE: &str = "/etc/tencentcloud/credentials";

impl Credentials {
    /// Credentials from values; rejects empty values, surrounding white space and
    /// characters a header cannot carry.
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let secret_id = secret_id.into();
        let secret_key = Secret(secret_key.into());
        check("SecretId", &secret_id)?;
        check("SecretKey", secret_key.expose())?;
        let account = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(secret_id.as_bytes()))
        };
        Ok(Self {
            secret_id,
            account,
            secret_key,
            token: None,
            expires_at: None,
        })
    }

    /// Adds a session token (temporary credentials).
    pub fn with_token(mut self, token: impl Into<String>) -> Result<Self, CredentialsError> {
        let token = Secret(token.into());
        check("token", token.expose())?;
        self.token = Some(token);
        Ok(self)
    }

    /// Marks the credentials as valid until `at` (a refreshing source replaces them
    /// before then).
    pub fn with_expiry(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// From `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and, when set,
    /// `TENCENTCLOUD_SESSION_TOKEN`. A variable set to the empty string counts as unset;
    /// one of the pair without the other is an error naming the missing one.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let credentials = match (get(ENV_ID), get(ENV_KEY)) {
            (Some(id), Some(key)) => Self::new(id, key)?,
            (None, None) => {
                return Err(CredentialsError::Missing(format!(
                    "the environment ({ENV_ID}, {ENV_KEY})"
                )));
            }
            (Some(_), None) => {
                return Err(CredentialsError::Incomplete {
                    set: ENV_ID,
                    missing: ENV_KEY,
                });
            }
            (None, Some(_)) => {
                return Err(CredentialsError::Incomplete {
                    set: ENV_KEY,
                    missing: ENV_ID,
                });
            }
        };
        match get(ENV_TOKEN) {
            Some(token) => credentials.with_token(token),
            None => Ok(credentials),
        }
    }

    /// From the `[default]` section of a profile file (`secret_id`, `secret_key`, optional
    /// `token`), as the official CLI writes `~/.tencentcloud/credentials`.
    pub fn from_profile_file(path: &Path) -> Result<Self, CredentialsError> {
        // The file's text holds the secret key: zeroed when dropped, like the key itself.
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            CredentialsError::Profile {
                path: path.display().to_string(),
                problem: e.to_string(),
            }
        })?);
        let mut section = String::new();
        let (mut id, mut key, mut token) = (None, None, None);
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(['#', ';']) {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_owned();
                continue;
            }
            if section != "default" {
                continue;
            }
            if let Some((name, value)) = line.split_once('=') {
                let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
                match name.trim() {
                    "secret_id" => id = value,
                    "secret_key" => key = value,
                    "token" => token = value,
                    _ => {}
                }
            }
        }
        let credentials = match (id, key) {
            (Some(id), Some(key)) => Self::new(id, key)?,
            (None, None) => {
                return Err(CredentialsError::Missing(format!(
                    "the [default] section of {}",
                    path.display()
                )));
            }
            (Some(_), None) => {
                return Err(CredentialsError::Incomplete {
                    set: "secret_id",
                    missing: "secret_key",
                });
            }
            (None, Some(_)) => {
                return Err(CredentialsError::Incomplete {
                    set: "secret_key",
                    missing: "secret_id",
                });
            }
        };
        match token {
            Some(token) => credentials.with_token(token),
            None => Ok(credentials),
        }
    }

    /// The profile files the official tools read, in order: the file
    /// `TENCENTCLOUD_CREDENTIALS_FILE` names, `~/.tencentcloud/credentials` (the home
    /// directory from the platform, not `HOME` alone), `/etc/tencentcloud/credentials`.
    pub fn profile_paths() -> Vec<PathBuf> {
        let named = std::env::var_os(ENV_FILE).filter(|f| !f.is_empty());
        named
            .map(PathBuf::from)
            .into_iter()
            .chain(Self::unnamed_profile_paths(Self::default_profile_path()))
            .collect()
    }

    /// The profile files looked for when none is named: the per-user one at `home_profile`,
    /// then the machine-wide one.
    fn unnamed_profile_paths(home_profile: Option<PathBuf>) -> Vec<PathBuf> {
        home_profile
            .into_iter()
            .chain([PathBuf::from(SYSTEM_PROFILE)])
            .collect()
    }

    /// The per-user profile file: `~/.tencentcloud/credentials`.
    pub fn default_profile_path() -> Option<PathBuf> {
        std::env::home_dir().map(|home| home.join(".tencentcloud").join("credentials"))
    }

    /// The official SDKs' default chain: the environment, then the first profile file
    /// of [`profile_paths`](Self::profile_paths) that exists. A half-set environment is an
    /// error, not a reason to look further; so is a file `TENCENTCLOUD_CREDENTIALS_FILE`
    /// names that cannot be read (falling back to another profile could sign as another
    /// account).
    pub fn from_default_chain() -> Result<Self, CredentialsError> {
        Self::chain(
            |name| std::env::var(name).ok(),
            Self::default_profile_path(),
        )
    }

    /// The chain with the environment read through `get` and the per-user profile at
    /// `home_profile`.
    fn chain(
        get: impl Fn(&str) -> Option<String>,
        home_profile: Option<PathBuf>,
    ) -> Result<Self, CredentialsError> {
        match Self::from_lookup(&get) {
            Err(CredentialsError::Missing(_)) => {}
            other => return other,
        }
        if let Some(named) = get(ENV_FILE).filter(|f| !f.is_empty()) {
            return Self::from_profile_file(Path::new(&named)).map_err(|e| match e {
                CredentialsError::Profile { path, problem } => CredentialsError::Profile {
                    path,
                    problem: format!("{problem} (the file {ENV_FILE} names)"),
                },
                other => other,
            });
        }
        let paths = Self::unnamed_profile_paths(home_profile);
        match paths.iter().find(|p| p.exists()) {
            Some(path) => Self::from_profile_file(path),
            None => {
                let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                Err(CredentialsError::Missing(format!(
                    "the environment ({ENV_ID}, {ENV_KEY}) or a profile file ({})",
                    files.join(", ")
                )))
            }
        }
    }

    /// The SecretId (not a secret: it names the key).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The account rate limits are counted for: hex SHA-256 of the SecretId, never the
    /// SecretId itself.
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// The SecretKey.
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The session token, if any.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// When temporary credentials expire.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

/// Credentials travel in headers (the SecretId in `Authorization`, the token in
/// `X-TC-Token`): non-empty visible ASCII, no surrounding white space.
fn check(what: &'static str, value: &str) -> Result<(), CredentialsError> {
    let visible = value.bytes().all(|b| (b' '..=b'~').contains(&b));
    if value.is_empty() || value.trim() != value || !visible {
        Err(CredentialsError::Malformed(what))
    } else {
        Ok(())
    }
}

/// A boxed future, for object-safe credential sources.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of credentials that a client asks before every attempt.
pub trait ProvideCredentials: fmt::Debug + Send + Sync + 'static {
    /// Credentials to sign with now.
    fn credentials(&self) -> BoxFuture<'_, Result<Arc<Credentials>, CredentialsError>>;
}

/// Where a client's credentials come from; build it from [`Credentials`] (static),
/// [`RefreshingCredentials`], or any [`ProvideCredentials`].
#[derive(Clone, Debug)]
pub struct CredentialsProvider(Source);

#[derive(Clone, Debug)]
enum Source {
    Static(Arc<Credentials>),
    Dynamic(Arc<dyn ProvideCredentials>),
}

impl CredentialsProvider {
    /// A custom source.
    pub fn new(source: impl ProvideCredentials) -> Self {
        Self(Source::Dynamic(Arc::new(source)))
    }

    /// Credentials to sign with now.
    pub async fn credentials(&self) -> Result<Arc<Credentials>, CredentialsError> {
        match &self.0 {
            Source::Static(credentials) => Ok(credentials.clone()),
            Source::Dynamic(source) => source.credentials().await,
        }
    }
}

impl From<Credentials> for CredentialsProvider {
    fn from(credentials: Credentials) -> Self {
        Self(Source::Static(Arc::new(credentials)))
    }
}

impl From<RefreshingCredentials> for CredentialsProvider {
    fn from(source: RefreshingCredentials) -> Self {
        Self::new(source)
    }
}

type Fetch = dyn Fn() -> BoxFuture<'static, Result<Credentials, CredentialsError>> + Send + Sync;

/// One fetch, shared by every caller that waits for it.
type SharedFetch =
    futures_util::future::Shared<BoxFuture<'static, Result<Arc<Credentials>, CredentialsError>>>;

/// Temporary credentials from a source you supply (an STS call, a secrets manager, a file
/// a sidecar rewrites), cached and fetched again `margin` before they expire.
///
/// Nobody whose cached credentials are still valid waits for a fetch: a caller inside the
/// margin gets the cached ones at once and the fetch runs beside it. Only callers with no
/// valid credentials wait, all for the same fetch (the source is not stampeded), each
/// bounded by its call's deadline; the fetch itself is bounded by
/// [`fetch_timeout`](Self::fetch_timeout) (30 s by default). If a fetch fails while the cached
/// credentials are still valid, they go on being used. A fetch that fails, times out, or
/// brings credentials that already expire within the margin is not repeated before a
/// backoff (1 s, doubling to 60 s): the source is not asked again on every attempt.
pub struct RefreshingCredentials {
    state: Arc<RefreshState>,
    margin: Duration,
    fetch_timeout: Duration,
}

struct RefreshState {
    fetch: Box<Fetch>,
    current: Mutex<Option<Arc<Credentials>>>,
    /// The fetch under way, if any.
    fetching: Mutex<Option<SharedFetch>>,
    /// After an unsatisfying fetch: no other before this instant, and how many in a row.
    backoff: Mutex<Option<(std::time::Instant, u32)>>,
}

/// The first wait after an unsatisfying fetch, doubled after each further one.
const REFRESH_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between fetches.
const MAX_REFRESH_BACKOFF: Duration = Duration::from_secs(60);
/// How long one fetch may take by default.
const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

impl fmt::Debug for RefreshingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingCredentials")
            .field("margin", &self.margin)
            .field("fetch_timeout", &self.fetch_timeout)
            .field(
                "current",
                &*self.state.current.lock().unwrap_or_else(|p| p.into_inner()),
            )
            .finish_non_exhaustive()
    }
}

impl RefreshingCredentials {
    /// Fetches with `fetch`, refreshing 5 minutes before expiry.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Credentials, CredentialsError>> + Send + 'static,
    {
        Self {
            state: Arc::new(RefreshState {
                fetch: Box::new(move || Box::pin(fetch())),
                current: Mutex::new(None),
                fetching: Mutex::new(None),
                backoff: Mutex::new(None),
            }),
            margin: Duration::from_secs(300),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// Refreshes this long before expiry instead.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Gives up on one fetch after this long (30 s by default); the failure counts like any
    /// other (a backoff before the source is asked again).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    async fn get(&self) -> Result<Arc<Credentials>, CredentialsError> {
        let state = &self.state;
        if let Some(credentials) = state.fresh(self.margin) {
            return Ok(credentials);
        }
        // Within the backoff, valid credentials serve as they are; none at all is an error
        // without asking the source again.
        if state.backing_off() {
            return state.fresh(Duration::ZERO).ok_or_else(|| {
                CredentialsError::Refresh(
                    "the last refresh failed; the source is asked again after a backoff".to_owned(),
                )
            });
        }
        let fetch = RefreshState::start_fetch(state, self.margin, self.fetch_timeout);
        // Still valid (inside the margin only): used at once while the fetch runs.
        if let Some(credentials) = state.fresh(Duration::ZERO) {
            return Ok(credentials);
        }
        fetch.await
    }
}

impl RefreshState {
    /// The cached credentials, if they are still good `margin` from now.
    fn fresh(&self, margin: Duration) -> Option<Arc<Credentials>> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let credentials = current.as_ref()?;
        match credentials.expires_at {
            Some(at) if !good_for(at, margin) => None,
            _ => Some(credentials.clone()),
        }
    }

    /// Whether a fetch must wait: the backoff after the last unsatisfying one has not passed.
    fn backing_off(&self) -> bool {
        let backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        backoff.is_some_and(|(until, _)| std::time::Instant::now() < until)
    }

    /// Records a fetch that failed or brought credentials inside the margin.
    fn back_off(&self) {
        let mut backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        let failures = backoff.map_or(0, |(_, n)| n).saturating_add(1);
        let wait = REFRESH_BACKOFF
            .saturating_mul(1 << (failures - 1).min(16))
            .min(MAX_REFRESH_BACKOFF);
        let now = std::time::Instant::now();
        *backoff = Some((now.checked_add(wait).unwrap_or(now), failures));
    }

    /// The fetch under way, or a new one: driven on the runtime by a task of its own, so it
    /// completes (and updates the cache) even when every caller waiting for it gives up.
    fn start_fetch(this: &Arc<Self>, margin: Duration, timeout: Duration) -> SharedFetch {
        let mut fetching = this.fetching.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fetch) = fetching.as_ref() {
            return fetch.clone();
        }
        use futures_util::FutureExt;
        let state = this.clone();
        // The source is asked now, synchronously; its future runs under the timeout.
        let source = (this.fetch)();
        let fetch: BoxFuture<'static, _> = Box::pin(async move {
            let outcome = match tokio::time::timeout(timeout, source).await {
                Ok(outcome) => outcome,
                Err(_) => Err(CredentialsError::Refresh(format!(
                    "the credential source did not answer within {timeout:?}"
                ))),
            };
            let result = state.settle(outcome, margin);
            *state.fetching.lock().unwrap_or_else(|p| p.into_inner()) = None;
            result
        });
        let fetch = fetch.shared();
        *fetching = Some(fetch.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(fetch.clone());
        }
        fetch
    }

    /// Caches what a fetch brought; what its waiters get.
    fn settle(
        &self,
        outcome: Result<Credentials, CredentialsError>,
        margin: Duration,
    ) -> Result<Arc<Credentials>, CredentialsError> {
        match outcome {
            Ok(credentials) => {
                let expires = credentials.expires_at;
                let credentials = Arc::new(credentials);
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(credentials.clone());
                if expires.is_some_and(|at| !good_for(at, margin)) {
                    tracing::warn!(
                        "the credential source returned keys that expire within the refresh margin; asking again after a backoff"
                    );
                    self.back_off();
                } else {
                    *self.backoff.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                Ok(credentials)
            }
            Err(error) => {
                self.back_off();
                match self.fresh(Duration::ZERO) {
                    Some(still_valid) => {
                        tracing::warn!(error = %error, "credential refresh failed; using the current ones until they expire");
                        Ok(still_valid)
                    }
                    None => Err(CredentialsError::Refresh(error.to_string())),
                }
            }
        }
    }
}

/// Whether credentials expiring `at` are still good `margin` from now (a margin too large to
/// add counts as reaching past any expiry).
fn good_for(at: SystemTime, margin: Duration) -> bool {
    SystemTime::now()
        .checked_add(margin)
        .is_some_and(|then| at > then)
}

impl ProvideCredentials for RefreshingCredentials {
    fn credentials(&self) -> BoxFuture<'_, Result<Arc<Credentials>, CredentialsError>> {
        Box::pin(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn values_a_header_cannot_carry_are_refused() {
        assert_eq!(
            Credentials::new("AKID\r\nX-Evil: 1", "key"),
            Err(CredentialsError::Malformed("SecretId"))
        );
        let ok = Credentials::new("AKIDx", "key").unwrap();
        assert_eq!(
            ok.with_token("tok\n"),
            Err(CredentialsError::Malformed("token"))
        );
        assert!(Credentials::new("AKIDx", "密钥").is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new("AKIDexample", "very-secret-key")
            .unwrap()
            .with_token("tok-123")
            .unwrap();
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDexample"));
        assert!(
            !shown.contains("very-secret-key") && !shown.contains("tok-123"),
            "{shown}"
        );
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(Secret::new("abc"), Secret::new("abc"));
        assert_ne!(Secret::new("abc"), Secret::new("abd"));
        assert_ne!(Secret::new("abc"), Secret::new("abcd"));
        assert_ne!(Secret::new(""), Secret::new("a"));
    }

    #[test]
    fn white_space_is_rejected() {
        assert_eq!(
            Credentials::new(" AKID", "k"),
            Err(CredentialsError::Malformed("SecretId"))
        );
        assert_eq!(
            Credentials::new("AKID", "k\n"),
            Err(CredentialsError::Malformed("SecretKey"))
        );
        assert_eq!(
            Credentials::new("AKID", ""),
            Err(CredentialsError::Malformed("SecretKey"))
        );
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn environment_lookup() {
        let c = Credentials::from_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "key"),
            ("TENCENTCLOUD_SESSION_TOKEN", ""),
        ]))
        .unwrap();
        assert_eq!(
            (c.secret_id(), c.secret_key().expose(), c.token()),
            ("id", "key", None)
        );
        let c = Credentials::from_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "key"),
            ("TENCENTCLOUD_SESSION_TOKEN", "tok"),
        ]))
        .unwrap();
        assert_eq!(c.token().map(Secret::expose), Some("tok"));
    }

    #[test]
    fn empty_variables_are_unset_and_half_pairs_name_the_missing_half() {
        assert!(matches!(
            Credentials::from_lookup(env(&[
                ("TENCENTCLOUD_SECRET_ID", ""),
                ("TENCENTCLOUD_SECRET_KEY", "")
            ])),
            Err(CredentialsError::Missing(_))
        ));
        assert_eq!(
            Credentials::from_lookup(env(&[
                ("TENCENTCLOUD_SECRET_ID", "id"),
                ("TENCENTCLOUD_SECRET_KEY", "")
            ])),
            Err(CredentialsError::Incomplete {
                set: "TENCENTCLOUD_SECRET_ID",
                missing: "TENCENTCLOUD_SECRET_KEY"
            })
        );
        assert_eq!(
            Credentials::from_lookup(env(&[("TENCENTCLOUD_SECRET_KEY", "key")])),
            Err(CredentialsError::Incomplete {
                set: "TENCENTCLOUD_SECRET_KEY",
                missing: "TENCENTCLOUD_SECRET_ID"
            })
        );
    }

    #[test]
    fn profile_file() {
        let dir = std::env::temp_dir().join(format!("ess-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        std::fs::write(
            &path,
            "[other]\nsecret_id = no\n\n[default]\nsecret_id = AKIDp\nsecret_key = kp\ntoken =\n",
        )
        .unwrap();
        let c = Credentials::from_profile_file(&path).unwrap();
        assert_eq!((c.secret_id(), c.token()), ("AKIDp", None));
        std::fs::write(&path, "[default]\nsecret_id = AKIDp\n").unwrap();
        assert_eq!(
            Credentials::from_profile_file(&path),
            Err(CredentialsError::Incomplete {
                set: "secret_id",
                missing: "secret_key"
            })
        );
        assert!(matches!(
            Credentials::from_profile_file(&dir.join("none")),
            Err(CredentialsError::Profile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_named_profile_file_that_cannot_be_read_is_an_error_not_a_fallback() {
        let dir = std::env::temp_dir().join(format!("ess-named-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Another account's profile, where the chain would look next.
        let home = dir.join("home-credentials");
        std::fs::write(
            &home,
            "[default]\nsecret_id = AKIDotherAccount\nsecret_key = other\n",
        )
        .unwrap();
        let missing = dir.join("no-such-file").display().to_string();
        let named = |file: &str| {
            let file = file.to_owned();
            move |name: &str| (name == ENV_FILE).then(|| file.clone())
        };
        let Err(CredentialsError::Profile { path, problem }) =
            Credentials::chain(named(&missing), Some(home.clone()))
        else {
            panic!("a named file that does not exist must be an error");
        };
        assert_eq!(path, missing);
        assert!(problem.contains(ENV_FILE), "{problem}");
        // Named and readable: used. Not named: the chain goes on to the home profile.
        let readable = dir.join("named");
        std::fs::write(
            &readable,
            "[default]\nsecret_id = AKIDnamed\nsecret_key = k\n",
        )
        .unwrap();
        let chosen = Credentials::chain(named(&readable.display().to_string()), Some(home.clone()));
        assert_eq!(chosen.unwrap().secret_id(), "AKIDnamed");
        let chosen = Credentials::chain(|_: &str| None, Some(home));
        assert_eq!(chosen.unwrap().secret_id(), "AKIDotherAccount");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_profile_paths_follow_the_official_order() {
        let paths = Credentials::profile_paths();
        assert_eq!(
            paths.last().map(|p| p.display().to_string()).as_deref(),
            Some("/etc/tencentcloud/credentials")
        );
        if let Some(home) = Credentials::default_profile_path() {
            assert!(home.ends_with(".tencentcloud/credentials"));
            assert!(paths.contains(&home));
        }
    }

    #[tokio::test]
    async fn refreshing_credentials_fetch_before_expiry_once_at_a_time() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let source = RefreshingCredentials::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let lifetime = if n == 0 { 2500 } else { 3_600_000 };
                let expiry = SystemTime::now() + Duration::from_millis(lifetime);
                Ok(Credentials::new(format!("AKID{n}"), "key")?.with_expiry(expiry))
            }
        })
        .refresh_margin(Duration::from_secs(2));
        let provider = Arc::new(source);
        // 16 callers at once: one fetch.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let provider = provider.clone();
            tasks.spawn(async move { provider.get().await.unwrap().secret_id().to_owned() });
        }
        let ids = tasks.join_all().await;
        assert!(ids.iter().all(|id| id == "AKID0"), "{ids:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Half a second later the first is within the margin, still valid: the next calls
        // get it at once while one refresh runs beside them.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(provider.get().await.unwrap().secret_id(), "AKID0");
        assert_eq!(provider.get().await.unwrap().secret_id(), "AKID0");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(provider.get().await.unwrap().secret_id(), "AKID1");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn callers_with_valid_keys_never_wait_for_a_source_that_hangs() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let source = RefreshingCredentials::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n > 0 {
                    // Every later fetch never answers.
                    std::future::pending::<()>().await;
                }
                Ok(Credentials::new("AKID0", "key")?
                    .with_expiry(SystemTime::now() + Duration::from_millis(1500)))
            }
        })
        .refresh_margin(Duration::from_secs(1));
        assert_eq!(source.get().await.unwrap().secret_id(), "AKID0");
        // Inside the margin, still valid: the hanging refresh starts, and no caller waits
        // for it.
        tokio::time::sleep(Duration::from_millis(600)).await;
        for _ in 0..3 {
            let served = tokio::time::timeout(Duration::from_millis(50), source.get()).await;
            assert_eq!(
                served.expect("served at once").unwrap().secret_id(),
                "AKID0"
            );
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "one refresh, shared");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fetch_that_never_answers_ends_at_its_timeout() {
        let source = RefreshingCredentials::new(|| async {
            std::future::pending::<Result<Credentials, CredentialsError>>().await
        })
        .fetch_timeout(Duration::from_secs(2));
        let started = tokio::time::Instant::now();
        let Err(CredentialsError::Refresh(why)) = source.get().await else {
            panic!("a fetch that never answers must fail");
        };
        assert!(why.contains("did not answer within 2s"), "{why}");
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        // And it backs off: the next caller is refused at once.
        assert!(matches!(
            source.get().await,
            Err(CredentialsError::Refresh(_))
        ));
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[test]
    fn a_margin_too_large_to_add_refreshes_instead_of_panicking() {
        let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
        assert!(!good_for(in_an_hour, Duration::MAX));
        assert!(good_for(in_an_hour, Duration::from_secs(60)));
    }

    #[tokio::test]
    async fn a_source_that_returns_short_lived_keys_is_not_asked_on_every_attempt() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        // Every answer expires within the margin: a refresh never brings "fresh" keys.
        let source = RefreshingCredentials::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Credentials::new("AKIDshort", "key")?
                    .with_expiry(SystemTime::now() + Duration::from_secs(120)))
            }
        })
        .refresh_margin(Duration::from_secs(300));
        for _ in 0..20 {
            assert_eq!(source.get().await.unwrap().secret_id(), "AKIDshort");
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "asked once, then backed off"
        );
        // After the backoff (1 s at first), the source is asked again.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        source.get().await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // And the next wait is longer.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        source.get().await.unwrap();
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "the second backoff is 2 s"
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_reports_expired_ones() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let source = RefreshingCredentials::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => Ok(Credentials::new("AKID0", "key")?
                        .with_expiry(SystemTime::now() + Duration::from_millis(300))),
                    _ => Err(CredentialsError::Missing("the test source".to_owned())),
                }
            }
        })
        .refresh_margin(Duration::from_secs(60));
        assert_eq!(source.get().await.unwrap().secret_id(), "AKID0");
        // Within the margin, the refresh fails: the current ones still work.
        assert_eq!(source.get().await.unwrap().secret_id(), "AKID0");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(matches!(
            source.get().await,
            Err(CredentialsError::Refresh(_))
        ));
    }
}
