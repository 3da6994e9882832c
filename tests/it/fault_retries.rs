//! With retries on, every fault of a misbehaving server still ends the call within the
//! timeout and retry budget, after the expected number of attempts.

use std::time::{Duration, Instant};

use crate::support::faulty::{client, expected, kind, Fault, FaultyServer, TIMEOUT};
use feishu_helpdesk::EventType;

#[tokio::test]
async fn with_retries_every_fault_ends_within_the_retry_budget() {
    // Three attempts of at most TIMEOUT each, plus backoff of at most 10 ms and 20 ms.
    let budget = TIMEOUT * 3 + Duration::from_millis(30);
    for fault in Fault::ALL {
        let server = FaultyServer::start(move |_| fault).await;
        let started = Instant::now();
        let err = client(&server.base_url, 2)
            .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            elapsed < budget + Duration::from_secs(2),
            "{fault:?} took {elapsed:?}"
        );
        let (expected_kind, status, _) = expected(fault);
        assert_eq!(kind(&err), expected_kind, "{fault:?}: {err:?}");
        assert_eq!(err.http_status(), status, "{fault:?}");
        let attempts = if err.is_retryable() { 3 } else { 1 };
        assert_eq!(err.attempts(), attempts, "{fault:?}: {err:?}");
        assert_eq!(
            server.requests.load(std::sync::atomic::Ordering::SeqCst),
            attempts as usize,
            "{fault:?}"
        );
    }
}
