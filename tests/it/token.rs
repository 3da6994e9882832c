//! Tenant access tokens obtained from app credentials.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::*;
use feishu_helpdesk::{Client, Error, EventType};
use httpmock::prelude::*;
use httpmock::HttpMockResponse;

fn app_client(stand_in: &StandIn) -> Client {
    Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .build()
        .unwrap()
}

/// A token endpoint that checks the app credentials and hands out `t-1`, `t-2`, ...
/// with `expire` seconds to live; returns the count of fetches.
async fn token_endpoint(stand_in: &StandIn, expire: u64) -> Arc<AtomicUsize> {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    stand_in
        .server
        .mock_async(move |when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", "application/json; charset=utf-8")
                .header_missing("authorization")
                .header_missing("x-lark-helpdesk-authorization")
                .json_body(serde_json::json!({"app_id": APP_ID, "app_secret": APP_SECRET}));
            then.respond_with(move |_| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                HttpMockResponse::builder()
                    .status(200)
                    .body(format!(
                        r#"{{"code":0,"msg":"ok","tenant_access_token":"t-{n}","expire":{expire}}}"#
                    ))
                    .build()
            });
        })
        .await;
    fetches
}

/// A helpdesk endpoint that accepts `Bearer <token>` and the helpdesk header.
async fn helpdesk_accepting<'a>(stand_in: &'a StandIn, token: &str) -> httpmock::Mock<'a> {
    let bearer = format!("Bearer {token}");
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(POST)
                .path(UNSUBSCRIBE_PATH)
                .header("authorization", bearer)
                .header("x-lark-helpdesk-authorization", HELPDESK_HEADER);
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await
}

#[tokio::test]
async fn concurrent_cold_calls_share_one_token_fetch() {
    let stand_in = StandIn::start().await;
    let fetches = token_endpoint(&stand_in, 7200).await;
    let helpdesk = helpdesk_accepting(&stand_in, "t-1").await;
    let client = app_client(&stand_in);

    let calls: Vec<_> = (0..500)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.unsubscribe(&[EventType::TICKET_CREATED]).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    assert_eq!(helpdesk.calls_async().await, 500);
}

#[tokio::test]
async fn a_token_is_reused_until_the_refresh_margin() {
    let stand_in = StandIn::start().await;
    let fetches = token_endpoint(&stand_in, 7200).await;
    helpdesk_accepting(&stand_in, "t-1").await;
    let client = app_client(&stand_in);
    for _ in 0..3 {
        client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_inside_the_refresh_margin_is_replaced() {
    let stand_in = StandIn::start().await;
    // 299 seconds left is inside the default five-minute margin: every call refreshes.
    let fetches = token_endpoint(&stand_in, 299).await;
    let first = helpdesk_accepting(&stand_in, "t-1").await;
    let second = helpdesk_accepting(&stand_in, "t-2").await;
    let client = app_client(&stand_in);

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    assert_eq!((first.calls_async().await, second.calls_async().await), (1, 1));

    // With a margin under the remaining life the same token is kept.
    let stand_in = StandIn::start().await;
    let fetches = token_endpoint(&stand_in, 299).await;
    helpdesk_accepting(&stand_in, "t-1").await;
    let client = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .token_refresh_margin(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rejected_token_is_replaced_and_the_call_retried_once_with_the_new_one() {
    for code in [99991663, 99991664, 99991671, 99991661] {
        for status in [200, 400, 401] {
            let stand_in = StandIn::start().await;
            let fetches = token_endpoint(&stand_in, 7200).await;
            let rejected = stand_in
                .server
                .mock_async(|when, then| {
                    when.path(UNSUBSCRIBE_PATH).header("authorization", "Bearer t-1");
                    then.status(status)
                        .body(format!(r#"{{"code":{code},"msg":"invalid token"}}"#));
                })
                .await;
            let accepted = helpdesk_accepting(&stand_in, "t-2").await;

            app_client(&stand_in)
                .unsubscribe(&[EventType::TICKET_CREATED])
                .await
                .unwrap_or_else(|e| panic!("code {code} on HTTP {status}: {e:?}"));

            assert_eq!(fetches.load(Ordering::SeqCst), 2, "code {code} on HTTP {status}");
            assert_eq!(rejected.calls_async().await, 1);
            assert_eq!(accepted.calls_async().await, 1);
        }
    }
}

#[tokio::test]
async fn a_call_sent_again_sends_the_same_body_and_content_type() {
    // The body is serialized once per call; the attempt after a rejected token sends the same
    // bytes, as JSON with its charset.
    const BODY: &str = r#"{"events":[{"subtype":"ticket.created_v1","type":"helpdesk.ticket"},{"subtype":"ticket_message.created_v1","type":"helpdesk.ticket_message"}]}"#;
    let stand_in = StandIn::start().await;
    token_endpoint(&stand_in, 7200).await;
    let with_body = |token: &'static str| {
        move |when: httpmock::When, then: httpmock::Then| {
            when.method(POST)
                .path(UNSUBSCRIBE_PATH)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json; charset=utf-8")
                .body(BODY);
            match token {
                "t-1" => then
                    .status(200)
                    .body(r#"{"code":99991663,"msg":"invalid token"}"#),
                _ => then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#),
            };
        }
    };
    let rejected = stand_in.server.mock_async(with_body("t-1")).await;
    let accepted = stand_in.server.mock_async(with_body("t-2")).await;

    app_client(&stand_in)
        .unsubscribe(&[EventType::TICKET_CREATED, EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    assert_eq!(rejected.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
}

#[tokio::test]
async fn a_token_rejected_twice_is_an_error_after_one_retry() {
    let stand_in = StandIn::start().await;
    let fetches = token_endpoint(&stand_in, 7200).await;
    let rejecting = stand_in
        .server
        .mock_async(|when, then| {
            when.path(UNSUBSCRIBE_PATH);
            then.status(401)
                .body(r#"{"code":99991663,"msg":"invalid token"}"#);
        })
        .await;

    let err = app_client(&stand_in)
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    assert_eq!(err.code(), Some(99991663));
    assert_eq!(rejecting.calls_async().await, 2);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_fixed_token_that_is_rejected_is_returned_as_is() {
    let stand_in = StandIn::start().await;
    let rejecting = stand_in
        .server
        .mock_async(|when, then| {
            when.path(UNSUBSCRIBE_PATH);
            then.status(200)
                .body(r#"{"code":99991663,"msg":"invalid token"}"#);
        })
        .await;

    let err = stand_in
        .client()
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    assert_eq!(err.code(), Some(99991663));
    assert_eq!(rejecting.calls_async().await, 1);
}

#[tokio::test]
async fn refused_app_credentials_name_the_app_never_the_secret() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.path(TOKEN_PATH);
            then.status(200)
                .header("x-tt-logid", LOG_ID)
                .body(r#"{"code":10014,"msg":"app secret invalid"}"#);
        })
        .await;
    let helpdesk = helpdesk_accepting(&stand_in, "t-1").await;

    let err = app_client(&stand_in)
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();

    match &err {
        Error::TokenRefused {
            app_id,
            code,
            http_status,
            log_id,
            ..
        } => {
            assert_eq!((app_id.as_str(), *code, *http_status), (APP_ID, 10014, 200));
            assert_eq!(log_id.as_deref(), Some(LOG_ID));
        }
        other => panic!("expected TokenRefused, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(APP_ID) && !shown.contains(APP_SECRET), "{shown}");
    assert_eq!(helpdesk.calls_async().await, 0);
}

#[tokio::test]
async fn a_failed_fetch_is_not_cached() {
    let stand_in = StandIn::start().await;
    let failing = stand_in
        .server
        .mock_async(|when, then| {
            when.path(TOKEN_PATH);
            then.status(500).body(r#"{"code":155000,"msg":"Internal error"}"#);
        })
        .await;
    let client = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .initial_backoff(std::time::Duration::from_millis(1))
        .build()
        .unwrap();

    let err = client
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();
    let refused = matches!(
        err,
        Error::TokenRefused {
            code: 155000,
            http_status: 500,
            ..
        }
    );
    assert!(refused, "{err:?}");
    // Each of the three attempts asked for a token: the failure was not cached.
    assert_eq!(failing.calls_async().await, 3);
    assert_eq!(err.attempts(), 3);

    failing.delete_async().await;
    let fetches = token_endpoint(&stand_in, 7200).await;
    helpdesk_accepting(&stand_in, "t-1").await;
    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_transport_error() {
    let client = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(unreachable_base_url())
        .build()
        .unwrap();

    let err = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap_err();

    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[test]
fn one_source_of_tenant_tokens_is_required() {
    let both = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            both,
            Error::InvalidInput {
                field: "tenant_access_token",
                ..
            }
        ),
        "{both:?}"
    );
    let margin = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .token_refresh_margin(std::time::Duration::from_secs(31 * 60))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            margin,
            Error::InvalidInput {
                field: "token_refresh_margin",
                ..
            }
        ),
        "{margin:?}"
    );
    let client = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .build()
        .unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains(APP_ID) && !shown.contains(APP_SECRET), "{shown}");
}

#[tokio::test]
async fn app_credentials_are_checked_without_helpdesk_credentials() {
    let stand_in = StandIn::start().await;
    let fetches = token_endpoint(&stand_in, 7200).await;
    let cache: Arc<dyn feishu_helpdesk::TokenCache> = Arc::new(feishu_helpdesk::MemoryTokenCache::default());
    let builder = || {
        Client::builder()
            .app_credentials(APP_ID, APP_SECRET)
            .token_cache(Arc::clone(&cache))
            .base_url(stand_in.base_url())
    };

    // No helpdesk credentials: a token is obtained and its lifetime given.
    let left = builder().check_app_credentials().await.unwrap();
    assert!(
        left > std::time::Duration::from_secs(7000) && left <= std::time::Duration::from_secs(7200),
        "{left:?}"
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // The token in the cache is reused, as a client's would be.
    builder().check_app_credentials().await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // Without app credentials there is nothing to check; nothing is sent.
    let err = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .base_url(stand_in.base_url())
        .check_app_credentials()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "app_credentials",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_app_secret_is_reported_by_the_check() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(200)
                .body(r#"{"code":10014,"msg":"app secret invalid"}"#);
        })
        .await;

    let err = Client::builder()
        .app_credentials(APP_ID, "wrong-secret")
        .base_url(stand_in.base_url())
        .check_app_credentials()
        .await
        .unwrap_err();

    assert!(matches!(err, Error::TokenRefused { code: 10014, .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));
}
