//! `subscribe`, `unsubscribe` and `events`: the events the app receives, named on the
//! command line the ways the platform names them.

use feishu_helpdesk::{EventType, KnownEvent};
use serde_json::json;

use crate::config::client;
use crate::failure::Failure;
use crate::Cli;

/// `events`: each known event with its pushed name and what it is.
pub(crate) fn list_events(as_json: bool) {
    for known in EventType::KNOWN {
        let KnownEvent {
            event_type,
            subtype,
            pushed_name,
            description,
            ..
        } = known;
        if as_json {
            println!(
                "{}",
                json!({"type": event_type, "subtype": subtype, "event_type": pushed_name, "description": description})
            );
        } else {
            println!("{event_type}/{subtype}  ({pushed_name}): {description}");
        }
    }
}

/// An event as named on the command line: `type/subtype`, the pushed name, or the short one
/// (the subtype); a known event as the table has it, any other read from its name.
fn parse_event(name: &str) -> Result<EventType, Failure> {
    let known = EventType::KNOWN.iter().find(|known| {
        name == known.pushed_name
            || name == known.subtype
            || name.split_once('/') == Some((known.event_type, known.subtype))
    });
    if let Some(known) = known {
        return Ok(known.to_event_type());
    }
    if let Some((event_type, subtype)) = name.split_once('/') {
        if event_type.is_empty() || subtype.is_empty() {
            return Err(Failure::Config(format!(
                "event {name:?}: type and subtype must not be empty"
            )));
        }
        return Ok(EventType::new(event_type.to_owned(), subtype.to_owned()));
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
            Ok(EventType::new(format!("{product}.{object}"), format!("{object}.{action}")))
        }
        _ => Err(Failure::Config(format!(
            "event {name:?} is not `type/subtype`, `helpdesk.<object>.<action>` or `<object>.<action>`; see `feishu-helpdesk events`"
        ))),
    }
}

/// `subscribe` (`subscribe` true) or `unsubscribe`: the named events, or the three ticket ones.
pub(crate) async fn change(cli: &Cli, names: &[String], subscribe: bool) -> Result<(), Failure> {
    let events: Vec<EventType> = if names.is_empty() {
        vec![
            EventType::TICKET_CREATED,
            EventType::TICKET_UPDATED,
            EventType::TICKET_MESSAGE_CREATED,
        ]
    } else {
        names
            .iter()
            .map(|name| parse_event(name))
            .collect::<Result<_, _>>()?
    };
    let client = client(cli, false)?;
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
