//! `subscribe`, `unsubscribe` and `events`: the events the app receives, named on the
//! command line the ways the platform names them.

use feishu_helpdesk::Event;
use serde_json::json;

use crate::config::client;
use crate::failure::Failure;
use crate::Cli;

/// The known events: subscribe type and subtype, and what each is.
const KNOWN: [(&str, &str, &str); 4] = [
    ("helpdesk.ticket", "ticket.created_v1", "a ticket was created"),
    ("helpdesk.ticket", "ticket.updated_v1", "a ticket was updated"),
    (
        "helpdesk.ticket_message",
        "ticket_message.created_v1",
        "a ticket message was created",
    ),
    (
        "helpdesk.notification",
        "notification.approve_v1",
        "a push notification's approval changed",
    ),
];

/// `events`: each known event with its pushed name and what it is.
pub(crate) fn list_events(as_json: bool) {
    for (event_type, subtype, what) in KNOWN {
        let pushed = pushed_name(event_type, subtype);
        if as_json {
            println!(
                "{}",
                json!({"type": event_type, "subtype": subtype, "event_type": pushed, "description": what})
            );
        } else {
            println!("{event_type}/{subtype}  ({pushed}): {what}");
        }
    }
}

/// `helpdesk.ticket` + `ticket.created_v1` is pushed as `helpdesk.ticket.created_v1`.
fn pushed_name(event_type: &str, subtype: &str) -> String {
    let product = event_type.split('.').next().unwrap_or_default();
    format!("{product}.{subtype}")
}

/// An event as named on the command line: `type/subtype`, the pushed name, or the short one.
fn parse_event(name: &str) -> Result<Event, Failure> {
    if let Some((event_type, subtype)) = name.split_once('/') {
        if event_type.is_empty() || subtype.is_empty() {
            return Err(Failure::Config(format!(
                "event {name:?}: type and subtype must not be empty"
            )));
        }
        return Ok(Event::new(event_type.to_owned(), subtype.to_owned()));
    }
    let full = if name.starts_with("helpdesk.") {
        name.to_owned()
    } else {
        format!("helpdesk.{name}")
    };
    // `helpdesk.<object>.<action>`: the type is the product and the object.
    let mut parts = full.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(product), Some(object), Some(action)) if !object.is_empty() && !action.is_empty() => {
            Ok(Event::new(format!("{product}.{object}"), format!("{object}.{action}")))
        }
        _ => Err(Failure::Config(format!(
            "event {name:?} is not `type/subtype`, `helpdesk.<object>.<action>` or `<object>.<action>`; see `feishu-helpdesk events`"
        ))),
    }
}

/// `subscribe` (`subscribe` true) or `unsubscribe`: the named events, or the three ticket ones.
pub(crate) async fn change(cli: &Cli, names: &[String], subscribe: bool) -> Result<(), Failure> {
    let events: Vec<Event> = if names.is_empty() {
        vec![
            Event::TICKET_CREATED,
            Event::TICKET_UPDATED,
            Event::TICKET_MESSAGE_CREATED,
        ]
    } else {
        names
            .iter()
            .map(|name| parse_event(name))
            .collect::<Result<_, _>>()?
    };
    let client = client(cli)?;
    let receipt = if subscribe {
        client.subscribe(&events).await?
    } else {
        client.unsubscribe(&events).await?
    };
    let done = if subscribe { "subscribed" } else { "unsubscribed" };
    if cli.json {
        let events: Vec<_> = events
            .iter()
            .map(|e| json!({"type": e.event_type(), "subtype": e.subtype()}))
            .collect();
        println!(
            "{}",
            json!({"result": done, "events": events, "http_status": receipt.http_status, "log_id": receipt.log_id})
        );
    } else {
        for event in &events {
            println!("{done} {event}");
        }
        println!("log id: {}", receipt.log_id.as_deref().unwrap_or("(none)"));
    }
    Ok(())
}
