//! What a push carries, typed: the common header and, by event type, the payload types
//! generated from `openapi/helpdesk.yaml`.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::generated::types;

/// The common header of a pushed event, without the verification token (which the receiver
/// has checked).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventHeader {
    /// The event's id, the same on every retry of one push: what deduplication uses
    /// (`uuid` in a 1.0 envelope).
    pub event_id: String,
    /// The event type, such as `helpdesk.ticket.created_v1`.
    pub event_type: String,
    /// When the event was created, in milliseconds since the Unix epoch.
    pub create_time: i64,
    /// The app the event is for.
    pub app_id: String,
    /// The tenant the event belongs to.
    pub tenant_key: String,
}

/// A pushed helpdesk event, as the receiver hands it to a handler.
///
/// The four documented events have typed payloads (the spec's types, in
/// [`generated::types`](crate::generated::types)); any other event type arrives as
/// [`Other`](HelpdeskEvent::Other) with its raw JSON, as does a documented event whose payload
/// does not decode as the spec says (a field with a value the spec does not know yet): an
/// event is never lost to its payload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
// Each event is built once and moved once, into the handler: boxing the large payloads would
// cost an allocation and a `Box` in every user's match for nothing.
#[allow(clippy::large_enum_variant)]
pub enum HelpdeskEvent {
    /// `helpdesk.ticket.created_v1`.
    TicketCreated {
        /// The common header.
        header: EventHeader,
        /// The new ticket.
        event: types::TicketCreatedPayload,
    },
    /// `helpdesk.ticket.updated_v1`.
    TicketUpdated {
        /// The common header.
        header: EventHeader,
        /// The ticket now (`object`) and what changed (`old_object`).
        event: types::TicketUpdatedPayload,
    },
    /// `helpdesk.ticket_message.created_v1`.
    TicketMessageCreated {
        /// The common header.
        header: EventHeader,
        /// The message and its ticket.
        event: types::TicketMessageCreatedPayload,
    },
    /// `helpdesk.notification.approve_v1`.
    NotificationApprove {
        /// The common header.
        header: EventHeader,
        /// The notification and its approval status.
        event: types::NotificationApprovePayload,
    },
    /// Any other event, with its payload as received.
    Other {
        /// The common header.
        header: EventHeader,
        /// The `event` object as received (`null` if there was none).
        event: serde_json::Value,
    },
}

impl HelpdeskEvent {
    /// The common header.
    pub fn header(&self) -> &EventHeader {
        match self {
            HelpdeskEvent::TicketCreated { header, .. }
            | HelpdeskEvent::TicketUpdated { header, .. }
            | HelpdeskEvent::TicketMessageCreated { header, .. }
            | HelpdeskEvent::NotificationApprove { header, .. }
            | HelpdeskEvent::Other { header, .. } => header,
        }
    }

    /// The event type, such as `helpdesk.ticket.created_v1`.
    pub fn event_type(&self) -> &str {
        &self.header().event_type
    }
}

/// A decrypted or plain body: an event envelope (2.0 or 1.0) or a URL verification.
#[derive(Deserialize)]
pub(crate) struct Body<'a> {
    #[serde(borrow, default)]
    schema: Option<&'a str>,
    #[serde(default)]
    header: Option<Header>,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    /// `url_verification`, or `event_callback` in a 1.0 envelope.
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) challenge: Option<String>,
    /// The verification token of a challenge or a 1.0 envelope.
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    ts: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    event_id: String,
    event_type: String,
    create_time: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    tenant_key: String,
}

/// What is wrong with a body that is JSON but not an event.
pub(crate) const NOT_AN_EVENT: &str = "the body is neither an event envelope nor a URL verification";

impl<'a> Body<'a> {
    /// Whether this is the URL verification.
    pub(crate) fn is_challenge(&self) -> bool {
        self.kind.as_deref() == Some("url_verification")
    }

    /// The verification token the body carries.
    pub(crate) fn token(&self) -> Option<&str> {
        match &self.header {
            Some(header) => header.token.as_deref(),
            None => self.token.as_deref(),
        }
    }

    /// The event's header: a 2.0 envelope's, or the fields of a 1.0 one.
    /// Moves the header's fields out (the body keeps what `into_event` needs), so that no
    /// field is copied.
    pub(crate) fn take_header(&mut self) -> Result<EventHeader, &'static str> {
        if let Some(header) = &mut self.header {
            if self.schema.is_some_and(|schema| schema != "2.0") {
                return Err("the envelope's schema is not 2.0");
            }
            let create_time = header
                .create_time
                .parse()
                .map_err(|_| "header.create_time is not milliseconds")?;
            return Ok(EventHeader {
                event_id: std::mem::take(&mut header.event_id),
                event_type: std::mem::take(&mut header.event_type),
                create_time,
                app_id: std::mem::take(&mut header.app_id),
                tenant_key: std::mem::take(&mut header.tenant_key),
            });
        }
        // 1.0: `{"uuid", "token", "ts", "type": "event_callback", "event": {"type", "app_id", "tenant_key", ...}}`.
        if self.kind.as_deref() != Some("event_callback") {
            return Err(NOT_AN_EVENT);
        }
        let Some(uuid) = self.uuid.take() else {
            return Err(NOT_AN_EVENT);
        };
        #[derive(Deserialize)]
        struct Legacy {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(default)]
            app_id: String,
            #[serde(default)]
            tenant_key: String,
        }
        let legacy: Legacy = self
            .event
            .map(|event| serde_json::from_str(event.get()))
            .transpose()
            .map_err(|_| "the 1.0 envelope's event is not an object")?
            .ok_or("the 1.0 envelope has no event")?;
        // `ts` is seconds, with a fraction.
        let seconds: f64 = self
            .ts
            .as_deref()
            .unwrap_or("0")
            .parse()
            .map_err(|_| "ts is not a time")?;
        Ok(EventHeader {
            event_id: uuid,
            event_type: legacy.kind,
            create_time: (seconds * 1000.0) as i64,
            app_id: legacy.app_id,
            tenant_key: legacy.tenant_key,
        })
    }

    /// The typed event, once the token is checked and the event claimed.
    pub(crate) fn into_event(self, header: EventHeader) -> HelpdeskEvent {
        let raw = self.event.map_or("null", RawValue::get);
        if self.header.is_none() {
            // A 1.0 envelope: no helpdesk event is pushed this way; handed over as received.
            return other(raw, header);
        }
        match header.event_type.as_str() {
            "helpdesk.ticket.created_v1" => typed(raw, header, |header, event| {
                HelpdeskEvent::TicketCreated { header, event }
            }),
            "helpdesk.ticket.updated_v1" => typed(raw, header, |header, event| {
                HelpdeskEvent::TicketUpdated { header, event }
            }),
            "helpdesk.ticket_message.created_v1" => typed(raw, header, |header, event| {
                HelpdeskEvent::TicketMessageCreated { header, event }
            }),
            "helpdesk.notification.approve_v1" => typed(raw, header, |header, event| {
                HelpdeskEvent::NotificationApprove { header, event }
            }),
            _ => other(raw, header),
        }
    }
}

/// The payload decoded as `T`, or, if it does not decode, the event as [`HelpdeskEvent::Other`].
fn typed<T: serde::de::DeserializeOwned>(
    raw: &str,
    header: EventHeader,
    wrap: fn(EventHeader, T) -> HelpdeskEvent,
) -> HelpdeskEvent {
    match serde_json::from_str(raw) {
        Ok(event) => wrap(header, event),
        Err(error) => {
            tracing::warn!(event_id = %header.event_id, event_type = %header.event_type, %error,
                "the payload does not decode as the spec says; handing it over as Other");
            other(raw, header)
        }
    }
}

fn other(raw: &str, header: EventHeader) -> HelpdeskEvent {
    HelpdeskEvent::Other {
        event: serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
        header,
    }
}
