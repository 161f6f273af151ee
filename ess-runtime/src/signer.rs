//! TC3-HMAC-SHA256 request signing, exactly as the official SDKs sign: signed headers
//! `content-type;host`, the credential-scope date taken from the request's own timestamp
//! (UTC), and the derived signing key cached per (secret key, date).

use std::sync::Mutex;

use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

use crate::credentials::Secret;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Service name in the credential scope (`ess`).
    pub service: &'a str,
    /// The `Host` header exactly as sent (an RFC authority: `ess.tencentcloudapi.com`,
    /// `127.0.0.1:8080`).
    pub host: &'a str,
    /// The `Content-Type` header exactly as sent.
    pub content_type: &'a str,
    /// The body exactly as sent.
    pub payload: &'a [u8],
    /// Seconds since the Unix epoch, also sent as `X-TC-Timestamp`.
    pub timestamp: i64,
}

/// Signs requests; cheap to share, and caches the derived key for the current date.
#[derive(Default)]
pub struct Signer {
    cache: Mutex<Option<CachedKey>>,
}

struct CachedKey {
    /// The secret key the derived key came from (compared in constant time; zeroed on drop).
    secret: Secret,
    service: String,
    date: String,
    /// Zeroed when replaced or dropped, like the secret it came from.
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { .. }")
    }
}

impl Signer {
    /// A signer with an empty key cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Authorization` header value for `request`.
    pub fn authorization(
        &self,
        secret_id: &str,
        secret_key: &str,
        request: &Request<'_>,
    ) -> String {
        let date = Date::of(request.timestamp);
        let key = self.signing_key(secret_key, date.as_str(), request.service);
        // Both strings stream into their hashes piece by piece, never built.
        let payload_hash = hex_array(&Sha256::digest(request.payload).into());
        let mut canonical = Sha256::new();
        for part in canonical_parts(request, &payload_hash) {
            canonical.update(part);
        }
        let canonical_hash = hex_array(&canonical.finalize().into());
        let mut timestamp = itoa::Buffer::new();
        let mut mac = HmacSha256::new_from_slice(&*key).expect("HMAC takes keys of any length");
        for part in string_to_sign_parts(request, &mut timestamp, date.as_str(), &canonical_hash) {
            mac.update(part);
        }
        let signature = hex_array(&mac.finalize().into_bytes().into());
        let mut out = String::with_capacity(160 + secret_id.len());
        for part in [
            ALGORITHM,
            " Credential=",
            secret_id,
            "/",
            date.as_str(),
            "/",
            request.service,
            "/tc3_request, SignedHeaders=content-type;host, Signature=",
            // Hex digits are ASCII.
            std::str::from_utf8(&signature).unwrap_or_default(),
        ] {
            out.push_str(part);
        }
        out
    }

    fn signing_key(&self, secret_key: &str, date: &str, service: &str) -> Zeroizing<[u8; 32]> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(c) = cache.as_ref()
            && c.date == date
            && c.service == service
            && c.secret.matches(secret_key)
        {
            return c.key.clone();
        }
        let key = Zeroizing::new(derive_key(secret_key, date, service));
        *cache = Some(CachedKey {
            secret: Secret::new(secret_key),
            service: service.to_owned(),
            date: date.to_owned(),
            key: key.clone(),
        });
        key
    }
}

/// `kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request")`. The prefixed
/// secret and the intermediate keys are wiped before they are freed.
pub fn derive_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let mut prefixed = Zeroizing::new(Vec::with_capacity(3 + secret_key.len()));
    prefixed.extend_from_slice(b"TC3");
    prefixed.extend_from_slice(secret_key.as_bytes());
    let k_date = Zeroizing::new(hmac(&prefixed, date.as_bytes()));
    let k_service = Zeroizing::new(hmac(&*k_date, service.as_bytes()));
    hmac(&*k_service, b"tc3_request")
}

/// The canonical request: method, URI, query, headers, signed headers, payload hash.
pub fn canonical_request(request: &Request<'_>) -> String {
    let payload_hash = hex_array(&Sha256::digest(request.payload).into());
    concat(canonical_parts(request, &payload_hash))
}

/// The string to sign for `request` on `date`.
pub fn string_to_sign(request: &Request<'_>, date: &str) -> String {
    let canonical_hash = hex_array(&Sha256::digest(canonical_request(request).as_bytes()).into());
    concat(string_to_sign_parts(
        request,
        &mut itoa::Buffer::new(),
        date,
        &canonical_hash,
    ))
}

/// The canonical request in pieces: method, URI, query, headers, signed headers, and the
/// payload's hash (hex).
fn canonical_parts<'a>(request: &Request<'a>, payload_hash: &'a [u8; 64]) -> [&'a [u8]; 6] {
    [
        b"POST\n/\n\ncontent-type:",
        request.content_type.as_bytes(),
        b"\nhost:",
        request.host.as_bytes(),
        b"\n\ncontent-type;host\n",
        payload_hash,
    ]
}

/// The string to sign in pieces: algorithm, timestamp, credential scope, and the canonical
/// request's hash (hex).
fn string_to_sign_parts<'a>(
    request: &Request<'a>,
    timestamp: &'a mut itoa::Buffer,
    date: &'a str,
    canonical_hash: &'a [u8; 64],
) -> [&'a [u8]; 9] {
    [
        ALGORITHM.as_bytes(),
        b"\n",
        timestamp.format(request.timestamp).as_bytes(),
        b"\n",
        date.as_bytes(),
        b"/",
        request.service.as_bytes(),
        b"/tc3_request\n",
        canonical_hash,
    ]
}

/// The pieces as one string (all of them are UTF-8).
fn concat<const N: usize>(parts: [&[u8]; N]) -> String {
    String::from_utf8(parts.concat()).unwrap_or_default()
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// A SHA-256 value in lowercase hex, on the stack.
fn hex_array(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 15) as usize];
    }
    out
}

/// Lowercase hex, as TC3 writes hashes and signatures.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// `YYYY-MM-DD` of a Unix timestamp in UTC (the proleptic Gregorian calendar).
pub fn utc_date(timestamp: i64) -> String {
    Date::of(timestamp).as_str().to_owned()
}

/// A `YYYY-MM-DD` date, on the stack.
struct Date([u8; 10]);

impl Date {
    fn of(timestamp: i64) -> Date {
        let days = timestamp.div_euclid(86_400);
        // Days to civil date (H. Hinnant's algorithm), valid for any i64 day count we can meet.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = (yoe + era * 400 + i64::from(month <= 2)).clamp(0, 9999);
        let digit = |n: i64| b'0' + n as u8;
        Date([
            digit(year / 1000),
            digit(year / 100 % 10),
            digit(year / 10 % 10),
            digit(year % 10),
            b'-',
            digit(month / 10),
            digit(month % 10),
            b'-',
            digit(day / 10),
            digit(day % 10),
        ])
    }

    fn as_str(&self) -> &str {
        // Digits and dashes only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tencent's published worked example (cvm DescribeInstances).
    fn golden() -> Request<'static> {
        Request {
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            payload: br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            timestamp: 1_551_113_065,
        }
    }

    #[test]
    fn golden_vector() {
        let request = golden();
        assert_eq!(utc_date(request.timestamp), "2019-02-25");
        let canonical_hash = hex(&Sha256::digest(canonical_request(&request).as_bytes()));
        assert_eq!(
            canonical_hash,
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let auth = Signer::new().authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            &request,
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn the_cache_never_serves_another_date_or_key() {
        let signer = Signer::new();
        let mut request = golden();
        let first = signer.authorization("id", "key-1", &request);
        assert_eq!(
            first,
            signer.authorization("id", "key-1", &request),
            "cached key gives the same signature"
        );
        assert_ne!(first, signer.authorization("id", "key-2", &request));
        request.timestamp += 86_400;
        let next_day = signer.authorization("id", "key-1", &request);
        assert!(next_day.contains("/2019-02-26/cvm/"));
        assert_eq!(
            next_day,
            Signer::new().authorization("id", "key-1", &request)
        );
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_709_164_800), "2024-02-29");
        assert_eq!(utc_date(1_735_689_599), "2024-12-31");
        assert_eq!(utc_date(4_102_444_800), "2100-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
    }
}
