//! What a client sends: pings answered with pongs, acks matched to the pushes waiting for
//! them and checked against the frames they echo, close frames and everything else recorded.

use bytes::Bytes;
use prost::Message as _;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::records::{Ack, OtherMessage, ReceivedClose, ReceivedPing, RecordedFrame, SentFrame};
use super::settings::{ClientConfig, PongPayload};
use super::state::{Inner, State};
use crate::events::long_connection::frame::{Frame, Kind, METHOD_DATA};

impl Inner {
    /// Takes in what `connection` sent; returns the answer to send back, if any.
    pub(super) fn received(&self, connection: u64, message: Message) -> Option<Message> {
        let mut state = self.state();
        if state
            .connections
            .get(&connection)
            .is_some_and(|open| open.stalled)
        {
            return None;
        }
        let answer = match message {
            Message::Binary(bytes) => match Frame::decode(bytes.as_ref()) {
                Ok(frame) => self.received_frame(&mut state, connection, frame, &bytes),
                Err(_) => {
                    state.others.push(OtherMessage {
                        connection,
                        frame: None,
                        raw: bytes.to_vec(),
                    });
                    None
                }
            },
            Message::Text(text) => {
                state.others.push(OtherMessage {
                    connection,
                    frame: None,
                    raw: text.as_bytes().to_vec(),
                });
                None
            }
            Message::Close(frame) => {
                state.closes.push(ReceivedClose {
                    connection,
                    code: frame.as_ref().map(|frame| u16::from(frame.code)),
                    reason: frame
                        .map(|frame| frame.reason.as_str().to_owned())
                        .unwrap_or_default(),
                });
                None
            }
            // WebSocket-level pings are answered by the WebSocket layer itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
        };
        drop(state);
        self.changed.notify_waiters();
        answer
    }

    fn received_frame(
        &self,
        state: &mut State,
        connection: u64,
        frame: Frame,
        bytes: &[u8],
    ) -> Option<Message> {
        let message_id = frame.header("message_id").map(str::to_owned);
        match (frame.kind(), message_id) {
            (Kind::Ping, _) => {
                let recording = state.settings.recording;
                if recording {
                    state.pings.push(ReceivedPing {
                        connection,
                        service: frame.service,
                        frame: RecordedFrame::from(&frame),
                    });
                }
                let payload = match &state.settings.pong {
                    PongPayload::EndpointConfig => config_json(&state.settings.client_config),
                    PongPayload::Config(config) => config_json(config),
                    PongPayload::Empty => None,
                    PongPayload::Raw(bytes) => Some(Bytes::from(bytes.clone())),
                };
                let pong = Frame::control("pong", frame.service, payload);
                if recording {
                    state.sent.push(SentFrame {
                        connection,
                        frame: RecordedFrame::from(&pong),
                    });
                }
                Some(Message::Binary(Bytes::from(pong.encode_to_vec())))
            }
            (_, Some(message_id)) if frame.method == METHOD_DATA => {
                let code = serde_json::from_slice::<Value>(frame.payload())
                    .ok()
                    .and_then(|answer| answer.get("code")?.as_i64());
                let biz_rt = frame.header("biz_rt").and_then(|rt| rt.trim().parse().ok());
                let echoes_sent = state
                    .sent_by_message
                    .get(&message_id)
                    .is_some_and(|sent| sent.iter().any(|sent| echoes(&frame, sent)));
                if let Some(waiting) = state.waiting.remove(&message_id) {
                    let _ = waiting.send(code);
                }
                if !state.settings.recording {
                    return None;
                }
                state.acks.push(Ack {
                    connection,
                    message_id,
                    code,
                    biz_rt,
                    echoes_sent,
                    frame: RecordedFrame::from(&frame),
                });
                None
            }
            _ => {
                state.others.push(OtherMessage {
                    connection,
                    frame: Some(RecordedFrame::from(&frame)),
                    raw: bytes.to_vec(),
                });
                None
            }
        }
    }
}

/// Whether `ack` echoes `sent`: the same ids, service, method and `LogIDNew`, and `sent`'s
/// headers first, in order.
fn echoes(ack: &Frame, sent: &Frame) -> bool {
    ack.seq_id == sent.seq_id
        && ack.log_id == sent.log_id
        && ack.service == sent.service
        && ack.method == sent.method
        && ack.log_id_new == sent.log_id_new
        && ack.headers.starts_with(&sent.headers)
}

fn config_json(config: &ClientConfig) -> Option<Bytes> {
    serde_json::to_vec(config).ok().map(Bytes::from)
}
