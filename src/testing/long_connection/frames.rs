//! The frames the stand-in pushes: a message's data frames, split into fragments and
//! shuffled if asked, recorded and queued for a connection.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use prost::Message as _;
use tokio_tungstenite::tungstenite::Message;

use super::records::{RecordedFrame, SentFrame};
use super::state::{send, Command, Inner, State};
use super::MockLongConnection;
use crate::events::long_connection::frame::{Frame, Header, METHOD_DATA};

impl Inner {
    /// The data frames of one message: `payload` in `fragments` parts (at most one per
    /// byte), each with its own `SeqID` and `LogID`, shuffled if asked.
    pub(super) fn data_frames(
        &self,
        kind: &str,
        message_id: &str,
        payload: &[u8],
        fragments: usize,
        shuffle: bool,
    ) -> Vec<Frame> {
        let sum = fragments.clamp(1, payload.len().max(1));
        let trace_id = format!("{:032x}", fastrand::u128(..));
        let mut frames: Vec<Frame> = (0..sum)
            .map(|seq| {
                let part = &payload[seq * payload.len() / sum..(seq + 1) * payload.len() / sum];
                let number = self.frames.fetch_add(1, Ordering::Relaxed) + 1;
                let log_id = self.log_id_base + number;
                let header = |key: &str, value: &str| Header {
                    key: key.to_owned(),
                    value: value.to_owned(),
                };
                Frame {
                    seq_id: number,
                    log_id,
                    service: MockLongConnection::SERVICE_ID,
                    method: METHOD_DATA,
                    headers: vec![
                        header("type", kind),
                        header("message_id", message_id),
                        header("sum", &sum.to_string()),
                        header("seq", &seq.to_string()),
                        header("trace_id", &trace_id),
                        header("instance_id", &self.instance_id),
                    ],
                    payload_encoding: None,
                    payload_type: None,
                    payload: Some(Bytes::copy_from_slice(part)),
                    log_id_new: Some(format!("{log_id:x}-{:08x}", fastrand::u32(..))),
                }
            })
            .collect();
        if shuffle && sum > 1 {
            fastrand::shuffle(&mut frames);
            if frames.windows(2).all(|pair| pair[0].seq_id < pair[1].seq_id) {
                frames.rotate_left(1);
            }
        }
        frames
    }

    /// Records and queues `frames` for `connection`; whether it is still there to take them.
    pub(super) fn send_frames(&self, state: &mut State, connection: u64, frames: Vec<Frame>) -> bool {
        let mut sent = true;
        for frame in frames {
            let message = Message::Binary(Bytes::from(frame.encode_to_vec()));
            if state.settings.recording {
                state.sent.push(SentFrame {
                    connection,
                    frame: RecordedFrame::from(&frame),
                });
                if let Some(message_id) = frame.header("message_id") {
                    let message_id = message_id.to_owned();
                    state.sent_by_message.entry(message_id).or_default().push(frame);
                }
            }
            sent &= send(state, connection, Command::Send(message));
        }
        sent
    }
}

pub(super) fn fresh_message_id() -> String {
    format!("mock_msg_{:024x}", fastrand::u128(..) >> 32)
}
