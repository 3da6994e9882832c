//! The request body of both operations, as the reference page gives it.

use feishu_helpdesk::testing::MockPlatform;
use feishu_helpdesk::EventType;
use serde_json::json;

#[tokio::test]
async fn unsubscribe_body_matches_the_reference_example() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    client
        .subscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    client
        .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

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
    let sent = platform.requests().pop().unwrap();
    assert_eq!(sent.path, "/open-apis/helpdesk/v1/events/unsubscribe");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent.body).unwrap(),
        reference
    );
    platform.assert_subscribed(&[]);
}

#[tokio::test]
async fn subscribe_sends_every_event_in_order() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();
    let custom = EventType::new("helpdesk.custom", String::from("custom.\u{4e8b}\u{4ef6}_v1"));

    client
        .subscribe(&[
            EventType::TICKET_CREATED,
            EventType::TICKET_UPDATED,
            EventType::TICKET_MESSAGE_CREATED,
            custom.clone(),
        ])
        .await
        .unwrap();

    let sent = platform.requests().pop().unwrap();
    assert_eq!(sent.path, "/open-apis/helpdesk/v1/events/subscribe");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent.body).unwrap(),
        json!({"events": [
            {"type": "helpdesk.ticket", "subtype": "ticket.created_v1"},
            {"type": "helpdesk.ticket", "subtype": "ticket.updated_v1"},
            {"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"},
            {"type": "helpdesk.custom", "subtype": "custom.\u{4e8b}\u{4ef6}_v1"},
        ]})
    );
    platform.assert_subscribed(&[
        EventType::TICKET_CREATED,
        EventType::TICKET_UPDATED,
        EventType::TICKET_MESSAGE_CREATED,
        custom,
    ]);
}

#[tokio::test]
async fn body_is_compact_utf8_json() {
    let platform = MockPlatform::start().await;
    let client = platform.client_builder().build().unwrap();

    client
        .subscribe(&[EventType::new("helpdesk.ticket", "\u{4e8b}\u{4ef6}")])
        .await
        .unwrap();

    let sent = platform.requests().pop().unwrap();
    assert_eq!(
        sent.body,
        "{\"events\":[{\"subtype\":\"\u{4e8b}\u{4ef6}\",\"type\":\"helpdesk.ticket\"}]}"
    );
    assert_eq!(
        sent.header("content-length"),
        [sent.body.len().to_string().as_str()]
    );
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

/// `Event`, the old name of `EventType`, still names it (with a deprecation warning).
#[test]
#[allow(deprecated)]
fn the_old_name_still_names_the_event_type() {
    let old: feishu_helpdesk::Event = feishu_helpdesk::Event::TICKET_CREATED;
    assert_eq!(old, EventType::TICKET_CREATED);
}
