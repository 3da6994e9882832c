//! The `testing` kit as a user sees it: only the public API, through the real client.

use std::time::Duration;

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{MockCredentials, MockPlatform, Scripted};
use feishu_helpdesk::{Client, Error, EventType};

#[tokio::test]
async fn subscribe_unsubscribe_and_assert_the_state() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();

    client
        .subscribe(&[
            EventType::TICKET_CREATED,
            EventType::TICKET_UPDATED,
            EventType::TICKET_MESSAGE_CREATED,
        ])
        .await
        .unwrap();
    client.unsubscribe(&[EventType::TICKET_UPDATED]).await.unwrap();

    platform.assert_subscribed(&[EventType::TICKET_CREATED, EventType::TICKET_MESSAGE_CREATED]);
    assert_eq!(platform.token_fetches(), 1);
    let requests = platform.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.answered == 200), "{requests:?}");
    // Secrets are masked in what the kit records.
    assert_eq!(requests[1].header("authorization"), ["Bearer ***"]);
    assert_eq!(requests[1].header("x-lark-helpdesk-authorization"), ["***"]);
    assert!(
        requests[0].body.contains("\"app_secret\":\"***\""),
        "{}",
        requests[0].body
    );
    assert_eq!(
        requests[1].header("content-type"),
        ["application/json; charset=utf-8"]
    );
}

#[tokio::test]
async fn a_scripted_rate_limit_is_retried_by_the_client() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    platform.push(Scripted::RateLimited { reset_seconds: 0 });

    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    let answered: Vec<u16> = platform.requests().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [200, 429, 200]);
    platform.assert_subscribed(&[EventType::TICKET_CREATED]);
}

#[tokio::test]
async fn a_scripted_invalid_token_makes_the_client_fetch_a_new_one() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    platform.push(Scripted::InvalidToken);

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    assert_eq!(platform.token_fetches(), 2);
    platform.assert_subscribed(&[]);
}

#[tokio::test]
async fn scripted_errors_delays_and_gateway_pages() {
    let platform = MockPlatform::start().await;
    let client = platform
        .client_builder()
        .max_retries(0)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    platform.push(Scripted::Error {
        http_status: 403,
        code: 154003,
        msg: "no access".into(),
    });
    let err = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap_err();
    assert_eq!((err.code(), err.http_status()), (Some(154003), Some(403)));

    platform.push(Scripted::Html { http_status: 502 });
    let err = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedResponse { http_status: 502, .. }),
        "{err:?}"
    );

    platform.push(Scripted::Delay(Duration::from_secs(2)));
    let err = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");

    platform.assert_subscribed(&[]);
}

#[tokio::test]
async fn contract_violations_are_answered_as_the_platform_does() {
    let platform = MockPlatform::start_with(MockCredentials {
        tenant_access_token: Some("t-fixed".into()),
        ..MockCredentials::default()
    })
    .await;
    let client = |token: &str, helpdesk_token: &str| {
        Client::builder()
            .tenant_access_token(token)
            .helpdesk_credentials(feishu_helpdesk::testing::HELPDESK_ID, helpdesk_token)
            .base_url(platform.base_url())
            .max_retries(0)
            .build()
            .unwrap()
    };

    client("t-fixed", feishu_helpdesk::testing::HELPDESK_TOKEN)
        .subscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap();
    let wrong_helpdesk = client("t-fixed", "ht-wrong")
        .subscribe(&[EventType::TICKET_UPDATED])
        .await
        .unwrap_err();
    assert_eq!(
        (wrong_helpdesk.code(), wrong_helpdesk.http_status()),
        (Some(154003), Some(403))
    );
    let unknown_token = client("t-unknown", feishu_helpdesk::testing::HELPDESK_TOKEN)
        .subscribe(&[EventType::TICKET_UPDATED])
        .await
        .unwrap_err();
    assert_eq!(
        (unknown_token.code(), unknown_token.http_status()),
        (Some(99991663), Some(401))
    );

    let bad_app = Client::builder()
        .app_credentials(feishu_helpdesk::testing::APP_ID, "wrong-secret")
        .helpdesk_credentials(
            feishu_helpdesk::testing::HELPDESK_ID,
            feishu_helpdesk::testing::HELPDESK_TOKEN,
        )
        .base_url(platform.base_url())
        .max_retries(0)
        .build()
        .unwrap();
    let refused = bad_app.subscribe(&[EventType::TICKET_UPDATED]).await.unwrap_err();
    assert!(
        matches!(refused, Error::TokenRefused { code: 10014, .. }),
        "{refused:?}"
    );

    // A body that is not the contract's: an empty event list.
    let raw = feishu_helpdesk::http_client_builder()
        .unwrap()
        .build()
        .unwrap()
        .post(format!(
            "{}/open-apis/helpdesk/v1/events/subscribe",
            platform.base_url()
        ))
        .header("authorization", "Bearer t-fixed")
        .header(
            "x-lark-helpdesk-authorization",
            "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1tb2Nr",
        )
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"events":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert!(raw.text().await.unwrap().contains("154000"));

    platform.assert_subscribed(&[EventType::TICKET_CREATED]);
}

/// The README's "Testing your code" example, run.
#[tokio::test]
async fn the_readme_example_holds() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();

    platform.push(Scripted::RateLimited { reset_seconds: 0 });
    platform.push(Scripted::InvalidToken);
    client
        .subscribe(&[EventType::TICKET_CREATED, EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    platform.assert_subscribed(&[EventType::TICKET_CREATED, EventType::TICKET_MESSAGE_CREATED]);
    assert_eq!(platform.token_fetches(), 2);
    let answered: Vec<u16> = platform.requests().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [200, 429, 401, 200, 200]);
}

#[tokio::test]
async fn expired_tokens_are_replaced_by_the_client() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    platform.expire_tokens();
    client.subscribe(&[EventType::TICKET_UPDATED]).await.unwrap();

    assert_eq!(platform.token_fetches(), 2);
    let answered: Vec<u16> = platform.requests().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [200, 200, 401, 200, 200]);
}

#[tokio::test]
async fn starts_on_the_address_given_and_records_each_query_as_sent() {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let platform = MockPlatform::start_on(address, MockCredentials::default())
        .await
        .unwrap();
    assert!(platform.base_url().starts_with("http://127.0.0.1:"));
    assert!(!platform.base_url().ends_with(":0"), "the port bound, not 0");
    let client = platform.client_builder().build().unwrap();
    client
        .api()
        .list_tickets()
        .status_list(vec![1_i64, 2])
        .send()
        .await
        .unwrap();
    let requests = platform.requests();
    assert_eq!(requests[0].query, "", "the token request has none");
    assert_eq!(requests[1].query, "status_list=1&status_list=2");

    // A taken address is an error to handle, not a panic.
    let taken: std::net::SocketAddr = platform.base_url()["http://".len()..].parse().unwrap();
    assert!(MockPlatform::start_on(taken, MockCredentials::default())
        .await
        .is_err());
}

#[tokio::test]
async fn reset_forgets_what_tests_left_and_keeps_the_credentials() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    platform.add_ticket("T1", "Alice");
    platform.push(Scripted::InvalidToken);
    platform.answer("get_ticket", serde_json::json!({}));

    platform.reset();
    assert!(platform.requests().is_empty());
    platform.assert_subscribed(&[]);
    assert!(platform.ticket_messages("T1").is_empty());
    assert_eq!(platform.token_fetches(), 0);
    // The scripted fault is gone, the issued token too (a fresh token is fetched), and the
    // same credentials still work.
    client.subscribe(&[EventType::TICKET_UPDATED]).await.unwrap();
    let answered: Vec<u16> = platform.requests().iter().map(|r| r.answered).collect();
    assert_eq!(
        answered,
        [401, 200, 200],
        "the forgotten token, a new one, the call"
    );
    platform.assert_subscribed(&[EventType::TICKET_UPDATED]);
}
