//! Logs of a call through the transport, at TRACE level, never carry secrets or sensitive
//! values. Alone in its test binary: tracing caches each callsite's interest process-wide,
//! and tests on other threads without a subscriber would race with this one.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use ess_runtime::call;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_logs_never_carry_secrets_or_sensitive_values() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let script = vec![
                service_error("InternalError"),
                service_error("ResourceNotFound.Flow"),
            ];
            let (url, _server) = serve(script).await;
            let t = transport(&url, fast_retries(3));
            let _ = call(&t, &Safe(ping())).await;
            let _ = call(&t, &Safe(ping())).await;
        });
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("CreateFlowSignUrl") && logs.contains("attempt"),
        "nothing was traced:\n{logs}"
    );
    assert!(
        logs.contains("request_id=\"r-err\""),
        "the RequestId is traced:\n{logs}"
    );
    for secret in [SECRET_KEY, TOKEN, MOBILE, "TC3-HMAC-SHA256", "Signature="] {
        assert!(
            !logs.contains(secret),
            "`{secret}` appears in the logs:\n{logs}"
        );
    }
}
