//! The request body of both operations, as the reference page gives it.

mod support;

use feishu_helpdesk::Event;
use serde_json::json;
use support::*;

#[tokio::test]
async fn unsubscribe_body_matches_the_reference_example() {
    let stand_in = StandIn::start().await;
    // The reference page's request body example, verbatim.
    let reference: serde_json::Value = serde_json::from_str(
        r#"{
            "events": [
                {
                    "type": "helpdesk.ticket_message",
                    "subtype": "ticket_message.created_v1"
                }
            ]
        }"#,
    )
    .unwrap();
    let mock = stand_in
        .server
        .mock_async(|when, then| {
            when.path(UNSUBSCRIBE_PATH).json_body(reference);
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;

    stand_in
        .client()
        .unsubscribe(&[Event::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn subscribe_sends_every_event_in_order() {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .expect_events(
            SUBSCRIBE_PATH,
            json!([
                {"type": "helpdesk.ticket", "subtype": "ticket.created_v1"},
                {"type": "helpdesk.ticket", "subtype": "ticket.updated_v1"},
                {"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"},
                {"type": "helpdesk.custom", "subtype": "custom.\u{4e8b}\u{4ef6}_v1"},
            ]),
        )
        .await;

    stand_in
        .client()
        .subscribe(&[
            Event::TICKET_CREATED,
            Event::TICKET_UPDATED,
            Event::TICKET_MESSAGE_CREATED,
            Event::new("helpdesk.custom", String::from("custom.\u{4e8b}\u{4ef6}_v1")),
        ])
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn body_is_compact_utf8_json() {
    let stand_in = StandIn::start().await;
    let mock = stand_in
        .server
        .mock_async(|when, then| {
            when.path(UNSUBSCRIBE_PATH)
                .body("{\"events\":[{\"subtype\":\"\u{4e8b}\u{4ef6}\",\"type\":\"helpdesk.ticket\"}]}");
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;

    stand_in
        .client()
        .unsubscribe(&[Event::new("helpdesk.ticket", "\u{4e8b}\u{4ef6}")])
        .await
        .unwrap();

    mock.assert_async().await;
}

#[test]
fn the_generated_types_carry_a_json_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(
        feishu_helpdesk::generated::types::EventsRequest
    ))
    .unwrap();
    assert_eq!(schema["required"], json!(["events"]));
    let event = &schema["definitions"]["Event"];
    assert_eq!(event["required"], json!(["subtype", "type"]));
    assert_eq!(event["properties"]["type"]["type"], json!("string"));
    assert_eq!(event["properties"]["subtype"]["type"], json!("string"));
    assert_eq!(
        schema["properties"]["events"]["items"]["$ref"],
        json!("#/definitions/Event")
    );
    // Descriptions come through from the spec, so the schema documents itself.
    assert_eq!(
        event["properties"]["type"]["description"],
        json!("The event type (事件类型).")
    );
}
