//! The callback receiver: Tencent's published sample decrypts to its published plaintext;
//! random events survive seal -> receive; tampered bodies, bad padding, other keys and bad
//! signatures are refused, and no error or `Debug` shows a value.

use std::path::PathBuf;

use ess_runtime::callback::{
    Callback, CallbackError, CallbackEvent, CallbackFormat, CallbackKeys, Delivery, RawEvent,
    decode_data,
};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde::Deserialize;

const KEY: &str = "0123456789abcdefghijklmnopqrstuv";
const TOKEN: &str = "callback-token";

/// A flow's change, as far as these tests read it.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct FlowChange {
    flow_id: String,
    flow_callback_status: i64,
    operate: String,
    approvers: Vec<Approver>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Approver {
    approver_mobile: String,
    approve_callback_status: i64,
}

/// Flow changes typed, anything else raw.
#[derive(Debug)]
enum Event {
    Flow(FlowChange),
    Other(RawEvent),
}

impl CallbackEvent for Event {
    fn decode(msg_type: &str, data: &str) -> Result<Self, CallbackError> {
        Ok(match msg_type {
            "FlowStatusChange" => Event::Flow(decode_data(data)?),
            _ => Event::Other(RawEvent::new(data)?),
        })
    }
}

fn headers(signature: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(signature) = signature {
        headers.insert(
            "content-signature",
            HeaderValue::from_str(signature).unwrap(),
        );
    }
    headers
}

fn event<E: std::fmt::Debug>(delivery: Delivery<E>) -> Callback<E> {
    match delivery {
        Delivery::Event(callback) => callback,
        other => panic!("an event was expected, not {other:?}"),
    }
}

/// Tencent's sample (ESS FAQ): key, base64 ciphertext and plaintext, kept beside the project
/// in shared/spec-sources (never committed here), or in the directory `ESS_SHARED_DIR` names.
fn sample_vector() -> (String, String, String) {
    let shared = std::env::var_os("ESS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let path = shared.join("spec-sources/callbacks/v1-sample-vector.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "Tencent's callback sample vector is read from {} ({e}): the reference sources \
             live beside the project",
            path.display()
        )
    });
    let after = |label: &str| {
        let mut lines = text.lines().skip_while(|line| !line.starts_with(label));
        lines.next().expect(label);
        lines.next().expect(label).trim().to_owned()
    };
    let key = text
        .lines()
        .find_map(|line| line.split("(CallbackUrlKey, ASCII, 32 bytes): ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the key line")
        .to_owned();
    (key, after("CIPHERTEXT_BASE64:"), after("PLAINTEXT"))
}

#[test]
fn tencents_sample_decrypts_to_its_plaintext() {
    let (key, ciphertext, plaintext) = sample_vector();
    let keys = CallbackKeys::unsigned(&key).unwrap();
    let raw = event(
        keys.receive::<RawEvent>(&headers(None), ciphertext.as_bytes())
            .unwrap(),
    );
    assert_eq!(raw.format, CallbackFormat::V1);
    assert_eq!(raw.msg_type, "FlowStatusChange");
    assert_eq!(raw.msg_id, None);
    assert_eq!(raw.event.json(), plaintext);

    // The same, typed; a body with a trailing newline reads the same.
    let body = format!("{ciphertext}\n");
    let typed = event(
        keys.receive::<Event>(&headers(None), body.as_bytes())
            .unwrap(),
    );
    let Event::Flow(flow) = typed.event else {
        panic!("a version 1 callback is a flow's change");
    };
    assert_eq!(flow.flow_callback_status, 4);
    assert_eq!(flow.operate, "sign");
    assert_eq!(flow.approvers.len(), 1);
    assert_eq!(flow.approvers[0].approve_callback_status, 3);
}

fn envelope(msg_id: &str, msg_type: &str, data: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "MsgId": msg_id,
        "MsgType": msg_type,
        "MsgVersion": "CustomApp",
        "MsgData": data,
    }))
    .unwrap()
}

fn flow_data(flow_id: &str, mobile: &str, status: i64) -> serde_json::Value {
    serde_json::json!({
        "FlowId": flow_id,
        "FlowCallbackStatus": status,
        "Operate": "sign",
        "Approvers": [{"ApproverMobile": mobile, "ApproveCallbackStatus": 3, "ApproverName": "张三"}],
        "CallbackUrl": "https://example.com/ess",
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_events_round_trip(
        msg_id in "[0-9a-f]{32}",
        flow_id in "yD[A-Za-z0-9]{30}",
        mobile in "1[3-9][0-9]{9}",
        status in 1i64..=21,
        other_type in "[A-Z][A-Za-z]{3,20}",
        note in "\\PC{0,40}",
        signed in any::<bool>(),
    ) {
        let keys = if signed {
            CallbackKeys::new(KEY, TOKEN).unwrap()
        } else {
            CallbackKeys::unsigned(KEY).unwrap()
        };
        let sealed = keys.seal(
            CallbackFormat::V2,
            &envelope(&msg_id, "FlowStatusChange", &flow_data(&flow_id, &mobile, status)),
        );
        prop_assert_eq!(sealed.signature.is_some(), signed);
        let got = event(keys.receive::<Event>(&headers(sealed.signature.as_deref()), &sealed.body).unwrap());
        prop_assert_eq!(got.format, CallbackFormat::V2);
        prop_assert_eq!(got.msg_id.as_deref(), Some(msg_id.as_str()));
        prop_assert_eq!(got.msg_version.as_deref(), Some("CustomApp"));
        let Event::Flow(flow) = got.event else { panic!("a flow change") };
        prop_assert_eq!(&flow.flow_id, &flow_id);
        prop_assert_eq!(flow.flow_callback_status, status);
        prop_assert_eq!(&flow.approvers[0].approver_mobile, &mobile);

        // A type the receiver does not know is kept raw, with its type.
        let data = serde_json::json!({ "Note": note, "N": status });
        let sealed = keys.seal(CallbackFormat::V2, &envelope(&msg_id, &other_type, &data));
        let got = event(keys.receive::<Event>(&headers(sealed.signature.as_deref()), &sealed.body).unwrap());
        prop_assert_eq!(&got.msg_type, &other_type);
        let Event::Other(raw) = got.event else { panic!("kept raw") };
        prop_assert_eq!(serde_json::from_str::<serde_json::Value>(raw.json()).unwrap(), data);

        // Version 1: the bare data, base64 as the body.
        let bare = serde_json::to_vec(&flow_data(&flow_id, &mobile, status)).unwrap();
        let sealed = keys.seal(CallbackFormat::V1, &bare);
        prop_assert_eq!(sealed.content_type, "text/plain");
        let got = event(keys.receive::<Event>(&headers(sealed.signature.as_deref()), &sealed.body).unwrap());
        prop_assert_eq!(got.format, CallbackFormat::V1);
        let Event::Flow(flow) = got.event else { panic!("a flow change") };
        prop_assert_eq!(&flow.flow_id, &flow_id);
    }
}

fn sealed_flow(keys: &CallbackKeys) -> ess_runtime::callback::Sealed {
    keys.seal(
        CallbackFormat::V2,
        &envelope(
            "0123456789abcdef0123456789abcdef",
            "FlowStatusChange",
            &flow_data("yDflow", "13800000000", 4),
        ),
    )
}

#[test]
fn signatures_are_checked_before_anything_else() {
    let keys = CallbackKeys::new(KEY, TOKEN).unwrap();
    let sealed = sealed_flow(&keys);
    let signature = sealed.signature.clone().unwrap();
    assert_eq!(signature, signature_of(TOKEN, &sealed.body));

    let receive = |signature: Option<&str>, body: &[u8]| {
        keys.receive::<Event>(&headers(signature), body).map(|_| ())
    };
    assert_eq!(receive(Some(&signature), &sealed.body), Ok(()));
    // Upper-case hex is the same signature.
    let upper = format!("sha256={}", signature["sha256=".len()..].to_uppercase());
    assert_eq!(receive(Some(&upper), &sealed.body), Ok(()));

    assert_eq!(
        receive(None, &sealed.body),
        Err(CallbackError::MissingSignature)
    );
    for malformed in ["", "sha256=", "sha1=00", "sha256=zz", &signature[..40]] {
        assert_eq!(
            receive(Some(malformed), &sealed.body),
            Err(CallbackError::MalformedSignature),
            "{malformed}"
        );
    }
    // Another token's signature.
    let other = CallbackKeys::new(KEY, "another-token").unwrap();
    let forged = other.seal(CallbackFormat::V2, b"{}").signature.unwrap();
    assert_eq!(
        receive(Some(&forged), &sealed.body),
        Err(CallbackError::BadSignature)
    );

    // One byte changed anywhere in the body: refused by the signature, not read.
    for at in [0, sealed.body.len() / 2, sealed.body.len() - 1] {
        let mut tampered = sealed.body.clone();
        tampered[at] ^= 0x01;
        assert_eq!(
            receive(Some(&signature), &tampered),
            Err(CallbackError::BadSignature),
            "byte {at}"
        );
    }
    // Even a body that is no callback at all.
    assert_eq!(
        receive(Some(&signature), b"not json"),
        Err(CallbackError::BadSignature)
    );
}

/// Receives `body` signed with the keys' own token: what decryption says once the
/// signature has proved the body authentic.
fn receive_authentic(keys: &CallbackKeys, body: &[u8]) -> Result<(), CallbackError> {
    let signature = keys.sign(body);
    keys.receive::<RawEvent>(&headers(signature.as_deref()), body)
        .map(|_| ())
}

#[test]
fn other_keys_bad_padding_and_broken_bodies_are_refused() {
    let keys = CallbackKeys::new(KEY, TOKEN).unwrap();
    let unsigned = CallbackKeys::unsigned(KEY).unwrap();
    let sealed = sealed_flow(&keys);

    // Another key: the padding (or, rarely, the JSON) gives it away; never an event.
    let other = CallbackKeys::new("vutsrqponmlkjihgfedcba9876543210", TOKEN).unwrap();
    let got = other.receive::<Event>(&headers(sealed.signature.as_deref()), &sealed.body);
    assert!(
        matches!(
            got,
            Err(CallbackError::Decrypt | CallbackError::Decode { .. })
        ),
        "{got:?}"
    );

    // Ciphertext whose last block decrypts to bad padding: a last byte of 0 or over 16, or
    // pad bytes that differ. Signed, the receiver says so; unsigned, every failure is one
    // opaque error (no padding oracle).
    let mut refused = Vec::new();
    for plaintext in [
        &b"0123456789abcde\x00"[..],
        b"0123456789abcde\x11",
        b"0123456789abc\x01\x03\x03",
    ] {
        // Sealing adds a full block of padding; dropping it leaves the plaintext's own
        // last byte as the padding.
        let sealed = keys.seal(CallbackFormat::V1, plaintext);
        let bytes = base64_decode(&sealed.body);
        let body = base64_encode(&bytes[..16]);
        assert_eq!(
            receive_authentic(&keys, body.as_bytes()),
            Err(CallbackError::Decrypt)
        );
        refused.push(body.into_bytes());
    }
    // Not a whole number of blocks.
    let bytes = base64_decode(&sealed.body);
    let body = base64_encode(&bytes[..bytes.len() - 1]);
    assert_eq!(
        receive_authentic(&keys, body.as_bytes()),
        Err(CallbackError::Decrypt)
    );
    refused.push(body.into_bytes());

    for (body, error) in [
        (
            &b"%%%"[..],
            CallbackError::Malformed("the ciphertext is not base64"),
        ),
        (
            b"{\"encrypt\":\"%%%\"}",
            CallbackError::Malformed("the ciphertext is not base64"),
        ),
        (
            b"[1,2]",
            CallbackError::Malformed("the ciphertext is not base64"),
        ),
        (
            b"{\"encrypt\":",
            CallbackError::Malformed("a JSON body that is not an object"),
        ),
    ] {
        assert_eq!(
            receive_authentic(&keys, body),
            Err(error),
            "{}",
            String::from_utf8_lossy(body)
        );
        refused.push(body.to_vec());
    }
    // A plaintext of another shape (valid padding, not a callback).
    let not_json = keys.seal(CallbackFormat::V1, b"not json");
    assert!(matches!(
        receive_authentic(&keys, &not_json.body),
        Err(CallbackError::Decode { .. })
    ));
    refused.push(not_json.body);
    for body in &refused {
        assert_eq!(
            unsigned
                .receive::<RawEvent>(&headers(None), body)
                .map(|_| ()),
            Err(CallbackError::Unverified),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        keys.receive::<RawEvent>(&headers(None), &vec![b'A'; (1 << 20) + 1])
            .map(|_| ()),
        Err(CallbackError::TooLarge)
    );
    assert_eq!(
        CallbackKeys::unsigned("short").map(|_| ()),
        Err(CallbackError::KeyLength(5))
    );
    // An empty token would be an HMAC key anybody has.
    assert_eq!(
        CallbackKeys::new(KEY, "").map(|_| ()),
        Err(CallbackError::EmptyToken)
    );
}

#[tokio::test]
async fn a_body_is_read_through_the_size_cap_as_it_arrives() {
    use http_body_util::{BodyExt, StreamBody};
    let keys = CallbackKeys::new(KEY, TOKEN).unwrap();
    let sealed = sealed_flow(&keys);
    let signed = headers(sealed.signature.as_deref());
    let whole = http_body_util::Full::new(hyper::body::Bytes::from(sealed.body.clone()));
    assert!(matches!(
        keys.receive_body::<Event, _>(&signed, whole).await,
        Ok(Delivery::Event(_))
    ));
    // An endless body (no Content-Length): reading stops at the cap, and it is refused.
    let chunk = hyper::body::Bytes::from(vec![b'A'; 64 * 1024]);
    let endless = StreamBody::new(futures_util::stream::repeat_with(move || {
        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(chunk.clone()))
    }));
    assert_eq!(
        keys.receive_body::<Event, _>(&signed, endless.boxed())
            .await
            .map(|_| ()),
        Err(CallbackError::TooLarge)
    );
    // A declared length over the cap is refused unread.
    let mut declared = signed.clone();
    declared.insert(http::header::CONTENT_LENGTH, "2000000".parse().unwrap());
    let empty = http_body_util::Empty::<hyper::body::Bytes>::new();
    assert_eq!(
        keys.receive_body::<Event, _>(&declared, empty)
            .await
            .map(|_| ()),
        Err(CallbackError::TooLarge)
    );
}

fn base64_decode(body: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text: &[u8] = if body.first() == Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap();
        return base64::engine::general_purpose::STANDARD
            .decode(value["encrypt"].as_str().unwrap())
            .unwrap();
    } else {
        body
    };
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_body_without_encrypt_is_a_probe() {
    let keys = CallbackKeys::unsigned(KEY).unwrap();
    for body in [&b"{}"[..], b" {\"ping\": 1}\n"] {
        assert!(matches!(
            keys.receive::<RawEvent>(&headers(None), body),
            Ok(Delivery::Probe)
        ));
    }
    // With a token, a probe is signed like everything else.
    let keys = CallbackKeys::new(KEY, TOKEN).unwrap();
    assert_eq!(
        keys.receive::<RawEvent>(&headers(None), b"{}")
            .map(|_| ())
            .unwrap_err(),
        CallbackError::MissingSignature
    );
    assert!(matches!(
        keys.receive::<RawEvent>(&headers(Some(&signature_of(TOKEN, b"{}"))), b"{}"),
        Ok(Delivery::Probe)
    ));
}

/// The signature as the facts define it, computed here on its own: HMAC-SHA256 of the raw
/// body keyed with the token, `sha256=` and lowercase hex.
fn signature_of(token: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn the_senders_signature_is_the_documented_hmac() {
    // What an emulator or a test puts in Content-Signature, against the facts computed
    // here on their own.
    for body in [&b"{}"[..], br#"{"encrypt":"abc="}"#, b"\x00\xff"] {
        assert_eq!(
            ess_runtime::callback::signature(TOKEN, body),
            signature_of(TOKEN, body)
        );
    }
}

#[test]
fn errors_and_debug_never_show_a_value() {
    let keys = CallbackKeys::new(KEY, TOKEN).unwrap();
    let debug = format!("{keys:?}");
    assert!(!debug.contains(KEY) && !debug.contains(TOKEN), "{debug}");

    // A mistyped status next to a mobile number: the error names the path, not the values.
    let data = serde_json::json!({
        "FlowId": "yDflow",
        "FlowCallbackStatus": "13800000000",
        "Operate": "sign",
        "Approvers": [],
    });
    let sealed = keys.seal(
        CallbackFormat::V2,
        &envelope("id", "FlowStatusChange", &data),
    );
    let error = keys
        .receive::<Event>(&headers(sealed.signature.as_deref()), &sealed.body)
        .unwrap_err();
    assert_eq!(
        error,
        CallbackError::Decode {
            path: "MsgData.FlowCallbackStatus".to_owned(),
            kind: "a value of another type or shape than documented",
        }
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("13800000000"), "{shown}");

    // An event kept raw shows its length only.
    let sealed = keys.seal(
        CallbackFormat::V2,
        &envelope(
            "id",
            "UserMobileChange",
            &serde_json::json!({"Mobile": "13800000000"}),
        ),
    );
    let got = keys
        .receive::<RawEvent>(&headers(sealed.signature.as_deref()), &sealed.body)
        .unwrap();
    let shown = format!("{got:?} {:?}", sealed);
    assert!(!shown.contains("13800000000"), "{shown}");
}
