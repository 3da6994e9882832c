//! The pushed events modelled in `openapi/helpdesk.yaml` decode the sample pushes into the
//! generated types, losing no field.

use feishu_helpdesk::generated::types;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Decodes the sample into `T`, and checks that encoding it again gives the sample back:
/// a field the spec does not model would be dropped and show up here. (An empty list is
/// left out when encoding, as absent and empty mean the same.)
fn decodes_losslessly<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let sample = sample(name);
    let typed: T = serde_json::from_value(sample.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        without_empty_lists(sample),
        "{name} lost or changed a field"
    );
    typed
}

fn without_empty_lists(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(_, v)| !matches!(v, Value::Array(items) if items.is_empty()))
                .map(|(k, v)| (k, without_empty_lists(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty_lists).collect()),
        other => other,
    }
}

#[test]
fn ticket_created() {
    let push: types::EventTicketCreated = decodes_losslessly("ticket.created_v1");
    assert_eq!(push.header.event_type, "helpdesk.ticket.created_v1");
    assert_eq!(push.header.create_time, "1700000000000");
    let ticket = &push.event.0;
    assert_eq!(ticket.ticket_id.as_deref(), Some("6948728206392295444"));
    assert_eq!(
        ticket.customized_fields[0].display_name.as_deref(),
        Some("客户等级")
    );
    assert_eq!(
        ticket
            .guest
            .as_ref()
            .unwrap()
            .id
            .as_ref()
            .unwrap()
            .union_id
            .as_deref(),
        Some("on_8ed6aa67826108097d9ee143816345")
    );
}

#[test]
fn ticket_updated() {
    let push: types::EventTicketUpdated = decodes_losslessly("ticket.updated_v1");
    let object = push.event.object.as_ref().unwrap();
    assert_eq!(object.agents[0].name.as_deref(), Some("李四"));
    assert_eq!(push.event.old_object.as_ref().unwrap().status, Some(1));
}

#[test]
fn ticket_message_created() {
    let push: types::EventTicketMessageCreated = decodes_losslessly("ticket_message.created_v1");
    // The payload's own id is not the envelope's.
    assert_eq!(push.header.event_id, "1a2b3c4d5e6f708192a3b4c5d6e7f809");
    assert_eq!(
        push.event.event_id.as_deref(),
        Some("0b9f6c0e-message-level-event-id")
    );
    // Times in milliseconds need 64 bits.
    assert_eq!(
        push.event.ticket.as_ref().unwrap().agent_entry_time,
        Some(1_700_000_300_000)
    );
    assert_eq!(push.event.sender_type.map(i64::from), Some(2));
}

#[test]
fn notification_approve() {
    let push: types::EventNotificationApprove = decodes_losslessly("notification.approve_v1");
    assert_eq!(
        push.event.approve_status,
        Some(types::NotificationApprovePayloadApproveStatus::Approved)
    );
}

#[test]
fn unknown_fields_are_ignored_and_closed_codes_are_checked() {
    let mut push = sample("ticket_message.created_v1");
    push["event"]["a_field_from_the_future"] = "x".into();
    serde_json::from_value::<types::EventTicketMessageCreated>(push.clone()).unwrap();
    push["event"]["sender_type"] = 7.into();
    assert!(serde_json::from_value::<types::EventTicketMessageCreated>(push).is_err());
}

#[test]
fn challenge_and_encrypted_bodies() {
    let vectors = sample("vectors");
    let plain: types::UrlVerification =
        serde_json::from_str(vectors["challenge"]["plain_body"].as_str().unwrap()).unwrap();
    assert_eq!(plain.type_, types::UrlVerificationType::UrlVerification);
    let answer = types::UrlVerificationAnswer {
        challenge: plain.challenge,
    };
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        vectors["challenge"]["answer"]
    );
    let encrypted: types::EncryptedBody =
        serde_json::from_str(vectors["challenge"]["encrypted_body"].as_str().unwrap()).unwrap();
    assert!(!encrypted.encrypt.is_empty());
}

#[test]
fn the_schema_of_each_push_is_derived() {
    let schema = serde_json::to_value(schemars::schema_for!(types::EventTicketCreated)).unwrap();
    let required = schema["required"].as_array().unwrap();
    assert!(required.contains(&"header".into()) && required.contains(&"event".into()));
}
