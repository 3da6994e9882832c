//! Helpdesk events, named by type and subtype.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;
use crate::generated::types;

/// A helpdesk event to subscribe to or unsubscribe from.
///
/// The three documented helpdesk events are constants; [`Event::new`] names any other.
///
/// ```
/// use feishu_helpdesk::Event;
///
/// assert_eq!(Event::TICKET_MESSAGE_CREATED.event_type(), "helpdesk.ticket_message");
/// let custom = Event::new("helpdesk.ticket", "ticket.created_v1");
/// assert_eq!(custom, Event::TICKET_CREATED);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event {
    event_type: Cow<'static, str>,
    subtype: Cow<'static, str>,
}

impl Event {
    /// A ticket was created: `helpdesk.ticket` / `ticket.created_v1`.
    pub const TICKET_CREATED: Event = Event::from_static("helpdesk.ticket", "ticket.created_v1");
    /// A ticket was updated: `helpdesk.ticket` / `ticket.updated_v1`.
    pub const TICKET_UPDATED: Event = Event::from_static("helpdesk.ticket", "ticket.updated_v1");
    /// A ticket message was created: `helpdesk.ticket_message` / `ticket_message.created_v1`.
    pub const TICKET_MESSAGE_CREATED: Event =
        Event::from_static("helpdesk.ticket_message", "ticket_message.created_v1");

    /// An event with the given type (事件类型) and subtype (事件子类型).
    ///
    /// Both must be non-empty; an empty one is refused with [`Error::InvalidInput`] when
    /// the event is sent, before any request is made.
    pub fn new(event_type: impl Into<Cow<'static, str>>, subtype: impl Into<Cow<'static, str>>) -> Self {
        Self {
            event_type: event_type.into(),
            subtype: subtype.into(),
        }
    }

    const fn from_static(event_type: &'static str, subtype: &'static str) -> Self {
        Self {
            event_type: Cow::Borrowed(event_type),
            subtype: Cow::Borrowed(subtype),
        }
    }

    /// The event type, such as `helpdesk.ticket_message`.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The event subtype, such as `ticket_message.created_v1`.
    pub fn subtype(&self) -> &str {
        &self.subtype
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.event_type, self.subtype)
    }
}

/// Builds the request body, refusing what the platform would refuse.
pub(crate) fn request_body(events: &[Event]) -> Result<types::EventsRequest, Error> {
    if events.is_empty() {
        return Err(Error::invalid_input(
            "events",
            "the list is empty; name at least one event",
        ));
    }
    events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            let event_type = types::EventType::try_from(event.event_type())
                .map_err(|_| Error::invalid_input("events", format!("event {index} has an empty type")))?;
            let subtype = types::EventSubtype::try_from(event.subtype())
                .map_err(|_| Error::invalid_input("events", format!("event {index} has an empty subtype")))?;
            Ok(types::Event {
                type_: event_type,
                subtype,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|events| types::EventsRequest { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_name_the_documented_events() {
        let body = request_body(&[
            Event::TICKET_CREATED,
            Event::TICKET_UPDATED,
            Event::TICKET_MESSAGE_CREATED,
        ])
        .expect("valid events");
        let json = serde_json::to_string(&body).expect("serializable");
        assert_eq!(
            json,
            r#"{"events":[{"subtype":"ticket.created_v1","type":"helpdesk.ticket"},{"subtype":"ticket.updated_v1","type":"helpdesk.ticket"},{"subtype":"ticket_message.created_v1","type":"helpdesk.ticket_message"}]}"#
        );
    }

    #[test]
    fn display_joins_type_and_subtype() {
        assert_eq!(
            Event::TICKET_MESSAGE_CREATED.to_string(),
            "helpdesk.ticket_message/ticket_message.created_v1"
        );
    }
}
