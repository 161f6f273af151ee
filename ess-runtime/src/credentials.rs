//! Credentials: static, from the environment, from the profile file, or the first of a chain.
//! The secret key and token are [`Secret`]s: never shown by `Debug` or `Display`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A secret string; formatting it prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
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

/// A SecretId / SecretKey pair, with an optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: String,
    secret_key: Secret,
    token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why credentials could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// The profile file cannot be read or parsed.
    #[error("profile file {path}: {problem}")]
    Profile {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl Credentials {
    /// Credentials from values; rejects empty values and surrounding white space.
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let secret_id = secret_id.into();
        let secret_key = secret_key.into();
        check("SecretId", &secret_id)?;
        check("SecretKey", &secret_key)?;
        Ok(Self {
            secret_id,
            secret_key: Secret(secret_key),
            token: None,
        })
    }

    /// Adds a session token (temporary credentials).
    pub fn with_token(mut self, token: impl Into<String>) -> Result<Self, CredentialsError> {
        let token = token.into();
        check("token", &token)?;
        self.token = Some(Secret(token));
        Ok(self)
    }

    /// From `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and, when set,
    /// `TENCENTCLOUD_SESSION_TOKEN`.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let (Some(id), Some(key)) = (
            get("TENCENTCLOUD_SECRET_ID"),
            get("TENCENTCLOUD_SECRET_KEY"),
        ) else {
            return Err(CredentialsError::Missing(
                "TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY".to_owned(),
            ));
        };
        let credentials = Self::new(id, key)?;
        match get("TENCENTCLOUD_SESSION_TOKEN").filter(|t| !t.is_empty()) {
            Some(token) => credentials.with_token(token),
            None => Ok(credentials),
        }
    }

    /// From the `[default]` section of a profile file (`secret_id`, `secret_key`, optional
    /// `token`), as the official CLI writes `~/.tencentcloud/credentials`.
    pub fn from_profile_file(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|e| CredentialsError::Profile {
            path: path.display().to_string(),
            problem: e.to_string(),
        })?;
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
                let value = value.trim().to_owned();
                match name.trim() {
                    "secret_id" => id = Some(value),
                    "secret_key" => key = Some(value),
                    "token" if !value.is_empty() => token = Some(value),
                    _ => {}
                }
            }
        }
        let (Some(id), Some(key)) = (id, key) else {
            return Err(CredentialsError::Missing(format!(
                "the [default] section of {}",
                path.display()
            )));
        };
        let credentials = Self::new(id, key)?;
        match token {
            Some(token) => credentials.with_token(token),
            None => Ok(credentials),
        }
    }

    /// The profile file the official tools use: `~/.tencentcloud/credentials`.
    pub fn default_profile_path() -> Option<PathBuf> {
        std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(".tencentcloud").join("credentials"))
    }

    /// The default chain: the environment, then the profile file.
    pub fn from_default_chain() -> Result<Self, CredentialsError> {
        match Self::from_env() {
            Err(CredentialsError::Missing(_)) => {}
            other => return other,
        }
        match Self::default_profile_path() {
            Some(path) if path.exists() => Self::from_profile_file(&path),
            _ => Err(CredentialsError::Missing(
                "the environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY) or ~/.tencentcloud/credentials".to_owned(),
            )),
        }
    }

    /// The SecretId (not a secret: it names the key).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The SecretKey.
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The session token, if any.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            Credentials::new("AKID", "k")
                .unwrap()
                .with_token(" t")
                .is_err()
        );
    }

    #[test]
    fn environment_lookup() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = Credentials::from_lookup(env(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "key"),
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
        assert!(matches!(
            Credentials::from_lookup(env(&[("TENCENTCLOUD_SECRET_ID", "id")])),
            Err(CredentialsError::Missing(_))
        ));
    }

    #[test]
    fn profile_file() {
        let dir = std::env::temp_dir().join(format!("ess-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        std::fs::write(
            &path,
            "[other]\nsecret_id = no\n\n[default]\nsecret_id = AKIDp\nsecret_key = pkey\n",
        )
        .unwrap();
        let c = Credentials::from_profile_file(&path).unwrap();
        assert_eq!((c.secret_id(), c.secret_key().expose()), ("AKIDp", "pkey"));
        std::fs::write(&path, "[other]\nsecret_id = x\nsecret_key = y\n").unwrap();
        assert!(matches!(
            Credentials::from_profile_file(&path),
            Err(CredentialsError::Missing(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(
            Credentials::from_profile_file(&dir.join("none")),
            Err(CredentialsError::Profile { .. })
        ));
    }
}
