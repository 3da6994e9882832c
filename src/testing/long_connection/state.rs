//! What the stand-in's handle and its connections share: the settings, the tickets handed
//! out, the faults queued, the open connections and their commands, the records, the pushes
//! waiting for their ack.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::faults::{EndpointFault, HandshakeRefusal};
use super::records::{Ack, OtherMessage, ReceivedClose, ReceivedPing, SentFrame};
use super::settings::Settings;
use crate::events::long_connection::frame::Frame;

pub(super) enum Command {
    Send(Message),
    Close(CloseFrame),
    /// Stop speaking WebSocket: swallow what arrives, answer nothing, keep the socket open.
    Stall,
    /// Drop the socket without a close frame; `reset`: with an RST rather than a FIN.
    Drop {
        reset: bool,
    },
}

pub(super) struct Connection {
    pub(super) commands: mpsc::UnboundedSender<Command>,
    pub(super) stalled: bool,
}

pub(super) struct Ticket {
    pub(super) access_key: String,
    pub(super) device_id: String,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) settings: Settings,
    pub(super) tickets: HashMap<String, Ticket>,
    pub(super) endpoint_faults: VecDeque<EndpointFault>,
    pub(super) refusals: VecDeque<HandshakeRefusal>,
    /// Open sockets, live or stalled, by number.
    pub(super) connections: BTreeMap<u64, Connection>,
    pub(super) last_connection: u64,
    pub(super) endpoint_calls: usize,
    pub(super) handshakes: usize,
    pub(super) refused: usize,
    pub(super) pings: Vec<ReceivedPing>,
    pub(super) acks: Vec<Ack>,
    pub(super) closes: Vec<ReceivedClose>,
    pub(super) others: Vec<OtherMessage>,
    pub(super) sent: Vec<SentFrame>,
    /// The frames sent under each `message_id`, to check the acks' echoes.
    pub(super) sent_by_message: HashMap<String, Vec<Frame>>,
    /// The pushes waiting for an ack, by `message_id`.
    pub(super) waiting: HashMap<String, oneshot::Sender<Option<i64>>>,
}

pub(super) struct Inner {
    pub(super) app_id: String,
    pub(super) app_secret: String,
    pub(super) address: SocketAddr,
    pub(super) instance_id: String,
    pub(super) frames: AtomicU64,
    pub(super) log_id_base: u64,
    pub(super) state: Mutex<State>,
    pub(super) changed: Notify,
}

impl Inner {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // Every update is a single step, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn register(&self, commands: mpsc::UnboundedSender<Command>) -> u64 {
        let mut state = self.state();
        state.last_connection += 1;
        state.handshakes += 1;
        let number = state.last_connection;
        state.connections.insert(
            number,
            Connection {
                commands,
                stalled: false,
            },
        );
        drop(state);
        self.changed.notify_waiters();
        number
    }

    pub(super) fn unregister(&self, connection: u64) {
        self.state().connections.remove(&connection);
        self.changed.notify_waiters();
    }
}

pub(super) fn live_connections(state: &State) -> Vec<u64> {
    state
        .connections
        .iter()
        .filter(|(_, connection)| !connection.stalled)
        .map(|(number, _)| *number)
        .collect()
}

/// Queues `command` for `connection`; whether it is still there to take it.
pub(super) fn send(state: &mut State, connection: u64, command: Command) -> bool {
    state
        .connections
        .get(&connection)
        .is_some_and(|open| open.commands.send(command).is_ok())
}
