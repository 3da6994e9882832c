//! The long connection's frames (`proto/pbbp2.proto`) as prost types, and the few frames the
//! client makes: pings and acknowledgements.

use bytes::Bytes;

/// `Frame.method` of pings and pongs.
pub(crate) const METHOD_CONTROL: i32 = 0;
/// `Frame.method` of events (and the old card callbacks).
pub(crate) const METHOD_DATA: i32 = 1;

/// One `key: value` header of a frame.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub(crate) struct Header {
    #[prost(string, required, tag = "1")]
    pub(crate) key: String,
    #[prost(string, required, tag = "2")]
    pub(crate) value: String,
}

/// One WebSocket message, in either direction. (prost's derive adds `payload()`, the payload
/// or empty, and the like for the other optional fields.)
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Frame {
    #[prost(uint64, required, tag = "1")]
    pub(crate) seq_id: u64,
    #[prost(uint64, required, tag = "2")]
    pub(crate) log_id: u64,
    #[prost(int32, required, tag = "3")]
    pub(crate) service: i32,
    #[prost(int32, required, tag = "4")]
    pub(crate) method: i32,
    #[prost(message, repeated, tag = "5")]
    pub(crate) headers: Vec<Header>,
    #[prost(string, optional, tag = "6")]
    pub(crate) payload_encoding: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub(crate) payload_type: Option<String>,
    #[prost(bytes = "bytes", optional, tag = "8")]
    pub(crate) payload: Option<Bytes>,
    #[prost(string, optional, tag = "9")]
    pub(crate) log_id_new: Option<String>,
}

/// What a frame is, from its method and `type` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ping,
    Pong,
    Event,
    Card,
    Other,
}

impl Frame {
    /// The value of the first header named `key`.
    pub(crate) fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|header| header.key == key)
            .map(|header| header.value.as_str())
    }

    /// What the frame is.
    pub(crate) fn kind(&self) -> Kind {
        match (self.method, self.header("type")) {
            (METHOD_CONTROL, Some("ping")) => Kind::Ping,
            (METHOD_CONTROL, Some("pong")) => Kind::Pong,
            (METHOD_DATA, Some("event")) => Kind::Event,
            (METHOD_DATA, Some("card")) => Kind::Card,
            _ => Kind::Other,
        }
    }

    /// A control frame of `kind` (`ping` or `pong`) for the service `service`.
    pub(crate) fn control(kind: &str, service: i32, payload: Option<Bytes>) -> Frame {
        Frame {
            seq_id: 0,
            log_id: 0,
            service,
            method: METHOD_CONTROL,
            headers: vec![Header {
                key: "type".to_owned(),
                value: kind.to_owned(),
            }],
            payload_encoding: None,
            payload_type: None,
            payload,
            log_id_new: None,
        }
    }

    /// The acknowledgement of this (data) frame, as the platform reads it: the same frame,
    /// its headers and `biz_rt` (the handling time in milliseconds), the payload replaced by
    /// `{"code":<code>,"headers":null,"data":null}`.
    pub(crate) fn into_ack(mut self, code: u16, biz_rt_ms: u64) -> Frame {
        self.headers.push(Header {
            key: "biz_rt".to_owned(),
            value: biz_rt_ms.to_string(),
        });
        self.payload = Some(Bytes::from(format!(
            r#"{{"code":{code},"headers":null,"data":null}}"#
        )));
        self.payload_encoding = None;
        self.payload_type = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn an_ack_keeps_the_frame_and_adds_biz_rt() {
        let event = Frame {
            seq_id: 7,
            log_id: 9,
            service: 33,
            method: METHOD_DATA,
            headers: vec![
                Header {
                    key: "type".into(),
                    value: "event".into(),
                },
                Header {
                    key: "message_id".into(),
                    value: "m1".into(),
                },
            ],
            payload_encoding: None,
            payload_type: None,
            payload: Some(Bytes::from_static(b"{}")),
            log_id_new: Some("n".into()),
        };
        assert_eq!(event.kind(), Kind::Event);
        let ack = event.clone().into_ack(200, 12);
        assert_eq!(
            (ack.seq_id, ack.log_id, ack.service, ack.method),
            (7, 9, 33, METHOD_DATA)
        );
        assert_eq!(ack.log_id_new.as_deref(), Some("n"));
        assert_eq!(ack.header("message_id"), Some("m1"));
        assert_eq!(ack.header("biz_rt"), Some("12"));
        assert_eq!(ack.payload(), br#"{"code":200,"headers":null,"data":null}"#);
        let decoded = Frame::decode(ack.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, ack);
    }

    /// The `(number, wire type)` of each field of `message` in `proto/pbbp2.proto`.
    fn declared(message: &str) -> Vec<(u64, u64)> {
        let proto = include_str!("../../../proto/pbbp2.proto");
        let body = proto
            .split(&format!("message {message} {{"))
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .expect("the message in the .proto");
        body.lines()
            .map(|line| line.split("//").next().unwrap_or_default().trim())
            .filter(|line| !line.is_empty())
            .map(|line| {
                let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
                // `<label> <type> <name> = <number>`
                let wire = match words[1] {
                    "uint64" | "int32" => 0,
                    "string" | "bytes" => 2,
                    _ => 2, // a message
                };
                (words[4].parse().expect("a field number"), wire)
            })
            .collect()
    }

    /// The `(number, wire type)` of each field in an encoding, in order.
    fn encoded(mut bytes: &[u8]) -> Vec<(u64, u64)> {
        let mut fields = Vec::new();
        while !bytes.is_empty() {
            let key = prost::encoding::decode_varint(&mut bytes).unwrap();
            let (number, wire) = (key >> 3, key & 7);
            match wire {
                0 => {
                    prost::encoding::decode_varint(&mut bytes).unwrap();
                }
                2 => {
                    let len = prost::encoding::decode_varint(&mut bytes).unwrap() as usize;
                    bytes = &bytes[len..];
                }
                other => panic!("wire type {other}"),
            }
            fields.push((number, wire));
        }
        fields
    }

    #[test]
    fn the_types_encode_every_field_as_the_proto_declares() {
        let frame = Frame {
            seq_id: 1,
            log_id: 2,
            service: 3,
            method: 4,
            headers: vec![Header {
                key: "k".into(),
                value: "v".into(),
            }],
            payload_encoding: Some("e".into()),
            payload_type: Some("t".into()),
            payload: Some(Bytes::from_static(b"p")),
            log_id_new: Some("n".into()),
        };
        assert_eq!(encoded(&frame.encode_to_vec()), declared("Frame"));
        let header = Header {
            key: "k".into(),
            value: "v".into(),
        };
        assert_eq!(encoded(&header.encode_to_vec()), declared("Header"));
    }

    #[test]
    fn control_frames_are_told_apart() {
        assert_eq!(Frame::control("ping", 1, None).kind(), Kind::Ping);
        assert_eq!(Frame::control("pong", 1, None).kind(), Kind::Pong);
        let mut card = Frame::control("card", 1, None);
        assert_eq!(card.kind(), Kind::Other);
        card.method = METHOD_DATA;
        assert_eq!(card.kind(), Kind::Card);
    }
}
