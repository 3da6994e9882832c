//! The exact headers of a helpdesk request.

mod support;

use feishu_helpdesk::Event;
use serde_json::json;
use support::*;

#[tokio::test]
async fn unsubscribe_sends_exactly_the_contract_headers() {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .expect_events(
            UNSUBSCRIBE_PATH,
            json!([{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}]),
        )
        .await;

    let receipt = stand_in
        .client()
        .unsubscribe(&[Event::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(receipt.log_id.as_deref(), Some(LOG_ID));
    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let header = |name: &str| {
        let values: Vec<&str> = received[0]
            .headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values
    };
    assert_eq!(
        header("authorization"),
        ["Bearer t-7f1bcd13fc57d46bac21793a18e560"]
    );
    assert_eq!(
        header("x-lark-helpdesk-authorization"),
        ["NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl"]
    );
    assert_eq!(header("content-type"), ["application/json; charset=utf-8"]);
    assert_eq!(header("api-version"), Vec::<&str>::new());
    assert_eq!(
        header("user-agent"),
        [concat!("feishu-helpdesk/", env!("CARGO_PKG_VERSION"))]
    );
}

#[tokio::test]
async fn subscribe_sends_exactly_the_contract_headers() {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .expect_events(
            SUBSCRIBE_PATH,
            json!([{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}]),
        )
        .await;

    stand_in
        .client()
        .subscribe(&[Event::TICKET_CREATED])
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn helpdesk_header_is_plain_base64_of_id_colon_token() {
    let stand_in = StandIn::start().await;
    // A token with characters that base64 pads and that URL-safe base64 would encode differently.
    let (id, token) = ("6834", "ht-?>~");
    let expected = "NjgzNDpodC0/Pn4=";
    let mock = stand_in
        .server
        .mock_async(|when, then| {
            when.header("x-lark-helpdesk-authorization", expected);
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    let client = feishu_helpdesk::Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(id, token)
        .base_url(stand_in.base_url())
        .build()
        .unwrap();

    client.unsubscribe(&[Event::TICKET_UPDATED]).await.unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn clones_share_the_credentials_and_base_url() {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .expect_events(
            UNSUBSCRIBE_PATH,
            json!([{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}]),
        )
        .await;
    let client = stand_in.client();
    let clone = client.clone();
    drop(client);

    let handle = tokio::spawn(async move { clone.unsubscribe(&[Event::TICKET_MESSAGE_CREATED]).await });
    handle.await.unwrap().unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn generated_client_carries_the_same_headers() {
    use feishu_helpdesk::generated::types;

    let stand_in = StandIn::start().await;
    let mock = stand_in
        .expect_events(
            SUBSCRIBE_PATH,
            json!([{"type": "helpdesk.ticket", "subtype": "ticket.updated_v1"}]),
        )
        .await;
    let client = stand_in.client();
    let body = types::EventsRequest {
        events: vec![types::Event {
            type_: "helpdesk.ticket".try_into().unwrap(),
            subtype: "ticket.updated_v1".try_into().unwrap(),
        }],
    };

    let answer = client.generated().subscribe_events(&body).await.unwrap();

    mock.assert_async().await;
    assert_eq!(answer.into_inner().code, 0);
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<feishu_helpdesk::Client>();
}
