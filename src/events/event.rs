//! What a push carries, typed: the common header and, by event type, the payload types
//! generated from `openapi/helpdesk.yaml`.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::generated::types;
use crate::subscription::EventType;

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
/// The known events ([`EventType::KNOWN`]) have typed payloads (the spec's types, in
/// [`generated::types`](crate::generated::types)); any other event type arrives as
/// [`Other`](HelpdeskEvent::Other) with its raw JSON, as does a known event whose payload
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
/// Strings that are only looked at are borrowed from the body (copied only if escaped).
pub(crate) struct Body<'a> {
    schema: Option<Text<'a>>,
    header: Option<Header<'a>>,
    event: Option<Payload<'a>>,
    /// `url_verification`, or `event_callback` in a 1.0 envelope.
    kind: Option<Text<'a>>,
    pub(crate) challenge: Option<String>,
    /// The verification token of a challenge or a 1.0 envelope.
    token: Option<Text<'a>>,
    uuid: Option<Text<'a>>,
    ts: Option<Text<'a>>,
    /// Present in an encrypted body, which only a receiver with an Encrypt Key can read.
    encrypt: bool,
}

/// A string of the body, borrowed from it unless it has escapes. (A `Cow<str>` read through
/// `Deserialize` alone, without a derive's `#[serde(borrow)]`, is always copied.)
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// The `event` object: typed as it was read, when the header before it named a documented
/// type, or as received.
enum Payload<'a> {
    Raw(&'a RawValue),
    /// Boxed as soon as it is read: a payload is over a kilobyte, and the body that holds it
    /// moves through several returns and into the receiver's future before the handler gets
    /// it; a pointer moves for nothing, the payload itself would be copied each time.
    Typed(Box<Typed>),
}

/// The payload of a documented event, decoded.
#[allow(clippy::large_enum_variant)]
enum Typed {
    TicketCreated(types::TicketCreatedPayload),
    TicketUpdated(types::TicketUpdatedPayload),
    TicketMessageCreated(types::TicketMessageCreatedPayload),
    NotificationApprove(types::NotificationApprovePayload),
}

/// A documented event type, one whose payload is typed: which entry of the table of known
/// events ([`EventType::KNOWN`]) each is, and the reading of such a payload, both while the
/// envelope is read and from a raw payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Documented {
    TicketCreated,
    TicketUpdated,
    TicketMessageCreated,
    NotificationApprove,
}

impl Documented {
    const ALL: [Documented; 4] = [
        Documented::TicketCreated,
        Documented::TicketUpdated,
        Documented::TicketMessageCreated,
        Documented::NotificationApprove,
    ];

    /// What one subscribes to for it; the table has its pushed name.
    const fn subscribed_as(self) -> EventType {
        match self {
            Documented::TicketCreated => EventType::TICKET_CREATED,
            Documented::TicketUpdated => EventType::TICKET_UPDATED,
            Documented::TicketMessageCreated => EventType::TICKET_MESSAGE_CREATED,
            Documented::NotificationApprove => EventType::NOTIFICATION_APPROVE,
        }
    }

    /// The documented event pushed as `event_type`, if it is one.
    fn of(event_type: &str) -> Option<Self> {
        let known = EventType::KNOWN
            .iter()
            .find(|known| known.pushed_name == event_type)?;
        Self::ALL
            .into_iter()
            .find(|documented| documented.subscribed_as() == known.to_event_type())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Documented {
    type Value = Typed;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Typed, D::Error> {
        Ok(match self {
            Documented::TicketCreated => Typed::TicketCreated(Deserialize::deserialize(deserializer)?),
            Documented::TicketUpdated => Typed::TicketUpdated(Deserialize::deserialize(deserializer)?),
            Documented::TicketMessageCreated => {
                Typed::TicketMessageCreated(Deserialize::deserialize(deserializer)?)
            }
            Documented::NotificationApprove => {
                Typed::NotificationApprove(Deserialize::deserialize(deserializer)?)
            }
        })
    }
}

impl Typed {
    fn with(self, header: EventHeader) -> HelpdeskEvent {
        match self {
            Typed::TicketCreated(event) => HelpdeskEvent::TicketCreated { header, event },
            Typed::TicketUpdated(event) => HelpdeskEvent::TicketUpdated { header, event },
            Typed::TicketMessageCreated(event) => HelpdeskEvent::TicketMessageCreated { header, event },
            Typed::NotificationApprove(event) => HelpdeskEvent::NotificationApprove { header, event },
        }
    }
}

impl<'a> Body<'a> {
    /// Parses a plaintext body in one pass: the payload of a documented event whose header
    /// comes first (as the platform sends it) is decoded as it is read. A payload that does
    /// not decode as the spec says is read again, as received, to arrive as `Other`.
    pub(crate) fn parse(plaintext: &'a [u8]) -> Result<Self, NotParsed> {
        // Checked once here (with SIMD), the text's strings need no check each as they are read.
        let text = simdutf8::basic::from_utf8(plaintext).map_err(|_| NotParsed::NotJson)?;
        Self::parse_with(text, true)
            .or_else(|_| Self::parse_with(text, false))
            .map_err(|error| {
                if error.is_data() {
                    NotParsed::NotAnEvent
                } else {
                    NotParsed::NotJson
                }
            })
    }

    fn parse_with(text: &'a str, typed: bool) -> Result<Self, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let body = serde::de::DeserializeSeed::deserialize(BodySeed { typed }, &mut deserializer)?;
        deserializer.end()?;
        Ok(body)
    }
}

/// Why a plaintext is not a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotParsed {
    /// It is not JSON (nor UTF-8).
    NotJson,
    /// It is JSON, but not shaped as an envelope or a URL verification.
    NotAnEvent,
}

/// Reads a body as a derived `Deserialize` would (unknown fields ignored, a repeated one
/// refused, `null` as absent), and the payload typed if `typed` and the header came first.
struct BodySeed {
    typed: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for BodySeed {
    type Value = Body<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Body<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Reads the value of the field `name` into `slot`, which must not have been read yet.
fn field<'de, A, T>(map: &mut A, slot: &mut Option<Option<T>>, name: &'static str) -> Result<(), A::Error>
where
    A: serde::de::MapAccess<'de>,
    T: Deserialize<'de>,
{
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> serde::de::Visitor<'de> for BodySeed {
    type Value = Body<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event envelope or a URL verification")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Body<'de>, A::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Field {
            Schema,
            Header,
            Event,
            Type,
            Challenge,
            Token,
            Uuid,
            Ts,
            Encrypt,
            #[serde(other)]
            Other,
        }
        let (mut schema, mut header, mut event, mut kind, mut challenge) = (None, None, None, None, None);
        let (mut token, mut uuid, mut ts, mut encrypt) = (None, None, None, None);
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Schema => field(&mut map, &mut schema, "schema")?,
                Field::Header => field::<_, Header<'de>>(&mut map, &mut header, "header")?,
                Field::Type => field(&mut map, &mut kind, "type")?,
                Field::Challenge => field(&mut map, &mut challenge, "challenge")?,
                Field::Token => field(&mut map, &mut token, "token")?,
                Field::Uuid => field(&mut map, &mut uuid, "uuid")?,
                Field::Ts => field(&mut map, &mut ts, "ts")?,
                Field::Encrypt => field::<_, IgnoredAny>(&mut map, &mut encrypt, "encrypt")?,
                Field::Event => {
                    if event.is_some() {
                        return Err(serde::de::Error::duplicate_field("event"));
                    }
                    let documented = header
                        .as_ref()
                        .and_then(Option::as_ref)
                        .and_then(|header: &Header<'_>| Documented::of(&header.event_type))
                        .filter(|_| self.typed);
                    event = Some(match documented {
                        Some(documented) => Some(Payload::Typed(Box::new(map.next_value_seed(documented)?))),
                        None => map.next_value::<Option<&RawValue>>()?.map(Payload::Raw),
                    });
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Body {
            schema: schema.flatten(),
            header: header.flatten(),
            event: event.flatten(),
            kind: kind.flatten(),
            challenge: challenge.flatten(),
            token: token.flatten(),
            uuid: uuid.flatten(),
            ts: ts.flatten(),
            encrypt: encrypt.flatten().is_some(),
        })
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    /// Borrowed: the receiver deduplicates by it while the handler owns the event's copy.
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    event_type: String,
    #[serde(borrow)]
    create_time: Cow<'a, str>,
    #[serde(borrow, default)]
    token: Option<Cow<'a, str>>,
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

    /// Whether the body is encrypted (`{"encrypt": ...}`).
    pub(crate) fn is_encrypted(&self) -> bool {
        self.encrypt
    }

    /// The verification token the body carries.
    pub(crate) fn token(&self) -> Option<&str> {
        match &self.header {
            Some(header) => header.token.as_deref(),
            None => self.token.as_deref(),
        }
    }

    /// The event's header: a 2.0 envelope's, or the fields of a 1.0 one; and its event id
    /// as the body has it (borrowed unless escaped), to deduplicate by while the handler owns
    /// the header. Moves the header's fields out (the body keeps what `into_event` needs), so
    /// that no field is copied but the event id, once.
    pub(crate) fn take_header(&mut self) -> Result<(EventHeader, Cow<'a, str>), &'static str> {
        if let Some(header) = &mut self.header {
            if self.schema.as_deref().is_some_and(|schema| schema != "2.0") {
                return Err("the envelope's schema is not 2.0");
            }
            let create_time = header
                .create_time
                .parse()
                .map_err(|_| "header.create_time is not milliseconds")?;
            let event_id = std::mem::take(&mut header.event_id);
            let header = EventHeader {
                event_id: String::from(&*event_id),
                event_type: std::mem::take(&mut header.event_type),
                create_time,
                app_id: std::mem::take(&mut header.app_id),
                tenant_key: std::mem::take(&mut header.tenant_key),
            };
            return Ok((header, event_id));
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
            .raw_event()
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
        let header = EventHeader {
            event_id: String::from(&*uuid),
            event_type: legacy.kind,
            create_time: (seconds * 1000.0) as i64,
            app_id: legacy.app_id,
            tenant_key: legacy.tenant_key,
        };
        Ok((header, uuid.0))
    }

    /// The payload as received, unless it was decoded as it was read.
    fn raw_event(&self) -> Option<&'a RawValue> {
        match self.event {
            Some(Payload::Raw(raw)) => Some(raw),
            _ => None,
        }
    }

    /// The typed event, once the token is checked and the event claimed.
    pub(crate) fn into_event(self, header: EventHeader) -> HelpdeskEvent {
        let raw = match self.event {
            Some(Payload::Typed(event)) => return (*event).with(header),
            Some(Payload::Raw(raw)) => raw.get(),
            None => "null",
        };
        if self.header.is_none() {
            // A 1.0 envelope: no helpdesk event is pushed this way; handed over as received.
            return other(raw, header);
        }
        let Some(documented) = Documented::of(&header.event_type) else {
            return other(raw, header);
        };
        let read =
            serde::de::DeserializeSeed::deserialize(documented, &mut serde_json::Deserializer::from_str(raw));
        match read {
            Ok(event) => event.with(header),
            Err(error) => {
                tracing::warn!(event_id = %header.event_id, event_type = %header.event_type, %error,
                    "the payload does not decode as the spec says; handing it over as Other");
                other(raw, header)
            }
        }
    }
}

fn other(raw: &str, header: EventHeader) -> HelpdeskEvent {
    HelpdeskEvent::Other {
        event: serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
        header,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one subscribes to for each variant, `None` for `Other`: a match without a
    /// wildcard, so that a new variant does not compile until it is named here.
    fn subscribed_as(event: &HelpdeskEvent) -> Option<EventType> {
        match event {
            HelpdeskEvent::TicketCreated { .. } => Some(EventType::TICKET_CREATED),
            HelpdeskEvent::TicketUpdated { .. } => Some(EventType::TICKET_UPDATED),
            HelpdeskEvent::TicketMessageCreated { .. } => Some(EventType::TICKET_MESSAGE_CREATED),
            HelpdeskEvent::NotificationApprove { .. } => Some(EventType::NOTIFICATION_APPROVE),
            HelpdeskEvent::Other { .. } => None,
        }
    }

    /// Every known event arrives as its variant (its sample, `tests/fixtures/events/<subtype>.json`,
    /// read both as a receiver reads it and from a raw payload), and back: every typed variant
    /// is a known event's, and no two known events share one.
    #[test]
    fn the_table_of_known_events_and_the_variants_agree() {
        let mut variants = std::collections::HashSet::new();
        for known in EventType::KNOWN {
            let path = format!(
                "{}/tests/fixtures/events/{}.json",
                env!("CARGO_MANIFEST_DIR"),
                known.subtype
            );
            let sample = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
            for typed in [true, false] {
                let mut body =
                    Body::parse_with(&sample, typed).unwrap_or_else(|error| panic!("{path}: {error}"));
                let (header, event_id) = body.take_header().expect("a 2.0 envelope");
                assert_eq!(header.event_id, event_id, "{path}");
                assert_eq!(header.event_type, known.pushed_name, "{path}");
                let event = body.into_event(header);
                assert_eq!(
                    subscribed_as(&event),
                    Some(known.to_event_type()),
                    "{} arrives as {event:?}",
                    known.pushed_name
                );
                variants.insert(std::mem::discriminant(&event));
            }
        }
        assert_eq!(
            variants.len(),
            EventType::KNOWN.len(),
            "two known events share a variant"
        );

        for documented in Documented::ALL {
            let known = EventType::KNOWN
                .iter()
                .find(|known| known.to_event_type() == documented.subscribed_as());
            let known = known.unwrap_or_else(|| panic!("{documented:?} is not in EventType::KNOWN"));
            assert_eq!(Documented::of(known.pushed_name), Some(documented));
        }
        assert_eq!(Documented::of("helpdesk.agent.created_v9"), None);
    }
}
