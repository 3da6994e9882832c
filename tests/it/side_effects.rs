//! A request that creates or changes something is sent again only when the platform surely
//! did not act on it (the connection was never made, the platform rate-limited it); after a
//! failure that leaves the outcome open it fails with the failure itself, marked as an
//! unknown outcome (`Error::is_outcome_unknown`), having sent one request. Reading operations
//! are retried as before.

use std::sync::atomic::Ordering;

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{Attempts, Error};

use crate::support::faulty::{client, kind, Fault, FaultyServer};
use crate::support::StandIn;

/// Sends one ticket message (a POST that changes something) to the server, with app
/// credentials and two retries.
async fn send_message(base_url: &str) -> Result<(), Error> {
    message(&client(base_url, 2)).await
}

async fn message(client: &feishu_helpdesk::Client) -> Result<(), Error> {
    client
        .api()
        .create_ticket_message()
        .ticket_id("6948728206392295444")
        .body_map(|body| body.msg_type("text").content(r#"{"text":"hello"}"#))
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_is_not_resent_and_the_outcome_is_unknown() {
    let server = FaultyServer::start(|_| Fault::DropAfterRequest).await;

    let err = send_message(&server.base_url).await.unwrap_err();

    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        1,
        "the message was sent twice"
    );
    // The error is the failure itself, matched as it is, with the unknown outcome on it.
    assert!(
        matches!(
            err,
            Error::Transport {
                attempts: Attempts {
                    sent: 1,
                    outcome_unknown: true,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_outcome_unknown() && !err.is_retryable(), "{err:?}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.to_string(),
        "the request failed in transport; the outcome is unknown: the platform may have carried it out"
    );
}

#[tokio::test]
async fn a_server_error_or_a_timeout_after_the_request_is_not_resent() {
    for fault in [
        Fault::Html(502),
        Fault::Html(503),
        Fault::StallAfterHeaders,
        Fault::ResetMidResponse,
    ] {
        let server = FaultyServer::start(move |_| fault).await;

        let err = send_message(&server.base_url).await.unwrap_err();

        assert_eq!(
            server.requests.load(Ordering::SeqCst),
            1,
            "{fault:?} was answered by a resend"
        );
        assert!(err.is_outcome_unknown(), "{fault:?}: {err:?}");
    }
}

#[tokio::test]
async fn a_rate_limited_request_is_sent_again_after_the_reset() {
    let server = FaultyServer::start(|n| if n == 0 { Fault::RateLimited } else { Fault::None }).await;

    send_message(&server.base_url).await.unwrap();

    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refusal_is_final_and_says_what_the_platform_said() {
    // The platform answered that it did not act: nothing is unknown, nothing is resent.
    let stand_in = StandIn::start().await;
    let refusal = stand_in
        .server
        .mock_async(|when, then| {
            when.path("/open-apis/helpdesk/v1/tickets/6948728206392295444/messages");
            then.status(400)
                .header("content-type", "application/json")
                .body(r#"{"code":154000,"msg":"Bad request, please check your request body"}"#);
        })
        .await;

    let err = message(&stand_in.client()).await.unwrap_err();

    assert_eq!(refusal.calls_async().await, 1);
    assert_eq!(err.code(), Some(154000));
    assert!(!err.is_outcome_unknown(), "{err:?}");
}

#[tokio::test]
async fn an_unreadable_success_is_not_resent_and_the_outcome_is_unknown() {
    let server = FaultyServer::start(|_| Fault::NotEnvelope).await;

    let err = send_message(&server.base_url).await.unwrap_err();

    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(kind(&err), "UnexpectedResponse");
}

#[tokio::test]
async fn a_connection_never_made_is_retried_for_a_change_too() {
    let err = send_message(&crate::support::unreachable_base_url())
        .await
        .unwrap_err();

    // Two retries after the first attempt: the request never reached anyone.
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert!(!err.is_outcome_unknown(), "{err:?}");
    assert_eq!(kind(&err), "Transport");
}

#[tokio::test]
async fn a_read_is_retried_after_the_connection_dropped() {
    let server = FaultyServer::start(|n| {
        if n == 0 {
            Fault::DropAfterRequest
        } else {
            Fault::None
        }
    })
    .await;
    let client = client(&server.base_url, 2);

    let data = client
        .api()
        .get_ticket()
        .ticket_id("6948728206392295444")
        .send()
        .await
        .unwrap();

    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    // The stand-in's success carries an empty `data`: the ticket is absent, not an error.
    assert_eq!(data.ticket, None);
}

#[tokio::test]
async fn subscriptions_are_idempotent_and_retried() {
    let server = FaultyServer::start(|n| {
        if n == 0 {
            Fault::DropAfterRequest
        } else {
            Fault::None
        }
    })
    .await;
    let client = client(&server.base_url, 2);

    client
        .subscribe(&[feishu_helpdesk::EventType::TICKET_CREATED])
        .await
        .unwrap();

    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}
