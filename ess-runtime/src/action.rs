//! The contract between generated code and the runtime: each request type implements
//! [`Action`]; a [`Transport`] delivers its JSON body; [`call`] validates, sends and decodes.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ServiceError};
use crate::validate::Validate;

/// What generated code states about an action, on its request type.
pub trait Action: Serialize + Validate {
    /// Wire name (`CreateFlowSignUrl`).
    const NAME: &'static str;
    /// Endpoint group (`default`, or `file` for uploads).
    const ENDPOINT: &'static str;
    /// Requests per second the service allows, when stated.
    const RATE_LIMIT: Option<u32>;
    /// Whether the request may be re-sent after a network failure.
    const RETRY_SAFE: bool;
    /// Error codes the action may return.
    const ERRORS: &'static [&'static str];
    /// The response type.
    type Response: DeserializeOwned;
}

/// Delivers a request body to the service and returns the response body.
pub trait Transport {
    /// Sends `body` (JSON) for `action` to the `endpoint` group.
    fn send(
        &self,
        action: &'static str,
        endpoint: &'static str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;
}

/// Validates `request`, sends it, and decodes the response (or the service's error).
pub async fn call<A: Action, T: Transport + ?Sized>(
    transport: &T,
    request: &A,
) -> Result<A::Response, Error> {
    request.validate().map_err(Error::Validation)?;
    let body = serde_json::to_vec(request)
        .map_err(|e| Error::Transport(format!("cannot encode the request: {e}")))?;
    let bytes = transport.send(A::NAME, A::ENDPOINT, body).await?;
    decode::<A::Response>(&bytes)
}

/// Decodes `{"Response": {...}}`, turning `Response.Error` into [`Error::Service`].
pub fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, Error> {
    let mut envelope: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Transport(format!("the body is not JSON: {e}")))?;
    let Some(response) = envelope.get_mut("Response").map(serde_json::Value::take) else {
        return Err(Error::Transport(
            "the body has no `Response` object".to_owned(),
        ));
    };
    if let Some(error) = response.get("Error") {
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str()).unwrap_or_default().to_owned()
        };
        return Err(Error::Service(ServiceError {
            code: text(error.get("Code")),
            message: text(error.get("Message")),
            request_id: text(response.get("RequestId")),
        }));
    }
    serde_json::from_value(response).map_err(|e| Error::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Out {
        #[serde(rename = "RequestId")]
        request_id: String,
    }

    #[test]
    fn decodes_success_and_service_errors() {
        let ok: Out = decode(br#"{"Response":{"RequestId":"r-1","Extra":1}}"#).unwrap();
        assert_eq!(ok.request_id, "r-1");
        let err = decode::<Out>(br#"{"Response":{"Error":{"Code":"ResourceNotFound.Flow","Message":"no flow"},"RequestId":"r-2"}}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ResourceNotFound.Flow: no flow (RequestId r-2)"
        );
        assert!(matches!(decode::<Out>(b"<html>"), Err(Error::Transport(_))));
        assert!(matches!(
            decode::<Out>(br#"{"Response":{"RequestId":5}}"#),
            Err(Error::Decode(_))
        ));
    }
}
