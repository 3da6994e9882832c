//! Retryable failures are sent again, with backoff; business errors are not.

use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;
use feishu_helpdesk::{Attempts, Client, Error, EventType};
use httpmock::HttpMockResponse;

const SUCCESS: &str = r#"{"code":0,"msg":"success","data":{}}"#;

/// Answers the first `failures` requests with `failure`, then success; returns the count
/// of requests.
async fn failing_then_ok(stand_in: &StandIn, failures: usize, failure: HttpMockResponse) -> Arc<AtomicUsize> {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    stand_in
        .server
        .mock_async(move |when, then| {
            when.path(UNSUBSCRIBE_PATH);
            then.respond_with(move |_| {
                if counter.fetch_add(1, Ordering::SeqCst) < failures {
                    failure.clone()
                } else {
                    HttpMockResponse::builder().status(200).body(SUCCESS).build()
                }
            });
        })
        .await;
    calls
}

fn fast(stand_in: &StandIn) -> Client {
    stand_in
        .builder()
        .initial_backoff(Duration::from_millis(1))
        .build()
        .unwrap()
}

fn rate_limited(status: u16, reset: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("x-ogw-ratelimit-reset", reset)
        .body(r#"{"code":99991400,"msg":"request trigger frequency limit"}"#)
        .build()
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_reset_header() {
    for status in [429, 400] {
        let stand_in = StandIn::start().await;
        let calls = failing_then_ok(&stand_in, 1, rate_limited(status, "1")).await;
        let started = Instant::now();

        fast(&stand_in)
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap();

        assert_eq!(calls.load(Ordering::SeqCst), 2, "HTTP {status}");
        // The backoff alone is a millisecond or so: the wait came from the header.
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "HTTP {status}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried() {
    for (status, body) in [
        (502, "<html>Bad Gateway</html>"),
        (503, ""),
        (500, r#"{"code":155000,"msg":"Internal error"}"#),
    ] {
        let stand_in = StandIn::start().await;
        let failure = HttpMockResponse::builder().status(status).body(body).build();
        let calls = failing_then_ok(&stand_in, 2, failure).await;

        fast(&stand_in)
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap();

        assert_eq!(calls.load(Ordering::SeqCst), 3, "HTTP {status}");
    }
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        // The first connection is closed as soon as the request arrives.
        let (mut first, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0; 4096];
        let _ = first.read(&mut buffer).await;
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let _ = second.read(&mut buffer).await;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{SUCCESS}",
            SUCCESS.len()
        );
        second.write_all(answer.as_bytes()).await.unwrap();
        second.shutdown().await.unwrap();
    });
    let client = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(format!("http://{address}"))
        .initial_backoff(Duration::from_millis(1))
        .build()
        .unwrap();

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn business_errors_are_not_retried() {
    for (status, code) in [(400, 154000), (403, 154003), (200, 154000)] {
        let stand_in = StandIn::start().await;
        let failure = HttpMockResponse::builder()
            .status(status)
            .body(format!(r#"{{"code":{code},"msg":"no"}}"#))
            .build();
        let calls = failing_then_ok(&stand_in, 1, failure).await;

        let err = fast(&stand_in)
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap_err();

        assert_eq!(calls.load(Ordering::SeqCst), 1, "code {code}");
        assert!(matches!(err, Error::Api { .. }), "{err:?}");
        assert_eq!(err.attempts(), 1);
    }
}

#[tokio::test]
async fn max_retries_zero_turns_retries_off() {
    let stand_in = StandIn::start().await;
    let calls = failing_then_ok(&stand_in, 1, HttpMockResponse::builder().status(502).build()).await;

    let client = stand_in.builder().max_retries(0).build().unwrap();
    let err = client
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        matches!(err, Error::UnexpectedResponse { http_status: 502, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_last_error_says_how_many_attempts_were_made() {
    let stand_in = StandIn::start().await;
    let failure = HttpMockResponse::builder()
        .status(500)
        .header("x-tt-logid", LOG_ID)
        .body(r#"{"code":155000,"msg":"Internal error"}"#)
        .build();
    let calls = failing_then_ok(&stand_in, 10, failure).await;

    let client = stand_in
        .builder()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(1))
        .build()
        .unwrap();
    let err = client
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // The error is the last attempt's, matched as it is; the attempts are on it.
    assert!(
        matches!(
            err,
            Error::Api {
                code: 155000,
                http_status: 500,
                attempts: Attempts {
                    sent: 4,
                    outcome_unknown: false,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the platform answered code 155000 (HTTP 500): Internal error (after 4 attempts)"
    );
    assert_eq!(err.attempts(), 4);
    assert_eq!(
        (err.code(), err.http_status(), err.log_id()),
        (Some(155000), Some(500), Some(LOG_ID))
    );
    assert!(err.source().is_none());
}
