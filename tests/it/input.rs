//! Bad input is refused before anything is sent, naming what is wrong.

use std::error::Error as _;
use std::time::Duration;

use crate::support::*;
use feishu_helpdesk::{Client, ClientBuilder, Error, EventType};

fn valid() -> ClientBuilder {
    Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
}

fn refused_field(result: Result<Client, Error>) -> (&'static str, String) {
    match result {
        Err(err @ Error::InvalidInput { .. }) => {
            let Error::InvalidInput { field, .. } = &err else {
                unreachable!()
            };
            (*field, err.to_string())
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn missing_credentials_are_named() {
    let (field, msg) = refused_field(
        Client::builder()
            .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
            .build(),
    );
    assert_eq!(
        (field, msg.as_str()),
        (
            "tenant_access_token",
            "invalid tenant_access_token: is required (or set app_credentials)"
        )
    );
    let (field, _) = refused_field(Client::builder().tenant_access_token(TENANT_ACCESS_TOKEN).build());
    assert_eq!(field, "helpdesk_credentials");
}

#[test]
fn helpdesk_id_with_a_colon_is_refused() {
    let (field, msg) = refused_field(valid().helpdesk_credentials("7180:1", HELPDESK_TOKEN).build());
    assert_eq!(field, "helpdesk_id");
    assert!(msg.contains("':'"), "{msg}");
}

#[test]
fn empty_credentials_are_refused() {
    assert_eq!(
        refused_field(valid().helpdesk_credentials("", HELPDESK_TOKEN).build()).0,
        "helpdesk_id"
    );
    assert_eq!(
        refused_field(valid().helpdesk_credentials(HELPDESK_ID, "").build()).0,
        "helpdesk_token"
    );
    assert_eq!(
        refused_field(valid().tenant_access_token("").build()).0,
        "tenant_access_token"
    );
}

#[test]
fn a_token_that_cannot_be_a_header_value_is_refused() {
    for token in ["t-abc\r\nX-Injected: 1", "t-abc def", "t-\u{4e2d}", "t-\0"] {
        let (field, msg) = refused_field(valid().tenant_access_token(token).build());
        assert_eq!(field, "tenant_access_token");
        assert!(
            !msg.contains("t-abc") && !msg.contains('\u{4e2d}'),
            "the token leaked: {msg}"
        );
    }
}

#[test]
fn base_urls_that_do_not_parse_are_refused_with_the_cause() {
    let err = valid().base_url("not a url").build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "base_url",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "invalid base_url: is not a valid URL");
    assert!(err.source().is_some());
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let (field, msg) = refused_field(valid().base_url("http://open.feishu.cn").build());
    assert_eq!(field, "base_url");
    assert!(msg.contains("allow_insecure_http"), "{msg}");
    for loopback in [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
        "http://127.8.9.10",
    ] {
        valid()
            .base_url(loopback)
            .build()
            .unwrap_or_else(|e| panic!("{loopback}: {e}"));
    }
    valid()
        .base_url("http://proxy.internal:8080")
        .allow_insecure_http(true)
        .build()
        .unwrap();
}

#[test]
fn feishu_is_the_default_and_lark_is_one_setting_away() {
    assert_eq!(valid().build().unwrap().base_url(), "https://open.feishu.cn");
    let lark = valid().base_url(feishu_helpdesk::LARK_BASE_URL).build().unwrap();
    assert_eq!(lark.base_url(), "https://open.larksuite.com");
}

#[test]
fn a_zero_timeout_is_refused() {
    assert_eq!(
        refused_field(valid().timeout(Duration::ZERO).build()).0,
        "timeout"
    );
}

/// A success for any request, so that a test can count the requests that reached the
/// stand-in (none, for input refused before sending).
async fn answering_anything(stand_in: &StandIn) -> httpmock::Mock<'_> {
    stand_in
        .server
        .mock_async(|_, then| {
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await
}

#[tokio::test]
async fn bad_event_lists_are_refused_before_sending() {
    let stand_in = StandIn::start().await;
    let any = answering_anything(&stand_in).await;
    let client = stand_in.client();

    let cases: [(&[EventType], &str); 4] = [
        (&[], "invalid events: the list is empty; name at least one event"),
        (
            &[EventType::TICKET_CREATED, EventType::new("", "ticket.created_v1")],
            "invalid events: event 1 has an empty type",
        ),
        (
            &[EventType::new("helpdesk.ticket", "")],
            "invalid events: event 0 has an empty subtype",
        ),
        (
            &[EventType::new(String::new(), String::new())],
            "invalid events: event 0 has an empty type",
        ),
    ];
    for (events, message) in cases {
        for result in [client.unsubscribe(events).await, client.subscribe(events).await] {
            let err = result.unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { field: "events", .. }),
                "{err:?}"
            );
            assert_eq!(err.to_string(), message);
            assert!(!err.is_retryable());
        }
    }
    assert_eq!(any.calls_async().await, 0, "a refused call reached the server");
}

#[tokio::test]
async fn a_builder_without_a_required_value_fails_before_sending_naming_it() {
    use feishu_helpdesk::prelude::*;
    let stand_in = StandIn::start().await;
    let anything = answering_anything(&stand_in).await;

    // A path parameter left out, and a body without its required field.
    let without_path = stand_in.client().api().get_ticket().send().await.unwrap_err();
    let without_field = stand_in
        .client()
        .api()
        .unsubscribe_events()
        .send()
        .await
        .unwrap_err();

    assert!(without_path.to_string().contains("ticket_id"), "{without_path}");
    assert!(without_field.to_string().contains("events"), "{without_field}");
    assert_eq!(anything.calls_async().await, 0);
}
