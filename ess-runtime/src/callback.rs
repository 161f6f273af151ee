//! Callbacks: what ESS posts to the application's server when something happens. A
//! [`CallbackKeys`] checks the signature over the raw body (HMAC-SHA256 keyed with the
//! token, compared in constant time) before anything else, decrypts (AES-256-CBC, the IV
//! the key's first 16 bytes, PKCS#7 padding checked strictly) and decodes the envelope into
//! the application's event type. It never logs or displays a value: errors say what failed,
//! not what the callback held. [`CallbackKeys::seal`] does the sender's half, for emulators
//! and tests.

use std::fmt;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::credentials::Secret;

/// The header that carries the body's signature: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "content-signature";

/// The length of a callback key: AES-256 takes the key's 32 characters as its 32 bytes.
pub const KEY_LEN: usize = 32;

/// The largest callback body a receiver reads; larger ones are refused unread.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How long [`CallbackKeys::receive_body`] reads a body before giving up.
pub const RECEIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The MsgType of a version 1 callback, whose body is the bare data of a flow's change.
pub const V1_MSG_TYPE: &str = "FlowStatusChange";

/// The callback key and optional token of one registered URL (ModifyApplicationCallbackInfo's
/// CallbackKey and CallbackToken). Both are secrets: never printed, zeroed when dropped.
#[derive(Clone)]
pub struct CallbackKeys {
    key: Zeroizing<[u8; KEY_LEN]>,
    token: Option<Secret>,
}

impl fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackKeys")
            .field("key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a callback was refused. None of them carries a value from the callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The key is not 32 bytes.
    #[error("a callback key is {KEY_LEN} characters (AES-256), this one is {0} bytes long")]
    KeyLength(usize),
    /// The token is empty: an HMAC keyed with nothing is one anybody can compute.
    #[error(
        "the callback token is empty (anybody could sign with it); give the URL's token, or use CallbackKeys::unsigned"
    )]
    EmptyToken,
    /// An unsigned callback (keys built with [`CallbackKeys::unsigned`]) did not decrypt and
    /// decode. Every such failure is this one error, whatever went wrong, so that a sender
    /// cannot learn anything from the answer (telling bad padding from bad content would
    /// make the receiver a padding oracle).
    #[error("the unsigned callback was refused")]
    Unverified,
    /// The body could not be read (the connection failed, or it took longer than
    /// [`RECEIVE_TIMEOUT`]).
    #[error("the callback body could not be read ({0})")]
    Read(&'static str),
    /// A token is configured and the request carries no `Content-Signature`.
    #[error("the callback carries no Content-Signature, and a token is configured")]
    MissingSignature,
    /// The `Content-Signature` header is not `sha256=<hex of 32 bytes>`.
    #[error("the Content-Signature header is not `sha256=` and 64 hex digits")]
    MalformedSignature,
    /// The signature does not match the body: another token, or an altered body.
    #[error(
        "the callback's signature does not match its body (another token, or the body was altered)"
    )]
    BadSignature,
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("the callback body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The body is neither `{"encrypt": "<base64>"}` (version 2) nor base64 text (version 1).
    #[error("the callback body is neither JSON with `encrypt` nor base64 text ({0})")]
    Malformed(&'static str),
    /// The ciphertext does not decrypt under this key: its length is not a whole number of
    /// blocks, or the padding is wrong (another key, or an altered body).
    #[error("the callback does not decrypt with this key (length or padding is wrong)")]
    Decrypt,
    /// The plaintext is not the envelope or event it should be. The path names where; the
    /// value is never kept.
    #[error("the decrypted callback does not decode at `{path}`: {kind}")]
    Decode {
        /// Where in the JSON (`MsgData.Approvers[0].ApproveTime`).
        path: String,
        /// What went wrong, in general terms (syntax, a value of another type, the end).
        kind: &'static str,
    },
}

/// How a callback came: version 2 (`{"encrypt": ...}` around an envelope) or version 1 (raw
/// base64 of a flow's bare data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackFormat {
    /// `{"encrypt": "<base64>"}`, an envelope inside.
    V2,
    /// The body is the base64 text; the plaintext is a flow's data with no envelope.
    V1,
}

/// What a request to the callback URL was.
#[derive(Debug)]
#[non_exhaustive]
pub enum Delivery<E> {
    /// ESS checking that the URL answers (a body without `encrypt`): answer 200, nothing to
    /// do.
    Probe,
    /// An event.
    Event(Callback<E>),
}

/// One event and its envelope.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Callback<E> {
    /// The message's id (32 characters; distinct events have distinct ids): dedupe on it.
    /// `None` for version 1, which has no envelope.
    pub msg_id: Option<String>,
    /// The message type as sent (`FlowStatusChange`, `OperateSeal`, ...).
    pub msg_type: String,
    /// The envelope's version field (`CustomApp`), when there is one.
    pub msg_version: Option<String>,
    /// How it came.
    pub format: CallbackFormat,
    /// The event.
    pub event: E,
}

/// The events a receiver decodes: the generated `CallbackEvent`, or [`RawEvent`].
pub trait CallbackEvent: Sized {
    /// Decodes `data`, the JSON of a `msg_type` message's data.
    fn decode(msg_type: &str, data: &str) -> Result<Self, CallbackError>;
}

/// An event kept as its JSON, undecoded. Its `Debug` shows only the length: the data may
/// hold names, mobiles and ID numbers.
#[derive(Clone)]
pub struct RawEvent(Box<RawValue>);

impl RawEvent {
    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// Keeps `data` as it is (it must be JSON).
    pub fn new(data: &str) -> Result<Self, CallbackError> {
        RawValue::from_string(data.to_owned())
            .map(RawEvent)
            .map_err(|e| decode_error(String::new(), &e))
    }
}

impl fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawEvent(<{} bytes>)", self.0.get().len())
    }
}

impl CallbackEvent for RawEvent {
    fn decode(_: &str, data: &str) -> Result<Self, CallbackError> {
        RawEvent::new(data)
    }
}

/// Decodes `data` into `T`, naming the path of a failure and never its value.
pub fn decode_data<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, CallbackError> {
    decode_data_borrowed(data)
}

fn decode_error(path: String, error: &serde_json::Error) -> CallbackError {
    use serde_json::error::Category;
    // serde's message may quote the value (`invalid type: string "1380..."`): only its
    // category is kept.
    let kind = match error.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "not valid JSON",
        Category::Data => "a value of another type or shape than documented",
        Category::Eof => "the JSON ends early",
    };
    let path = if path.is_empty() || path == "." {
        "$".to_owned()
    } else {
        path
    };
    CallbackError::Decode { path, kind }
}

/// The version 2 body.
#[derive(Deserialize)]
struct Encrypted<'a> {
    #[serde(borrow)]
    encrypt: Option<&'a str>,
}

/// The envelope inside a version 2 callback.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "MsgId")]
    msg_id: Option<String>,
    #[serde(rename = "MsgType")]
    msg_type: String,
    #[serde(rename = "MsgVersion")]
    msg_version: Option<String>,
    #[serde(rename = "MsgData", borrow)]
    msg_data: Option<&'a RawValue>,
}

/// A sealed callback: the body to post and its `Content-Signature` (with a token).
#[derive(Clone)]
#[non_exhaustive]
pub struct Sealed {
    /// The request body.
    pub body: Vec<u8>,
    /// The `Content-Signature` value (`sha256=<hex>`), when a token is configured.
    pub signature: Option<String>,
    /// The `Content-Type`: `application/json` for version 2, `text/plain` for version 1.
    pub content_type: &'static str,
}

impl Sealed {
    /// A callback sent as plain JSON, as ESS sends one to a URL registered without a key
    /// (its shape is unconfirmed), with its `Content-Signature` when a token is set.
    pub fn plain(body: Vec<u8>, signature: Option<String>) -> Sealed {
        Sealed {
            body,
            signature,
            content_type: "application/json",
        }
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed(<{} bytes>)", self.body.len())
    }
}

type HmacSha256 = Hmac<Sha256>;

impl CallbackKeys {
    /// The keys of a URL registered with `key` (its 32 characters are the AES-256 key) and
    /// `token` (ModifyApplicationCallbackInfo's CallbackToken): every callback must carry a
    /// matching `Content-Signature`, checked before anything is decrypted. An empty token is
    /// refused.
    pub fn new(key: &str, token: &str) -> Result<Self, CallbackError> {
        if token.is_empty() {
            return Err(CallbackError::EmptyToken);
        }
        let mut keys = Self::unsigned(key)?;
        keys.token = Some(Secret::new(token));
        Ok(keys)
    }

    /// The keys of a URL registered with a `key` and no token: callbacks come unsigned, so
    /// nothing proves who sent them. AES-CBC without a signature is malleable (the IV is the
    /// key's first 16 bytes), so accept them only when the URL cannot be reached by others;
    /// register a token where you can and use [`new`](Self::new). Every failure of an
    /// unsigned body is one opaque [`CallbackError::Unverified`].
    pub fn unsigned(key: &str) -> Result<Self, CallbackError> {
        let bytes = key.as_bytes();
        let key: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CallbackError::KeyLength(bytes.len()))?;
        Ok(Self {
            key: Zeroizing::new(key),
            token: None,
        })
    }

    /// Reads one request to the callback URL from its headers and body as they arrive: the
    /// body is read no further than [`MAX_BODY_BYTES`] (a larger one is refused unread) and
    /// for no longer than [`RECEIVE_TIMEOUT`], then handled as [`receive`](Self::receive)
    /// does. For servers on hyper or axum (`axum::body::Body`), whose body has not been
    /// buffered yet.
    pub async fn receive_body<E, B>(
        &self,
        headers: &HeaderMap,
        body: B,
    ) -> Result<Delivery<E>, CallbackError>
    where
        E: CallbackEvent,
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        use http_body_util::{BodyExt, LengthLimitError, Limited};
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(CallbackError::TooLarge);
        }
        let reading = Limited::new(body, MAX_BODY_BYTES).collect();
        let collected = tokio::time::timeout(RECEIVE_TIMEOUT, reading)
            .await
            .map_err(|_| CallbackError::Read("it took longer than the receive timeout"))?
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    CallbackError::TooLarge
                } else {
                    CallbackError::Read("the connection failed")
                }
            })?;
        // Ciphertext (or a probe): nothing here is secret until decrypted, which `receive`
        // zeroes.
        self.receive(headers, &collected.to_bytes())
    }

    /// Reads one request to the callback URL: its headers and raw body, exactly as received
    /// (a server that has buffered the body already; see [`receive_body`](Self::receive_body)
    /// to read it through the size limit). With a token, the signature is checked first,
    /// over the raw bytes; then the body is decrypted and decoded. A body without `encrypt`
    /// is a [`Delivery::Probe`].
    pub fn receive<E: CallbackEvent>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Delivery<E>, CallbackError> {
        let signature = match headers.get(SIGNATURE_HEADER) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| CallbackError::MalformedSignature)?,
            ),
        };
        self.receive_signed(signature, body)
    }

    /// [`receive`](Self::receive), with the `Content-Signature` value already taken from the
    /// headers (for servers whose header types are not `http`'s).
    pub fn receive_signed<E: CallbackEvent>(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Delivery<E>, CallbackError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(CallbackError::TooLarge);
        }
        match &self.token {
            Some(token) => {
                let signature = signature.ok_or(CallbackError::MissingSignature)?;
                verify(token, signature, body)?;
                self.open(body)
            }
            // Unauthenticated: one answer for every failure, nothing an attacker can tell
            // apart.
            None => self.open(body).map_err(|_| CallbackError::Unverified),
        }
    }

    /// Decrypts and decodes a body whose signature (if any) checked out.
    fn open<E: CallbackEvent>(&self, body: &[u8]) -> Result<Delivery<E>, CallbackError> {
        let trimmed = body.trim_ascii();
        if trimmed.first() == Some(&b'{') {
            let encrypted: Encrypted<'_> = serde_json::from_slice(trimmed)
                .map_err(|_| CallbackError::Malformed("a JSON body that is not an object"))?;
            let Some(ciphertext) = encrypted.encrypt else {
                return Ok(Delivery::Probe);
            };
            let plaintext = self.decrypt(ciphertext.as_bytes())?;
            let text = plaintext_str(&plaintext)?;
            let envelope: Envelope<'_> = decode_data_borrowed(text)?;
            let data = envelope.msg_data.map_or("null", RawValue::get);
            let event = E::decode(&envelope.msg_type, data).map_err(|e| under("MsgData", e))?;
            return Ok(Delivery::Event(Callback {
                msg_id: envelope.msg_id,
                msg_type: envelope.msg_type,
                msg_version: envelope.msg_version,
                format: CallbackFormat::V2,
                event,
            }));
        }
        let plaintext = self.decrypt(trimmed)?;
        let event = E::decode(V1_MSG_TYPE, plaintext_str(&plaintext)?)?;
        Ok(Delivery::Event(Callback {
            msg_id: None,
            msg_type: V1_MSG_TYPE.to_owned(),
            msg_version: None,
            format: CallbackFormat::V1,
            event,
        }))
    }

    /// Decrypts base64 ciphertext; the plaintext is zeroed when dropped.
    fn decrypt(&self, base64: &[u8]) -> Result<Zeroizing<Vec<u8>>, CallbackError> {
        let mut buffer = Zeroizing::new(
            BASE64
                .decode(base64)
                .map_err(|_| CallbackError::Malformed("the ciphertext is not base64"))?,
        );
        let (key, iv) = (&self.key[..], &self.key[..16]);
        let decryptor = cbc::Decryptor::<Aes256>::new_from_slices(key, iv)
            .map_err(|_| CallbackError::Decrypt)?;
        // Checks the padding: 1 to 16 bytes, all equal to their count.
        let len = decryptor
            .decrypt_padded_mut::<Pkcs7>(&mut buffer)
            .map_err(|_| CallbackError::Decrypt)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }

    /// The `Content-Signature` of `body` as sent (`sha256=<hex>`), with a token; for a
    /// body that is not sealed, like a probe.
    pub fn sign(&self, body: &[u8]) -> Option<String> {
        self.token.as_ref().map(|token| sign(token, body))
    }

    /// Seals `plaintext` as ESS sends it: version 2 takes an envelope
    /// (`{"MsgId":..,"MsgType":..,"MsgVersion":..,"MsgData":..}`), version 1 a flow's bare
    /// data. Signed when a token is configured.
    pub fn seal(&self, format: CallbackFormat, plaintext: &[u8]) -> Sealed {
        let key: &[u8; KEY_LEN] = &self.key;
        let iv: [u8; 16] = std::array::from_fn(|i| key[i]);
        let ciphertext = cbc::Encryptor::<Aes256>::new(key.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
        let encoded = BASE64.encode(ciphertext);
        let (body, content_type) = match format {
            CallbackFormat::V2 => (
                serde_json::to_vec(&serde_json::json!({ "encrypt": encoded }))
                    .expect("a string serializes"),
                "application/json",
            ),
            CallbackFormat::V1 => (encoded.into_bytes(), "text/plain"),
        };
        let signature = self.sign(&body);
        Sealed {
            body,
            signature,
            content_type,
        }
    }
}

/// `sha256=<lowercase hex of HMAC-SHA256(token, body)>`.
fn sign(token: &Secret, body: &[u8]) -> String {
    signature(token.expose(), body)
}

/// The `Content-Signature` a sender puts on `body` with `token`: `sha256=` and the lowercase
/// hex of HMAC-SHA256 keyed with the token. The sender's half (emulators, tests).
pub fn signature(token: &str, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks `signature` (`sha256=<hex>`) over `body` in constant time.
fn verify(token: &Secret, signature: &str, body: &[u8]) -> Result<(), CallbackError> {
    let hex_digits = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(CallbackError::MalformedSignature)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut expected)
        .map_err(|_| CallbackError::MalformedSignature)?;
    let mut mac = HmacSha256::new_from_slice(token.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| CallbackError::BadSignature)
}

fn plaintext_str(plaintext: &[u8]) -> Result<&str, CallbackError> {
    std::str::from_utf8(plaintext).map_err(|_| CallbackError::Decode {
        path: "$".to_owned(),
        kind: "not UTF-8 text",
    })
}

fn decode_data_borrowed<'a, T: Deserialize<'a>>(data: &'a str) -> Result<T, CallbackError> {
    // Fast and strict first; only a failure pays for tracking the path, to name it.
    serde_json::from_str(data).map_err(|first| {
        let mut deserializer = serde_json::Deserializer::from_str(data);
        match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Err(e) => decode_error(e.path().to_string(), e.inner()),
            Ok(_) => decode_error(String::new(), &first),
        }
    })
}

/// `error`'s path, under `prefix`.
fn under(prefix: &str, error: CallbackError) -> CallbackError {
    match error {
        CallbackError::Decode { path, kind } => CallbackError::Decode {
            path: if path == "$" {
                prefix.to_owned()
            } else {
                format!("{prefix}.{path}")
            },
            kind,
        },
        other => other,
    }
}
