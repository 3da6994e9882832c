//! Every fault of a misbehaving server, against both operations: a typed error that keeps
//! what the server sent, in bounded time and memory, with no secret in any output.
//!
//! In the `traced` binary: it captures all tracing output, which a concurrent test without
//! a subscriber could hide (callsite interest is cached process-wide).

use std::time::{Duration, Instant};

use crate::support::faulty::{client, expected, kind, Fault, FaultyServer, TIMEOUT};
use crate::support::*;
use feishu_helpdesk::{Error, EventType, MAX_BODY_BYTES};

fn assert_no_secret(what: &str, text: &str) {
    let base64_token = "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl";
    for secret in [
        TENANT_ACCESS_TOKEN,
        APP_SECRET,
        HELPDESK_TOKEN,
        base64_token,
        HELPDESK_HEADER,
    ] {
        assert!(!text.contains(secret), "{what} shows a secret");
    }
}

#[tokio::test]
async fn every_fault_against_both_operations() {
    let captured = Captured::default();
    let _guard = captured.install();

    for fault in Fault::ALL {
        let server = FaultyServer::start(move |_| fault).await;
        let client = client(&server.base_url, 0);
        for operation in ["unsubscribe", "subscribe"] {
            let started = Instant::now();
            let result = match operation {
                "unsubscribe" => client.unsubscribe(&[EventType::TICKET_CREATED]).await,
                _ => client.subscribe(&[EventType::TICKET_CREATED]).await,
            };
            let elapsed = started.elapsed();
            let err = result.expect_err("a fault must be an error");
            let (expected_kind, status, log_id) = expected(fault);
            let context = format!("{fault:?} on {operation}: {err:?}");
            assert_eq!(kind(&err), expected_kind, "{context}");
            assert_eq!(err.http_status(), status, "{context}");
            assert_eq!(err.log_id(), log_id, "{context}");
            assert_eq!(err.code(), None, "{context}");
            assert!(
                elapsed < TIMEOUT + Duration::from_secs(2),
                "{context} took {elapsed:?}"
            );
            if let Error::UnexpectedResponse { body_excerpt, .. } = &err {
                assert!(body_excerpt.len() <= Error::BODY_EXCERPT_LIMIT + 3, "{context}");
            }
            assert_no_secret(
                &context,
                &format!("{err} {err:?} {:?}", std::error::Error::source(&err)),
            );
        }
        // The client stopped reading far short of the 50 MB on offer (socket buffers
        // take a few MB at most).
        let written = server.most_written.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            written < 16 * 1024 * 1024,
            "{fault:?}: the server wrote {written} bytes"
        );
        assert_eq!(
            server.token_requests.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{fault:?}"
        );
    }
    const { assert!(MAX_BODY_BYTES <= 16 * 1024 * 1024) };

    let refused = {
        client(&unreachable_base_url(), 0)
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap_err()
    };
    assert_eq!(kind(&refused), "Transport");
    assert_eq!(refused.http_status(), None);

    let log = captured.text();
    assert!(log.contains("feishu_helpdesk.call"), "nothing was traced");
    assert_no_secret("the trace log", &log);
}
