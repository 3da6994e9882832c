//! What one subscribes to: [`EventType`], the platform's type and subtype pair; the table of
//! the known helpdesk events ([`EventType::KNOWN`]); and the subscription request body.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;
use crate::generated::types;

/// A helpdesk event to subscribe to or unsubscribe from: its type (事件类型) and subtype
/// (事件子类型).
///
/// The known helpdesk events are in [`KNOWN`](Self::KNOWN), each also a constant;
/// [`EventType::new`] names any other.
///
/// ```
/// use feishu_helpdesk::EventType;
///
/// assert_eq!(EventType::TICKET_MESSAGE_CREATED.event_type(), "helpdesk.ticket_message");
/// let custom = EventType::new("helpdesk.ticket", "ticket.created_v1");
/// assert_eq!(custom, EventType::TICKET_CREATED);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType {
    event_type: Cow<'static, str>,
    subtype: Cow<'static, str>,
}

/// One of the known helpdesk events, as [`EventType::KNOWN`] lists it: what one subscribes to,
/// the name it is pushed under, and what it is.
///
/// ```
/// use feishu_helpdesk::EventType;
///
/// for known in EventType::KNOWN {
///     println!("{}/{} ({}): {}", known.event_type, known.subtype, known.pushed_name, known.description);
/// }
/// let approval = EventType::KNOWN.iter().find(|known| known.pushed_name == "helpdesk.notification.approve_v1");
/// assert_eq!(approval.map(|known| known.to_event_type()), Some(EventType::NOTIFICATION_APPROVE));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KnownEvent {
    /// The type subscribed to, such as `helpdesk.ticket`.
    pub event_type: &'static str,
    /// The subtype subscribed to, such as `ticket.created_v1`.
    pub subtype: &'static str,
    /// The name the event is pushed under (the header's `event_type`,
    /// [`HelpdeskEvent::event_type`](crate::events::HelpdeskEvent::event_type)), such as
    /// `helpdesk.ticket.created_v1`: the product (the type's first part) and the subtype.
    pub pushed_name: &'static str,
    /// What the event is, in a few words, such as "a ticket was created".
    pub description: &'static str,
}

impl KnownEvent {
    /// The event to subscribe to: [`event_type`](Self::event_type) and
    /// [`subtype`](Self::subtype).
    pub const fn to_event_type(self) -> EventType {
        EventType::from_static(self.event_type, self.subtype)
    }
}

impl EventType {
    /// The known helpdesk events, the one table of them: the constants below, the command
    /// line's `events` and its names of events, and the typed
    /// [`HelpdeskEvent`](crate::events::HelpdeskEvent)s a receiver hands over all read it.
    /// A pushed event of another type arrives as
    /// [`HelpdeskEvent::Other`](crate::events::HelpdeskEvent::Other).
    pub const KNOWN: &'static [KnownEvent] = &[
        KnownEvent {
            event_type: "helpdesk.ticket",
            subtype: "ticket.created_v1",
            pushed_name: "helpdesk.ticket.created_v1",
            description: "a ticket was created",
        },
        KnownEvent {
            event_type: "helpdesk.ticket",
            subtype: "ticket.updated_v1",
            pushed_name: "helpdesk.ticket.updated_v1",
            description: "a ticket was updated",
        },
        KnownEvent {
            event_type: "helpdesk.ticket_message",
            subtype: "ticket_message.created_v1",
            pushed_name: "helpdesk.ticket_message.created_v1",
            description: "a ticket message was created",
        },
        KnownEvent {
            event_type: "helpdesk.notification",
            subtype: "notification.approve_v1",
            pushed_name: "helpdesk.notification.approve_v1",
            description: "a push notification's approval changed",
        },
    ];

    /// A ticket was created: `helpdesk.ticket` / `ticket.created_v1`.
    pub const TICKET_CREATED: EventType = EventType::KNOWN[0].to_event_type();
    /// A ticket was updated: `helpdesk.ticket` / `ticket.updated_v1`.
    pub const TICKET_UPDATED: EventType = EventType::KNOWN[1].to_event_type();
    /// A ticket message was created: `helpdesk.ticket_message` / `ticket_message.created_v1`.
    pub const TICKET_MESSAGE_CREATED: EventType = EventType::KNOWN[2].to_event_type();
    /// A push notification's approval changed: `helpdesk.notification` /
    /// `notification.approve_v1`.
    pub const NOTIFICATION_APPROVE: EventType = EventType::KNOWN[3].to_event_type();

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

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.event_type, self.subtype)
    }
}

/// Builds the request body, refusing what the platform would refuse.
pub(crate) fn request_body(events: &[EventType]) -> Result<types::EventsRequest, Error> {
    if events.is_empty() {
        return Err(Error::invalid_input(
            "events",
            "the list is empty; name at least one event",
        ));
    }
    // At its final size (a collect into a `Result` would start at four events).
    let mut checked = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let event_type = types::EventType::try_from(event.event_type())
            .map_err(|_| Error::invalid_input("events", format!("event {index} has an empty type")))?;
        let subtype = types::EventSubtype::try_from(event.subtype())
            .map_err(|_| Error::invalid_input("events", format!("event {index} has an empty subtype")))?;
        checked.push(types::Event {
            type_: event_type,
            subtype,
        });
    }
    Ok(types::EventsRequest { events: checked })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_name_the_known_events() {
        let body = request_body(&[
            EventType::TICKET_CREATED,
            EventType::TICKET_UPDATED,
            EventType::TICKET_MESSAGE_CREATED,
            EventType::NOTIFICATION_APPROVE,
        ])
        .expect("valid events");
        let json = serde_json::to_string(&body).expect("serializable");
        assert_eq!(
            json,
            r#"{"events":[{"subtype":"ticket.created_v1","type":"helpdesk.ticket"},{"subtype":"ticket.updated_v1","type":"helpdesk.ticket"},{"subtype":"ticket_message.created_v1","type":"helpdesk.ticket_message"},{"subtype":"notification.approve_v1","type":"helpdesk.notification"}]}"#
        );
    }

    #[test]
    fn each_known_event_is_pushed_as_its_product_and_subtype() {
        let mut seen = std::collections::BTreeSet::new();
        for known in EventType::KNOWN {
            let product = known.event_type.split('.').next().unwrap_or_default();
            assert_eq!(
                known.pushed_name,
                format!("{product}.{}", known.subtype),
                "{known:?}"
            );
            assert!(
                known
                    .subtype
                    .starts_with(&format!("{}.", &known.event_type[product.len() + 1..])),
                "{known:?}: the subtype starts with the type's object"
            );
            assert!(!known.description.is_empty(), "{known:?}");
            assert!(
                seen.insert(known.pushed_name),
                "{} is listed twice",
                known.pushed_name
            );
        }
    }

    #[test]
    fn display_joins_type_and_subtype() {
        assert_eq!(
            EventType::TICKET_MESSAGE_CREATED.to_string(),
            "helpdesk.ticket_message/ticket_message.created_v1"
        );
    }
}
