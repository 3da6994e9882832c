//! Every way a call can fail after it was sent, as a typed error (retries off, so that
//! each error is the first attempt's; `retry.rs` covers retries).

use std::error::Error as _;
use std::time::Duration;

use crate::support::*;
use feishu_helpdesk::{Client, Error, EventType};

async fn unsubscribe_answered(status: u16, content_type: &str, body: &str) -> Error {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .answer(UNSUBSCRIBE_PATH, status, content_type, body)
        .await;
    let client = stand_in.builder().max_retries(0).build().unwrap();
    let err = client
        .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap_err();
    mock.assert_async().await;
    err
}

const JSON: &str = "application/json; charset=utf-8";

#[tokio::test]
async fn documented_errors_keep_code_msg_status_and_log_id() {
    for (status, code, msg) in [
        (400, 154000, "Bad request, please check your request body"),
        (403, 154003, "Please check you have the correct access"),
        (500, 155000, "Internal error"),
    ] {
        let err = unsubscribe_answered(status, JSON, &format!(r#"{{"code":{code},"msg":"{msg}"}}"#)).await;
        assert!(
            matches!(&err, Error::Api { msg: m, .. } if m == msg),
            "HTTP {status}: {err:?}"
        );
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(err.log_id(), Some(LOG_ID));
        assert_eq!(err.is_retryable(), status == 500, "HTTP {status}");
        assert_eq!(
            err.to_string(),
            format!("the platform answered code {code} (HTTP {status}): {msg}")
        );
        assert!(err.source().is_none());
    }
}

#[tokio::test]
async fn non_zero_code_on_http_200_is_an_api_error() {
    let err = unsubscribe_answered(200, JSON, r#"{"code":154000,"msg":"Bad request","data":{}}"#).await;
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_eq!(err.code(), Some(154000));
    assert_eq!(err.http_status(), Some(200));
    assert_eq!(err.log_id(), Some(LOG_ID));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn rate_limit_is_retryable_on_any_status() {
    for status in [200, 400, 429] {
        let err = unsubscribe_answered(
            status,
            JSON,
            r#"{"code":99991400,"msg":"request trigger frequency limit"}"#,
        )
        .await;
        assert_eq!(err.code(), Some(99991400));
        assert!(err.is_retryable(), "HTTP {status}");
    }
}

#[tokio::test]
async fn log_id_falls_back_to_the_body() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|_, then| {
            then.status(400)
                .body(r#"{"code":154000,"msg":"Bad request","error":{"log_id":"from-body"}}"#);
        })
        .await;
    let err = stand_in
        .client()
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();
    assert_eq!(err.log_id(), Some("from-body"));
}

#[tokio::test]
async fn html_from_a_gateway_keeps_status_and_excerpt() {
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let err = unsubscribe_answered(502, "text/html", page).await;
    match &err {
        Error::UnexpectedResponse {
            http_status,
            body_excerpt,
            log_id,
            ..
        } => {
            assert_eq!(*http_status, 502);
            assert_eq!(body_excerpt, page);
            assert_eq!(log_id.as_deref(), Some(LOG_ID));
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(err.code(), None);
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "unexpected answer with HTTP 502");
}

#[tokio::test]
async fn html_on_a_documented_status_keeps_status_and_cause() {
    let err = unsubscribe_answered(500, "text/html", "<html>oops</html>").await;
    match &err {
        Error::UnexpectedResponse {
            http_status,
            body_excerpt,
            source,
            ..
        } => {
            assert_eq!(*http_status, 500);
            assert_eq!(body_excerpt, "<html>oops</html>");
            assert!(source.is_some());
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    assert_eq!(err.log_id(), Some(LOG_ID));
    // Display names what happened; the JSON parse error is the source, not repeated.
    assert_eq!(err.to_string(), "unexpected answer with HTTP 500");
    assert!(err
        .source()
        .is_some_and(|s| !err.to_string().contains(&s.to_string())));
}

#[tokio::test]
async fn empty_body_on_200_is_unexpected() {
    let err = unsubscribe_answered(200, JSON, "").await;
    assert!(
        matches!(&err, Error::UnexpectedResponse { http_status: 200, body_excerpt, .. } if body_excerpt.is_empty()),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn json_that_is_not_the_envelope_is_unexpected() {
    let err = unsubscribe_answered(200, JSON, r#"{"status":"ok"}"#).await;
    assert!(
        matches!(&err, Error::UnexpectedResponse { http_status: 200, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn long_unexpected_bodies_are_cut_to_the_excerpt_limit() {
    let page = "x".repeat(100_000);
    let err = unsubscribe_answered(503, "text/plain", &page).await;
    match err {
        Error::UnexpectedResponse { body_excerpt, .. } => {
            assert_eq!(body_excerpt.len(), Error::BODY_EXCERPT_LIMIT)
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bind and drop a listener to get a loopback port with nobody behind it.
    let client = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(unreachable_base_url())
        .max_retries(0)
        .build()
        .unwrap();

    let err = client
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.http_status(), None);
    assert_eq!(err.to_string(), "the request failed in transport");
    assert!(err.source().is_some());
}

/// Calls a stand-in that answers after 5 s, with a 200 ms timeout and no retries.
async fn call_a_slow_stand_in(http_client: Option<reqwest::Client>) -> Error {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|_, then| {
            then.status(200)
                .delay(Duration::from_secs(5))
                .body(r#"{"code":0,"msg":"success"}"#);
        })
        .await;
    let mut builder = stand_in
        .builder()
        .timeout(Duration::from_millis(200))
        .max_retries(0);
    if let Some(http_client) = http_client {
        builder = builder.http_client(http_client);
    }
    builder
        .build()
        .unwrap()
        .subscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let err = call_a_slow_stand_in(None).await;

    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "the request timed out");
}

#[tokio::test]
async fn the_timeout_holds_for_a_caller_supplied_http_client() {
    let err = call_a_slow_stand_in(Some(
        feishu_helpdesk::http_client_builder().unwrap().build().unwrap(),
    ))
    .await;

    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

/// A request the builder cannot make (a required path parameter not set) fails before
/// anything is sent, once, with the builder's message.
#[tokio::test]
async fn a_request_that_cannot_be_built_is_never_sent() {
    use feishu_helpdesk::prelude::*;
    let platform = feishu_helpdesk::testing::MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    let err = client.api().get_ticket().send().await.unwrap_err();
    assert!(err.to_string().contains("ticket_id"), "{err}");
    assert!(err.code().is_none() && err.http_status().is_none(), "{err:?}");
    assert!(platform.requests().is_empty(), "{:?}", platform.requests());
}
