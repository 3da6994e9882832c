//! A successful call's receipt (HTTP status and log id): every builder's
//! `send_with_receipt` gives it beside the data or the bytes, and `subscribe` /
//! `unsubscribe` are that call with a checked body.

use httpmock::Method::GET;

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{EventType, Receipt};

use crate::support::{StandIn, LOG_ID};

const TICKET: &str = "/open-apis/helpdesk/v1/tickets/6948728206392295444";

#[tokio::test]
async fn a_typed_call_gives_its_log_id_with_its_data() {
    let stand_in = StandIn::start().await;
    let answer = stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET).path(TICKET);
            then.status(200)
                .header("content-type", "application/json")
                .header("x-tt-logid", LOG_ID)
                .body(r#"{"code":0,"msg":"success","data":{"ticket":{"ticket_id":"6948728206392295444","status":50}}}"#);
        })
        .await;
    let client = stand_in.client();

    let (data, receipt) = client
        .api()
        .get_ticket()
        .ticket_id("6948728206392295444")
        .send_with_receipt()
        .await
        .unwrap();
    let plain = client
        .api()
        .get_ticket()
        .ticket_id("6948728206392295444")
        .send()
        .await
        .unwrap();

    assert_eq!(receipt.http_status, 200);
    assert_eq!(receipt.log_id.as_deref(), Some(LOG_ID));
    // The same data as `send` gives.
    assert_eq!(data, plain);
    assert_eq!(data.ticket.and_then(|t| t.status), Some(50));
    assert_eq!(answer.calls_async().await, 2);
}

#[tokio::test]
async fn a_download_gives_its_log_id_with_its_bytes() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET).path("/open-apis/helpdesk/v1/ticket_images");
            then.status(200)
                .header("content-type", "image/png")
                .header("x-tt-logid", LOG_ID)
                .body(b"\x89PNG");
        })
        .await;

    let (download, receipt) = stand_in
        .client()
        .api()
        .get_ticket_image()
        .ticket_id("6948728206392295444")
        .msg_id("6949088236610273307")
        .send_with_receipt()
        .await
        .unwrap();

    assert_eq!(receipt.log_id.as_deref(), Some(LOG_ID));
    assert_eq!(download.bytes().await.unwrap(), b"\x89PNG");
}

#[tokio::test]
async fn a_receipt_without_a_log_id_says_none_and_subscribe_gives_the_builders_receipt() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.path("/open-apis/helpdesk/v1/events/subscribe");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    let client = stand_in.client();

    let receipt = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    let (_, from_builder) = client
        .api()
        .subscribe_events()
        .body(
            serde_json::from_value::<feishu_helpdesk::generated::types::EventsRequest>(serde_json::json!(
                {"events": [{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}]}
            ))
            .unwrap(),
        )
        .send_with_receipt()
        .await
        .unwrap();

    let expected: Receipt = from_builder;
    assert_eq!(receipt, expected);
    assert_eq!(receipt.http_status, 200);
    assert_eq!(receipt.log_id, None);
}
