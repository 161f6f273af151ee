//! TC3-HMAC-SHA256 verification as the service does it: the `Authorization` header's
//! credential scope and signed headers, the canonical request rebuilt from the headers as
//! received (the raw `Host`, whatever the client put there), and the +-300 s window.

use std::collections::HashMap;
use std::sync::Mutex;

use ess_runtime::signer;
use hmac::{Hmac, Mac};
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

/// How far `X-TC-Timestamp` may be from the emulator's clock, in seconds.
pub(crate) const WINDOW_SECONDS: i64 = 300;

/// Why a request is not authenticated: the code the service answers and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// A key the emulator accepts.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) secret_key: String,
    /// When set, requests must carry it as `X-TC-Token` (temporary credentials).
    pub(crate) token: Option<String>,
    /// When set, the key is refused from then on (temporary credentials).
    pub(crate) expires_at: Option<std::time::SystemTime>,
    /// The sub-account the key belongs to: its rate limits are counted there.
    pub(crate) account: String,
}

/// The accepted keys and a cache of derived signing keys.
pub(crate) struct Verifier {
    keys: HashMap<String, Key>,
    service: String,
    /// Derived keys per (SecretId, date); bounded by keys x dates in the window.
    derived: Mutex<HashMap<(String, String), [u8; 32]>>,
}

/// The parts of `Authorization: TC3-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`.
struct Authorization<'a> {
    secret_id: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

impl Verifier {
    pub(crate) fn new(keys: HashMap<String, Key>, service: &str) -> Self {
        Self {
            keys,
            service: service.to_owned(),
            derived: Mutex::new(HashMap::new()),
        }
    }

    /// When the key `secret_id` expires, if it does.
    pub(crate) fn expires_at(&self, secret_id: &str) -> Option<std::time::SystemTime> {
        self.keys.get(secret_id)?.expires_at
    }

    /// The sub-account a verified key belongs to (the key itself when none was given).
    pub(crate) fn account<'a>(&'a self, secret_id: &'a str) -> &'a str {
        self.keys
            .get(secret_id)
            .map_or(secret_id, |k| k.account.as_str())
    }

    /// Verifies a request; on success, the SecretId it was signed with.
    pub(crate) fn verify<'h>(
        &self,
        headers: &'h HeaderMap,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        now: i64,
    ) -> Result<&'h str, Refusal> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let raw = text("authorization").ok_or_else(|| {
            refuse(
                "AuthFailure.InvalidAuthorization",
                "the request has no usable Authorization header",
            )
        })?;
        let auth = parse_authorization(raw).ok_or_else(|| {
            refuse(
                "AuthFailure.InvalidAuthorization",
                "Authorization must be `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=.., Signature=..`",
            )
        })?;
        let timestamp: i64 = text("x-tc-timestamp")
            .ok_or_else(|| refuse("MissingParameter", "the X-TC-Timestamp header is missing"))?
            .trim()
            .parse()
            .map_err(|_| refuse("InvalidParameter", "X-TC-Timestamp must be Unix seconds"))?;
        if (now - timestamp).abs() > WINDOW_SECONDS {
            return Err(refuse(
                "AuthFailure.SignatureExpire",
                format!(
                    "the signature expired: X-TC-Timestamp {timestamp} is more than {WINDOW_SECONDS} s from the server time {now}"
                ),
            ));
        }
        if auth.service != self.service {
            return Err(refuse(
                "AuthFailure.InvalidAuthorization",
                format!(
                    "the credential scope names service `{}`, expected `{}`",
                    auth.service, self.service
                ),
            ));
        }
        let date = signer::utc_date(timestamp);
        if auth.date != date {
            return Err(refuse(
                "AuthFailure.SignatureFailure",
                format!(
                    "the credential scope date {} is not the UTC date of X-TC-Timestamp ({date})",
                    auth.date
                ),
            ));
        }
        let signed: Vec<&str> = auth.signed_headers.split(';').collect();
        // Tencent's signing doc: SignedHeaders lists the lowercase names in ascending order.
        if !signed.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(refuse(
                "AuthFailure.InvalidAuthorization",
                "SignedHeaders must list the header names in ascending order, each once",
            ));
        }
        if !signed.contains(&"content-type") || !signed.contains(&"host") {
            return Err(refuse(
                "AuthFailure.InvalidAuthorization",
                "SignedHeaders must include content-type and host",
            ));
        }
        let Some(key) = self.keys.get(auth.secret_id) else {
            return Err(refuse(
                "AuthFailure.SecretIdNotFound",
                "the SecretId is not known to this emulator",
            ));
        };
        let mut canonical_headers = String::new();
        for name in &signed {
            if *name != name.to_ascii_lowercase() || name.is_empty() {
                return Err(refuse(
                    "AuthFailure.InvalidAuthorization",
                    "SignedHeaders must be lowercase names separated by `;`",
                ));
            }
            let value = text(name).ok_or_else(|| {
                refuse(
                    "AuthFailure.SignatureFailure",
                    format!("the signed header `{name}` is missing"),
                )
            })?;
            // Names and values lowercased and trimmed, as Tencent's signing doc specifies (its
            // own example signs `x-tc-action:describeinstances`).
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(&value.trim().to_ascii_lowercase());
            canonical_headers.push('\n');
        }
        // The official SDKs' `unsignedPayload` option: the literal stands for the body in
        // the signature (the body is then not covered by it).
        let payload: &[u8] = match text("x-tc-content-sha256") {
            Some(v) if v.trim() == "UNSIGNED-PAYLOAD" => b"UNSIGNED-PAYLOAD",
            _ => body,
        };
        let canonical_request = format!(
            "{method}\n{path}\n{query}\n{canonical_headers}\n{}\n{}",
            auth.signed_headers,
            signer::hex(&Sha256::digest(payload))
        );
        let string_to_sign = format!(
            "TC3-HMAC-SHA256\n{timestamp}\n{date}/{}/tc3_request\n{}",
            self.service,
            signer::hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let signing_key = self.signing_key(auth.secret_id, &key.secret_key, &date);
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&signing_key).expect("HMAC takes keys of any length");
        mac.update(string_to_sign.as_bytes());
        let expected = unhex(auth.signature).unwrap_or_default();
        if mac.verify_slice(&expected).is_err() {
            return Err(refuse(
                "AuthFailure.SignatureFailure",
                "the signature does not match the request (check the SecretKey, the Host and Content-Type headers as sent, and the body)",
            ));
        }
        match (&key.token, text("x-tc-token")) {
            (Some(expected), Some(sent)) if constant_time_eq(expected, sent) => {}
            (Some(_), _) => {
                return Err(refuse(
                    "AuthFailure.TokenFailure",
                    "this SecretId is temporary: X-TC-Token is missing or wrong",
                ));
            }
            (None, _) => {}
        }
        Ok(auth.secret_id)
    }

    fn signing_key(&self, secret_id: &str, secret_key: &str, date: &str) -> [u8; 32] {
        let mut cache = self.derived.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = cache.get(&(secret_id.to_owned(), date.to_owned())) {
            return *key;
        }
        if cache.len() > 4 * self.keys.len() {
            // Only dates within the window are ever asked for; forget old days.
            cache.clear();
        }
        let key = signer::derive_key(secret_key, date, &self.service);
        cache.insert((secret_id.to_owned(), date.to_owned()), key);
        key
    }
}

fn parse_authorization(raw: &str) -> Option<Authorization<'_>> {
    let rest = raw.trim().strip_prefix("TC3-HMAC-SHA256 ")?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let (secret_id, date, service, terminator) =
        (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if terminator != "tc3_request" || scope.next().is_some() || secret_id.is_empty() {
        return None;
    }
    Some(Authorization {
        secret_id,
        date,
        service,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn verifier() -> Verifier {
        let key = Key {
            secret_key: KEY.to_owned(),
            token: None,
            expires_at: None,
            account: ID.to_owned(),
        };
        Verifier::new(HashMap::from([(ID.to_owned(), key)]), "ess")
    }

    /// Headers signed by the runtime's signer (itself checked against Tencent's vector).
    fn signed(host: &str, body: &[u8], timestamp: i64) -> HeaderMap {
        let authorization = signer::Signer::new().authorization(
            ID,
            KEY,
            &signer::Request {
                service: "ess",
                host,
                content_type: "application/json",
                payload: body,
                timestamp,
            },
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(host).unwrap());
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("x-tc-timestamp", HeaderValue::from(timestamp));
        headers.insert(
            "authorization",
            HeaderValue::from_str(&authorization).unwrap(),
        );
        headers
    }

    #[test]
    fn accepts_what_the_official_algorithm_signs_and_refuses_each_flaw() {
        let v = verifier();
        let now = 1_700_000_000;
        let body = br#"{"FlowId":"x"}"#;
        // tccli signs the Host it sends, scheme included.
        for host in ["127.0.0.1:8080", "http://127.0.0.1:8080"] {
            let headers = signed(host, body, now);
            assert_eq!(v.verify(&headers, "POST", "/", "", body, now + 299), Ok(ID));
        }
        let headers = signed("127.0.0.1:8080", body, now);
        let code = |r: Result<&str, Refusal>| r.unwrap_err().code;
        assert_eq!(
            code(v.verify(&headers, "POST", "/", "", br#"{"FlowId":"y"}"#, now)),
            "AuthFailure.SignatureFailure"
        );
        assert_eq!(
            code(v.verify(&headers, "POST", "/", "", body, now + 301)),
            "AuthFailure.SignatureExpire"
        );
        let mut other_host = headers.clone();
        other_host.insert("host", HeaderValue::from_static("127.0.0.1:9090"));
        assert_eq!(
            code(v.verify(&other_host, "POST", "/", "", body, now)),
            "AuthFailure.SignatureFailure"
        );
        let mut unknown = headers.clone();
        let auth = headers["authorization"]
            .to_str()
            .unwrap()
            .replace(ID, "AKIDunknown");
        unknown.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert_eq!(
            code(v.verify(&unknown, "POST", "/", "", body, now)),
            "AuthFailure.SecretIdNotFound"
        );
        let mut garbled = headers.clone();
        garbled.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(
            code(v.verify(&garbled, "POST", "/", "", body, now)),
            "AuthFailure.InvalidAuthorization"
        );
        let mut wrong_date = headers.clone();
        let auth = headers["authorization"]
            .to_str()
            .unwrap()
            .replace("2023-11-14", "2023-11-13");
        wrong_date.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        assert_eq!(
            code(v.verify(&wrong_date, "POST", "/", "", body, now)),
            "AuthFailure.SignatureFailure"
        );
    }

    /// Headers signed the way Tencent's signing doc spells it out, with `signed` (name,
    /// value as sent) in the order given: names and values lowercased and trimmed in the
    /// canonical headers, SignedHeaders joined in that order.
    fn doc_signed(signed: &[(&str, &str)], body: &[u8], timestamp: i64) -> HeaderMap {
        let date = signer::utc_date(timestamp);
        let canonical: String = signed
            .iter()
            .map(|(n, v)| format!("{}:{}\n", n.to_lowercase(), v.trim().to_lowercase()))
            .collect();
        let names: Vec<String> = signed.iter().map(|(n, _)| n.to_lowercase()).collect();
        let names = names.join(";");
        let request = format!(
            "POST\n/\n\n{canonical}\n{names}\n{}",
            signer::hex(&Sha256::digest(body))
        );
        let to_sign = format!(
            "TC3-HMAC-SHA256\n{timestamp}\n{date}/ess/tc3_request\n{}",
            signer::hex(&Sha256::digest(request.as_bytes()))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&signer::derive_key(KEY, &date, "ess"))
            .expect("any key length");
        mac.update(to_sign.as_bytes());
        let signature = signer::hex(&mac.finalize().into_bytes());
        let mut headers = HeaderMap::new();
        for (name, value) in signed {
            headers.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers.insert("x-tc-timestamp", HeaderValue::from(timestamp));
        let authorization = format!(
            "TC3-HMAC-SHA256 Credential={ID}/{date}/ess/tc3_request, SignedHeaders={names}, Signature={signature}"
        );
        headers.insert(
            "authorization",
            HeaderValue::from_str(&authorization).unwrap(),
        );
        headers
    }

    #[test]
    fn a_request_signed_like_the_signing_docs_example_verifies() {
        let v = verifier();
        let now = 1_700_000_000;
        let body = br#"{"FlowId":"x"}"#;
        // The doc's example signs a third header, with its value lowercased.
        let headers = doc_signed(
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("host", "ess.tencentcloudapi.com"),
                ("x-tc-action", "CreateFlowSignUrl"),
            ],
            body,
            now,
        );
        assert_eq!(v.verify(&headers, "POST", "/", "", body, now), Ok(ID));
        // SignedHeaders out of order is refused, not guessed at.
        let unsorted = doc_signed(
            &[
                ("host", "ess.tencentcloudapi.com"),
                ("content-type", "application/json"),
            ],
            body,
            now,
        );
        assert_eq!(
            v.verify(&unsorted, "POST", "/", "", body, now)
                .unwrap_err()
                .code,
            "AuthFailure.InvalidAuthorization"
        );
    }

    #[test]
    fn temporary_keys_need_their_token() {
        let key = Key {
            secret_key: KEY.to_owned(),
            token: Some("tok".to_owned()),
            expires_at: None,
            account: ID.to_owned(),
        };
        let v = Verifier::new(HashMap::from([(ID.to_owned(), key)]), "ess");
        let now = 1_700_000_000;
        let mut headers = signed("h", b"{}", now);
        assert_eq!(
            v.verify(&headers, "POST", "/", "", b"{}", now)
                .unwrap_err()
                .code,
            "AuthFailure.TokenFailure"
        );
        headers.insert("x-tc-token", HeaderValue::from_static("tok"));
        assert_eq!(v.verify(&headers, "POST", "/", "", b"{}", now), Ok(ID));
    }
}
