//! What a test reads back: the frames the stand-in sent and received as recorded (pings,
//! acks, closes, other messages), and the attempts of a push and whether it was delivered.

use std::time::Duration;

#[cfg(doc)]
use super::MockLongConnection;
use crate::events::long_connection::frame::Frame;

/// A frame as the stand-in sent or received it (the fields of `Frame` in `pbbp2.proto`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedFrame {
    /// `SeqID`.
    pub seq_id: u64,
    /// `LogID`.
    pub log_id: u64,
    /// `service`.
    pub service: i32,
    /// `method`: 0 control, 1 data.
    pub method: i32,
    /// The headers in order, as `(key, value)`.
    pub headers: Vec<(String, String)>,
    /// `payload_encoding`, if set.
    pub payload_encoding: Option<String>,
    /// `payload_type`, if set.
    pub payload_type: Option<String>,
    /// The payload (empty when unset).
    pub payload: Vec<u8>,
    /// `LogIDNew`, if set.
    pub log_id_new: Option<String>,
}

impl RecordedFrame {
    /// The value of the first header named `key`.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

impl From<&Frame> for RecordedFrame {
    fn from(frame: &Frame) -> Self {
        Self {
            seq_id: frame.seq_id,
            log_id: frame.log_id,
            service: frame.service,
            method: frame.method,
            headers: frame
                .headers
                .iter()
                .map(|header| (header.key.clone(), header.value.clone()))
                .collect(),
            payload_encoding: frame.payload_encoding.clone(),
            payload_type: frame.payload_type.clone(),
            payload: frame.payload().to_vec(),
            log_id_new: frame.log_id_new.clone(),
        }
    }
}

/// A frame the stand-in sent, and to which connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentFrame {
    /// The connection's number (1 for the first accepted).
    pub connection: u64,
    /// The frame.
    pub frame: RecordedFrame,
}

/// A ping a client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedPing {
    /// The connection's number.
    pub connection: u64,
    /// The ping's `service` (the URL's `service_id`, [`MockLongConnection::SERVICE_ID`], when
    /// the client is right).
    pub service: i32,
    /// The whole frame.
    pub frame: RecordedFrame,
}

/// An acknowledgement a client sent: a data frame echoing a `message_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ack {
    /// The connection's number.
    pub connection: u64,
    /// The `message_id` it echoes.
    pub message_id: String,
    /// The payload's `code` (200 handled, 500 failed); `None` when the payload is not JSON
    /// with a numeric `code`.
    pub code: Option<i64>,
    /// The `biz_rt` header (the handling time in milliseconds), if present and a number.
    pub biz_rt: Option<i64>,
    /// Whether the ack echoes a frame the stand-in sent with this `message_id`: the same
    /// `SeqID`, `LogID`, `service`, `method` and `LogIDNew`, and that frame's headers, in
    /// order, before any the client added.
    pub echoes_sent: bool,
    /// The whole frame.
    pub frame: RecordedFrame,
}

/// A close frame a client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedClose {
    /// The connection's number.
    pub connection: u64,
    /// The close code, if the frame had one.
    pub code: Option<u16>,
    /// The reason.
    pub reason: String,
}

/// A message a client sent that is neither a ping, an ack nor a close: a text message, bytes
/// that are not a frame, or a frame of another kind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtherMessage {
    /// The connection's number.
    pub connection: u64,
    /// The frame, when the message was a binary message holding one.
    pub frame: Option<RecordedFrame>,
    /// The message's bytes (a text message's UTF-8).
    pub raw: Vec<u8>,
}

/// One push of an event over the long connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LongConnectionAttempt {
    /// The connection it went to; `None` when no connection was live.
    pub connection: Option<u64>,
    /// The `message_id` of its frames (fresh for each attempt); `None` when nothing was sent.
    pub message_id: Option<String>,
    /// The ack's `code`; `None` when no ack came within the deadline (or its payload held no
    /// code).
    pub code: Option<i64>,
    /// How long the ack took: the deadline when none came, zero when nothing was sent (no
    /// live connection, or the connection ended before the frames went out).
    pub latency: Duration,
    /// When the attempt was made, from the first.
    pub sent_at: Duration,
}

/// Every attempt of one event's delivery over the long connection, and whether it ended
/// delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LongConnectionDelivery {
    /// The attempts in order: the first push, then the retries.
    pub attempts: Vec<LongConnectionAttempt>,
    /// Whether an attempt was acknowledged with code 200 within the deadline.
    pub delivered: bool,
}
