//! The platform's side of the long connection (长连接), for testing clients of it (feature
//! `long-connection`): the endpoint that hands out a WebSocket URL with a single-use ticket,
//! the WebSocket server behind it speaking the platform's protobuf frames (pongs carrying the
//! client config, events pushed to one live connection at random, fragments, the retries of
//! what was not acknowledged), what the client sent, and faults on demand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use prost::Message as _;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::push::{self, PushEvent, DELIVERY_DEADLINE, RETRY_SCHEDULE};
use super::{Answer, MockCredentials};
use crate::events::long_connection::frame::{Frame, Header, Kind, METHOD_DATA};

/// The WebSocket path of the URLs the endpoint hands out.
const WS_PATH: &str = "/ws/v2";

/// The `ClientConfig` the platform sends: in the endpoint's answer (`data.ClientConfig`) and
/// as the payload of its pongs. Every value is in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientConfig {
    /// How many reconnect attempts the client makes; negative: no limit.
    pub reconnect_count: i64,
    /// The pause between reconnect attempts.
    pub reconnect_interval: i64,
    /// The upper bound of the random pause before the first reconnect attempt.
    pub reconnect_nonce: i64,
    /// How often the client pings.
    pub ping_interval: i64,
}

impl Default for ClientConfig {
    /// The platform's values: no reconnect limit, 120 s between attempts, up to 30 s before
    /// the first, a ping every 120 s.
    fn default() -> Self {
        Self {
            reconnect_count: -1,
            reconnect_interval: 120,
            reconnect_nonce: 30,
            ping_interval: 120,
        }
    }
}

/// What the stand-in answers a client's ping with: a pong carrying this payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PongPayload {
    /// The config the endpoint hands out ([`MockLongConnection::set_client_config`]), as JSON:
    /// what the platform does.
    #[default]
    EndpointConfig,
    /// This config as JSON (zeros, negative values: whatever a test needs).
    Config(ClientConfig),
    /// A pong without payload.
    Empty,
    /// These bytes as the payload (malformed JSON, say).
    Raw(Vec<u8>),
}

/// An answer of the endpoint (`POST /callback/ws/endpoint`) in place of the URL, queued
/// with [`MockLongConnection::fail_endpoint`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointFault {
    /// `{"code":1,"msg":"system busy"}`: the client should try again later.
    SystemBusy,
    /// `{"code":1000040343,"msg":"internal error"}`: the client should try again later.
    InternalError,
    /// `{"code":10014,"msg":"app secret invalid"}` (whatever the credentials): the client must
    /// not retry.
    BadCredentials,
    /// Another code and message, on HTTP 200.
    Code {
        /// The platform code.
        code: i64,
        /// The message.
        msg: String,
    },
    /// A gateway's HTML page with this HTTP status (such as 502).
    HttpStatus(u16),
    /// `{"code":0,"msg":"ok","data":{}}`: success without a URL.
    MissingUrl,
    /// The normal answer after this delay.
    Delay(Duration),
}

/// A refusal of the WebSocket handshake, queued with [`MockLongConnection::refuse_handshakes`].
/// The answer's status line carries the same status as `Handshake-Status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeRefusal {
    /// `Handshake-Status: 403`: the app is banned; the client must not retry.
    Banned,
    /// `Handshake-Status: 514` and `Handshake-Autherrcode: 1000040350`: too many
    /// connections; the client must not retry.
    TooManyConnections,
    /// `Handshake-Status: 514` with another auth code
    /// ([`MockLongConnection::AUTH_FAILED`]): the client may retry.
    AuthFailed,
    /// A plain HTTP 500 without the handshake headers: the client may retry.
    ServerError,
}

/// What [`MockLongConnection::inject`] sends to every live connection, for a client to skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Injected {
    /// A data frame of type `card` (the old card callbacks), which the official clients drop
    /// without acknowledging.
    Card,
    /// A data frame of a type no client knows (`type: x-unknown`), with a `message_id`.
    UnknownType,
    /// A frame whose method is neither control nor data (method 7).
    UnknownMethod,
    /// A ping control frame from the server (method 0, `type: ping`).
    ServerPing,
    /// A text WebSocket message.
    Text,
    /// A binary WebSocket message that is not a protobuf frame.
    Undecodable,
}

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

enum Command {
    Send(Message),
    Close(CloseFrame),
    /// Stop speaking WebSocket: swallow what arrives, answer nothing, keep the socket open.
    Stall,
    /// Drop the socket without a close frame; `reset`: with an RST rather than a FIN.
    Drop {
        reset: bool,
    },
}

struct Connection {
    commands: mpsc::UnboundedSender<Command>,
    stalled: bool,
}

struct Ticket {
    access_key: String,
    device_id: String,
}

struct Settings {
    client_config: ClientConfig,
    pong: PongPayload,
    retry_schedule: Vec<Duration>,
    retry_scale: f64,
    deadline: Duration,
    fragments: usize,
    shuffle: bool,
    recording: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            client_config: ClientConfig::default(),
            pong: PongPayload::default(),
            retry_schedule: RETRY_SCHEDULE.to_vec(),
            retry_scale: 1.0,
            deadline: DELIVERY_DEADLINE,
            fragments: 1,
            shuffle: false,
            recording: true,
        }
    }
}

#[derive(Default)]
struct State {
    settings: Settings,
    tickets: HashMap<String, Ticket>,
    endpoint_faults: VecDeque<EndpointFault>,
    refusals: VecDeque<HandshakeRefusal>,
    /// Open sockets, live or stalled, by number.
    connections: BTreeMap<u64, Connection>,
    last_connection: u64,
    endpoint_calls: usize,
    handshakes: usize,
    refused: usize,
    pings: Vec<ReceivedPing>,
    acks: Vec<Ack>,
    closes: Vec<ReceivedClose>,
    others: Vec<OtherMessage>,
    sent: Vec<SentFrame>,
    /// The frames sent under each `message_id`, to check the acks' echoes.
    sent_by_message: HashMap<String, Vec<Frame>>,
    /// The pushes waiting for an ack, by `message_id`.
    waiting: HashMap<String, oneshot::Sender<Option<i64>>>,
}

struct Inner {
    app_id: String,
    app_secret: String,
    address: SocketAddr,
    instance_id: String,
    frames: AtomicU64,
    log_id_base: u64,
    state: Mutex<State>,
    changed: Notify,
}

/// The stand-in of the long connection, part of a [`MockPlatform`](super::MockPlatform)
/// ([`MockPlatform::long_connection`](super::MockPlatform::long_connection)): its HTTP server
/// answers `POST /callback/ws/endpoint` with the URL of a WebSocket server on another
/// loopback port, which accepts each URL's ticket once.
///
/// Connections are numbered from 1 in the order their handshakes are accepted. A connection
/// is *live* while its socket is open and it has not been made half-open
/// ([`go_half_open`](Self::go_half_open)); pushes and injected messages go to live
/// connections only. Every setting applies from the next push or ping on, and is
/// shared by every caller (it is the platform's).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use feishu_helpdesk::testing::{MockPlatform, PushEvent};
///
/// let platform = MockPlatform::start().await;
/// let stand_in = platform.long_connection();
/// stand_in.set_retry_schedule(vec![Duration::from_millis(10); 2]);
/// stand_in.set_deadline(Duration::from_millis(100));
///
/// // No client is connected: every attempt finds no live connection.
/// let event = PushEvent::new("helpdesk.ticket.created_v1", serde_json::json!({"ticket_id": "1"}));
/// let delivery = stand_in.push(&event).await;
/// assert!(!delivery.delivered);
/// assert_eq!(delivery.attempts.len(), 3); // the push and two retries
/// assert!(delivery.attempts.iter().all(|attempt| attempt.connection.is_none()));
///
/// // A client would call the endpoint, open the URL it answers, ping, and acknowledge
/// // each event; the stand-in records all of it.
/// assert!(!stand_in.wait_for_live(1, Duration::from_millis(10)).await);
/// # }
/// ```
pub struct MockLongConnection {
    inner: Arc<Inner>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for MockLongConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state();
        let live = state.connections.values().filter(|c| !c.stalled).count();
        f.debug_struct("MockLongConnection")
            .field("address", &self.inner.address)
            .field("app_id", &self.inner.app_id)
            .field("open", &state.connections.len())
            .field("live", &live)
            .field("endpoint_calls", &state.endpoint_calls)
            .field("handshakes", &state.handshakes)
            .finish_non_exhaustive()
    }
}

impl MockLongConnection {
    /// The path of the endpoint that hands out the WebSocket URL.
    pub const ENDPOINT_PATH: &'static str = "/callback/ws/endpoint";
    /// The `service_id` of every URL handed out, and the `service` of the frames the stand-in
    /// sends.
    pub const SERVICE_ID: i32 = 33_554_678;
    /// `Handshake-Autherrcode` of a refusal for too many connections (the client must not
    /// retry).
    pub const TOO_MANY_CONNECTIONS: u32 = 1_000_040_350;
    /// `Handshake-Autherrcode` of the stand-in's other authentication failures, such as an
    /// unknown or used ticket (the client may retry with a new URL).
    pub const AUTH_FAILED: u32 = 1_000_040_351;
    /// The live connections an app may have: the next handshake is refused
    /// [`TooManyConnections`](HandshakeRefusal::TooManyConnections).
    pub const MAX_CONNECTIONS: usize = 50;

    /// Binds the WebSocket server's loopback port and starts accepting.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub(super) async fn start(credentials: &MockCredentials) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the long connection's stand-in");
        let address = listener
            .local_addr()
            .expect("the long connection stand-in's address");
        let inner = Arc::new(Inner {
            app_id: credentials.app_id.clone(),
            app_secret: credentials.app_secret.clone(),
            address,
            instance_id: format!("mock-instance-{:016x}", fastrand::u64(..)),
            frames: AtomicU64::new(0),
            log_id_base: fastrand::u64(1 << 60..1 << 62),
            state: Mutex::default(),
            changed: Notify::new(),
        });
        let serving = Arc::clone(&inner);
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(Arc::clone(&serving), stream));
                while connections.try_join_next().is_some() {}
            }
        });
        Self { inner, accept }
    }

    /// Stops accepting and ends every connection (when the platform is dropped).
    pub(super) fn stop(&self) {
        self.accept.abort();
    }

    // --- Settings ------------------------------------------------------------------------

    /// The `ClientConfig` of the endpoint's answers (and of pongs, unless
    /// [`set_pong`](Self::set_pong) says otherwise); [`ClientConfig::default`] unless set.
    pub fn set_client_config(&self, config: ClientConfig) {
        self.inner.state().settings.client_config = config;
    }

    /// The `ClientConfig` the endpoint answers now.
    pub fn client_config(&self) -> ClientConfig {
        self.inner.state().settings.client_config
    }

    /// What each pong carries ([`PongPayload::EndpointConfig`] unless set).
    pub fn set_pong(&self, payload: PongPayload) {
        self.inner.state().settings.pong = payload;
    }

    /// The waits before each retry of a push not acknowledged with 200, before scaling
    /// ([`RETRY_SCHEDULE`] unless set; its length is the number of retries).
    pub fn set_retry_schedule(&self, schedule: Vec<Duration>) {
        self.inner.state().settings.retry_schedule = schedule;
    }

    /// Multiplies the retry schedule by `factor`: 0.001 turns 15 s, 5 min, 1 h and 6 h into
    /// 15 ms, 300 ms, 3.6 s and 21.6 s.
    pub fn set_retry_scale(&self, factor: f64) {
        self.inner.state().settings.retry_scale = factor.max(0.0);
    }

    /// How long a push waits for its ack before it counts as failed
    /// ([`DELIVERY_DEADLINE`] unless set).
    pub fn set_deadline(&self, deadline: Duration) {
        self.inner.state().settings.deadline = deadline;
    }

    /// The waits between attempts of a push, as scaled now.
    pub fn schedule(&self) -> Vec<Duration> {
        let state = self.inner.state();
        let settings = &state.settings;
        settings
            .retry_schedule
            .iter()
            .map(|wait| wait.mul_f64(settings.retry_scale))
            .collect()
    }

    /// Splits each pushed payload into `fragments` frames (`sum` = `fragments`, `seq` 0 to
    /// `sum - 1`, one `message_id`), at most one per byte; 1 (the default) sends it whole.
    pub fn set_fragments(&self, fragments: usize) {
        self.inner.state().settings.fragments = fragments.max(1);
    }

    /// Sends the fragments of each push out of order (never in order when there are several),
    /// so that only reassembly by `seq` gives the payload back.
    pub fn set_shuffle_fragments(&self, shuffle: bool) {
        self.inner.state().settings.shuffle = shuffle;
    }

    // --- Pushing -------------------------------------------------------------------------

    /// Pushes `event` as the platform does: its 2.0 envelope (`token` empty, the app id of
    /// the credentials, unencrypted) to one live connection chosen at random, then waits for
    /// the ack up to the deadline. Until an ack with code 200 comes, pushes it again after
    /// each wait of the [`schedule`](Self::schedule), each time to a live connection chosen
    /// at that moment and under a fresh `message_id`; the `event_id` stays the same.
    pub async fn push(&self, event: &PushEvent) -> LongConnectionDelivery {
        let started = Instant::now();
        let schedule = self.schedule();
        let mut attempts = Vec::new();
        for wait in std::iter::once(Duration::ZERO).chain(schedule) {
            tokio::time::sleep(wait).await;
            let attempt = self.attempt(event, started).await;
            let delivered = attempt.code == Some(200);
            attempts.push(attempt);
            if delivered {
                return LongConnectionDelivery {
                    attempts,
                    delivered: true,
                };
            }
        }
        LongConnectionDelivery {
            attempts,
            delivered: false,
        }
    }

    /// Pushes `event` once, without retries.
    pub async fn push_once(&self, event: &PushEvent) -> LongConnectionAttempt {
        self.attempt(event, Instant::now()).await
    }

    async fn attempt(&self, event: &PushEvent, started: Instant) -> LongConnectionAttempt {
        let sent_at = started.elapsed();
        let create_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let payload = push::envelope(event, "", &self.inner.app_id, push::TENANT_KEY, create_time, None);
        let message_id = fresh_message_id();
        let (acked, ack) = oneshot::channel();
        let (connection, deadline) = {
            let mut state = self.inner.state();
            let live = live_connections(&state);
            let Some(connection) = fastrand::choice(&live).copied() else {
                return LongConnectionAttempt {
                    connection: None,
                    message_id: None,
                    code: None,
                    latency: Duration::ZERO,
                    sent_at,
                };
            };
            let (fragments, shuffle) = (state.settings.fragments, state.settings.shuffle);
            let frames = self
                .inner
                .data_frames("event", &message_id, &payload, fragments, shuffle);
            state.waiting.insert(message_id.clone(), acked);
            let sent = self.inner.send_frames(&mut state, connection, frames);
            if !sent {
                state.waiting.remove(&message_id);
            }
            (connection, state.settings.deadline)
        };
        let sent = Instant::now();
        let code = match tokio::time::timeout(deadline, ack).await {
            Ok(Ok(code)) => code,
            // Timed out, or the connection was gone before the frames went out.
            Ok(Err(_)) | Err(_) => None,
        };
        self.inner.state().waiting.remove(&message_id);
        LongConnectionAttempt {
            connection: Some(connection),
            message_id: Some(message_id),
            code,
            latency: sent.elapsed(),
            sent_at,
        }
    }

    /// Sends `message` to every live connection; returns how many.
    pub fn inject(&self, message: Injected) -> usize {
        let mut state = self.inner.state();
        let live = live_connections(&state);
        for &connection in &live {
            match message {
                Injected::Text => {
                    let text = Message::text("a text message the client must skip");
                    send(&mut state, connection, Command::Send(text));
                }
                Injected::Undecodable => {
                    let garbage = Bytes::from_static(&[0xff; 11]);
                    send(&mut state, connection, Command::Send(Message::Binary(garbage)));
                }
                Injected::ServerPing => {
                    let ping = Frame::control("ping", Self::SERVICE_ID, None);
                    self.inner.send_frames(&mut state, connection, vec![ping]);
                }
                Injected::Card | Injected::UnknownType | Injected::UnknownMethod => {
                    let kind = if message == Injected::Card {
                        "card"
                    } else {
                        "x-unknown"
                    };
                    let payload = br#"{"open_id":"ou_mock","action":{"value":{"key":"value"},"tag":"button"},"token":"c-mock"}"#;
                    let mut frames = self
                        .inner
                        .data_frames(kind, &fresh_message_id(), payload, 1, false);
                    if message == Injected::UnknownMethod {
                        frames.iter_mut().for_each(|frame| frame.method = 7);
                    }
                    self.inner.send_frames(&mut state, connection, frames);
                }
            }
        }
        live.len()
    }

    /// Issues a URL with a fresh ticket, as the endpoint does, without an HTTP call (for a
    /// test of the WebSocket side alone).
    pub fn issue_url(&self) -> String {
        self.inner.issue_url()
    }

    // --- Faults --------------------------------------------------------------------------

    /// The next `times` calls of the endpoint get `fault` instead of the URL (after the
    /// faults queued before).
    pub fn fail_endpoint(&self, fault: EndpointFault, times: usize) {
        let mut state = self.inner.state();
        state.endpoint_faults.extend(std::iter::repeat_n(fault, times));
    }

    /// The next `times` WebSocket handshakes are refused with `refusal` (after the refusals
    /// queued before), whatever their ticket; a refused handshake uses its ticket up.
    pub fn refuse_handshakes(&self, refusal: HandshakeRefusal, times: usize) {
        let mut state = self.inner.state();
        state.refusals.extend(std::iter::repeat_n(refusal, times));
    }

    /// Drops every open connection's socket without a close frame (a FIN); returns how many.
    /// They are no longer live from this call on.
    pub fn drop_connections(&self) -> usize {
        self.end_connections(|| Command::Drop { reset: false })
    }

    /// Resets every open connection's socket (an RST, no close frame); returns how many. They
    /// are no longer live from this call on.
    pub fn reset_connections(&self) -> usize {
        self.end_connections(|| Command::Drop { reset: true })
    }

    /// Closes every live connection with a close frame of `code` (1000 is a normal close);
    /// returns how many. They are no longer live from this call on; the client's close
    /// frame in return shows in [`closes`](Self::closes).
    pub fn close_connections(&self, code: u16) -> usize {
        let mut state = self.inner.state();
        let live = live_connections(&state);
        for connection in &live {
            if let Some(open) = state.connections.remove(connection) {
                let _ = open.commands.send(Command::Close(CloseFrame {
                    code: CloseCode::from(code),
                    reason: "closed by the platform".into(),
                }));
            }
        }
        drop(state);
        self.inner.changed.notify_waiters();
        live.len()
    }

    /// Makes every live connection half-open: the socket stays open, but what the client
    /// sends is swallowed (no pong, no ack recorded, not even WebSocket-level pongs) and
    /// nothing is pushed to it; connections made afterwards behave normally. Returns how
    /// many. The connection stays among the [open](Self::open_connections) ones until the
    /// client closes its socket.
    pub fn go_half_open(&self) -> usize {
        let mut state = self.inner.state();
        let live = live_connections(&state);
        for connection in &live {
            if let Some(open) = state.connections.get_mut(connection) {
                open.stalled = true;
                let _ = open.commands.send(Command::Stall);
            }
        }
        drop(state);
        self.inner.changed.notify_waiters();
        live.len()
    }

    fn end_connections(&self, command: impl Fn() -> Command) -> usize {
        let mut state = self.inner.state();
        let ended = std::mem::take(&mut state.connections);
        for connection in ended.values() {
            let _ = connection.commands.send(command());
        }
        drop(state);
        self.inner.changed.notify_waiters();
        ended.len()
    }

    // --- Observation ---------------------------------------------------------------------

    /// How many times the endpoint was called (refused calls included).
    pub fn endpoint_calls(&self) -> usize {
        self.inner.state().endpoint_calls
    }

    /// How many WebSocket handshakes were accepted.
    pub fn handshakes(&self) -> usize {
        self.inner.state().handshakes
    }

    /// How many WebSocket handshakes were refused (queued refusals, bad or used tickets, too
    /// many connections).
    pub fn refused_handshakes(&self) -> usize {
        self.inner.state().refused
    }

    /// The numbers of the live connections, in order.
    pub fn live_connections(&self) -> Vec<u64> {
        live_connections(&self.inner.state())
    }

    /// The numbers of the connections whose socket is open, live or half-open, in order.
    pub fn open_connections(&self) -> Vec<u64> {
        self.inner.state().connections.keys().copied().collect()
    }

    /// Every ping received, oldest first.
    pub fn pings(&self) -> Vec<ReceivedPing> {
        self.inner.state().pings.clone()
    }

    /// How many pings were received.
    pub fn ping_count(&self) -> usize {
        self.inner.state().pings.len()
    }

    /// Every ack received (on time or late), oldest first.
    pub fn acks(&self) -> Vec<Ack> {
        self.inner.state().acks.clone()
    }

    /// Every close frame received, oldest first.
    pub fn closes(&self) -> Vec<ReceivedClose> {
        self.inner.state().closes.clone()
    }

    /// Every other message received, oldest first.
    pub fn other_messages(&self) -> Vec<OtherMessage> {
        self.inner.state().others.clone()
    }

    /// Every frame sent (events, their fragments, pongs, injected frames), oldest first.
    pub fn sent(&self) -> Vec<SentFrame> {
        self.inner.state().sent.clone()
    }

    /// Whether frames sent, pings and acks are recorded (on unless set): off, a long run (a
    /// benchmark) keeps no memory per event, and [`sent`](Self::sent), [`pings`](Self::pings),
    /// [`acks`](Self::acks) and [`ping_count`](Self::ping_count) stay as they were; pushes
    /// still see their acks' codes.
    pub fn set_recording(&self, on: bool) {
        self.inner.state().settings.recording = on;
    }

    /// Forgets what was recorded so far (frames sent, pings, acks, closes, other messages;
    /// [`ping_count`](Self::ping_count) starts again from zero), keeping the endpoint and
    /// handshake counts: for a long run, such as a benchmark, whose records would otherwise
    /// grow without bound.
    pub fn clear_records(&self) {
        let mut state = self.inner.state();
        state.sent = Vec::new();
        state.pings = Vec::new();
        state.acks = Vec::new();
        state.closes = Vec::new();
        state.others = Vec::new();
        // The frames of pushes still waiting for their ack stay: the ack is checked against them.
        let State {
            sent_by_message,
            waiting,
            ..
        } = &mut *state;
        sent_by_message.retain(|message_id, _| waiting.contains_key(message_id));
    }

    /// Waits until `condition` holds (it is checked at once, then after every change the
    /// stand-in sees: a connection, a ping, an ack, an endpoint call...), for at most
    /// `timeout`; returns whether it held.
    pub async fn wait_until(&self, timeout: Duration, mut condition: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let mut changed = std::pin::pin!(self.inner.changed.notified());
            changed.as_mut().enable();
            if condition(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return condition(self);
            }
        }
    }

    /// Waits until at least `count` connections are live, for at most `timeout`; returns
    /// whether they were.
    pub async fn wait_for_live(&self, count: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |stand_in| stand_in.live_connections().len() >= count)
            .await
    }

    // --- The endpoint (called by the platform's HTTP server) ------------------------------

    /// The endpoint's answer to a request with `body`.
    pub(super) async fn endpoint(&self, body: &[u8]) -> Answer {
        let fault = {
            let mut state = self.inner.state();
            state.endpoint_calls += 1;
            state.endpoint_faults.pop_front()
        };
        self.inner.changed.notify_waiters();
        match fault {
            None => {}
            Some(EndpointFault::Delay(delay)) => tokio::time::sleep(delay).await,
            Some(EndpointFault::SystemBusy) => return super::envelope(200, 1, "system busy"),
            Some(EndpointFault::InternalError) => {
                return super::envelope(200, 1_000_040_343, "internal error")
            }
            Some(EndpointFault::BadCredentials) => return super::envelope(200, 10014, "app secret invalid"),
            Some(EndpointFault::Code { code, msg }) => return super::envelope(200, code, &msg),
            Some(EndpointFault::HttpStatus(status)) => {
                let page = format!("<html><body><h1>{status}</h1></body></html>");
                return super::respond(status, "text/html", page);
            }
            Some(EndpointFault::MissingUrl) => {
                let answer = json!({"code": 0, "msg": "ok", "data": {}});
                return super::respond(200, super::JSON_UTF8, answer.to_string());
            }
        }
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if request["AppID"].as_str() != Some(self.inner.app_id.as_str()) {
            return super::envelope(200, 10003, "app id invalid");
        }
        if request["AppSecret"].as_str() != Some(self.inner.app_secret.as_str()) {
            return super::envelope(200, 10014, "app secret invalid");
        }
        let url = self.inner.issue_url();
        let config = self.client_config();
        let answer = json!({"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": config}});
        super::respond(200, super::JSON_UTF8, answer.to_string())
    }
}

/// `body` of an endpoint request as recorded: the value of `AppSecret` masked, whatever it is.
pub(super) fn masked(body: &[u8]) -> Bytes {
    let secret = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|request| request.get("AppSecret")?.as_str().map(str::to_owned))
        .filter(|secret| !secret.is_empty());
    let Some(secret) = secret else {
        return Bytes::copy_from_slice(body);
    };
    let text = String::from_utf8_lossy(body);
    let quoted = serde_json::to_string(&secret).unwrap_or_default();
    if text.contains(&quoted) {
        return Bytes::from(text.replace(&quoted, "\"***\""));
    }
    // Escaped otherwise than serde_json writes it: write the request again.
    let mut request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    request["AppSecret"] = Value::from("***");
    Bytes::from(request.to_string())
}

fn live_connections(state: &State) -> Vec<u64> {
    state
        .connections
        .iter()
        .filter(|(_, connection)| !connection.stalled)
        .map(|(number, _)| *number)
        .collect()
}

/// Queues `command` for `connection`; whether it is still there to take it.
fn send(state: &mut State, connection: u64, command: Command) -> bool {
    state
        .connections
        .get(&connection)
        .is_some_and(|open| open.commands.send(command).is_ok())
}

fn fresh_message_id() -> String {
    format!("mock_msg_{:024x}", fastrand::u128(..) >> 32)
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update is a single step, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn issue_url(&self) -> String {
        let ticket = {
            let id = fastrand::u128(..);
            format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                id >> 96,
                (id >> 80) & 0xffff,
                (id >> 64) & 0xffff,
                (id >> 48) & 0xffff,
                id & 0xffff_ffff_ffff
            )
        };
        let access_key = format!("{:032x}", fastrand::u128(..));
        let device_id = fastrand::u64(1_000_000_000_000_000_000..10_000_000_000_000_000_000).to_string();
        let url = format!(
            "ws://{}{WS_PATH}?fpid=1&aid=1&device_id={device_id}&access_key={access_key}&service_id={}&ticket={ticket}",
            self.address,
            MockLongConnection::SERVICE_ID,
        );
        self.state().tickets.insert(
            ticket,
            Ticket {
                access_key,
                device_id,
            },
        );
        url
    }

    /// The refusal of the handshake `request`, or `None` when it is let in. Its ticket is used up whatever the outcome;
    /// a queued refusal comes first, then the path, the ticket (known, unused, with its access
    /// key and device id) and the connection limit.
    fn refusal(&self, request: &Request) -> Option<ErrorResponse> {
        let mut state = self.state();
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let ticket = query
            .get("ticket")
            .and_then(|ticket| state.tickets.remove(ticket));
        let valid = ticket.is_some_and(|ticket| {
            query.get("access_key") == Some(&ticket.access_key)
                && query.get("device_id") == Some(&ticket.device_id)
        });
        let refusal = if let Some(refusal) = state.refusals.pop_front() {
            Some(refusal_answer(refusal))
        } else if request.uri().path() != WS_PATH {
            Some(http_answer(404, None))
        } else if !valid {
            Some(refusal_answer(HandshakeRefusal::AuthFailed))
        } else if live_connections(&state).len() >= MockLongConnection::MAX_CONNECTIONS {
            Some(refusal_answer(HandshakeRefusal::TooManyConnections))
        } else {
            None
        };
        if refusal.is_some() {
            state.refused += 1;
            drop(state);
            self.changed.notify_waiters();
        }
        refusal
    }

    fn register(&self, commands: mpsc::UnboundedSender<Command>) -> u64 {
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

    fn unregister(&self, connection: u64) {
        self.state().connections.remove(&connection);
        self.changed.notify_waiters();
    }

    /// The data frames of one message: `payload` in `fragments` parts (at most one per
    /// byte), each with its own `SeqID` and `LogID`, shuffled if asked.
    fn data_frames(
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
    fn send_frames(&self, state: &mut State, connection: u64, frames: Vec<Frame>) -> bool {
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

    /// Takes in what `connection` sent; returns the answer to send back, if any.
    fn received(&self, connection: u64, message: Message) -> Option<Message> {
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

/// The answer to a handshake refused with `refusal`.
fn refusal_answer(refusal: HandshakeRefusal) -> ErrorResponse {
    match refusal {
        HandshakeRefusal::Banned => http_answer(403, Some((None, "forbidden"))),
        HandshakeRefusal::TooManyConnections => http_answer(
            514,
            Some((
                Some(MockLongConnection::TOO_MANY_CONNECTIONS),
                "the number of connections exceeded the limit",
            )),
        ),
        HandshakeRefusal::AuthFailed => {
            http_answer(514, Some((Some(MockLongConnection::AUTH_FAILED), "auth failed")))
        }
        HandshakeRefusal::ServerError => http_answer(500, None),
    }
}

/// An answer with `status` instead of the upgrade, and the handshake headers when given (the
/// auth code, the message).
fn http_answer(status: u16, handshake: Option<(Option<u32>, &str)>) -> ErrorResponse {
    let message = handshake.map_or("refused", |(_, message)| message);
    let mut answer = http::Response::new(Some(message.to_owned()));
    *answer.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = answer.headers_mut();
    headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(message.len()),
    );
    if let Some((auth_code, message)) = handshake {
        headers.insert("handshake-status", http::HeaderValue::from(status));
        if let Ok(message) = http::HeaderValue::from_str(message) {
            headers.insert("handshake-msg", message);
        }
        if let Some(code) = auth_code {
            headers.insert("handshake-autherrcode", http::HeaderValue::from(code));
        }
    }
    answer
}

/// One WebSocket connection: the handshake, then what the client sends and what the stand-in
/// queues for it, until either side ends it.
async fn serve(inner: Arc<Inner>, stream: TcpStream) {
    // Frames go out as they are written: with Nagle's algorithm a small push could wait for
    // the client's delayed ACK (40 ms on Linux).
    let _ = stream.set_nodelay(true);
    let mut admitted = false;
    // The signature of the WebSocket layer's handshake callback.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| match inner.refusal(request) {
        Some(refusal) => Err(refusal),
        None => {
            admitted = true;
            Ok(response)
        }
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    if !admitted {
        return;
    }
    let (commands, mut queue) = mpsc::unbounded_channel();
    let connection = inner.register(commands);
    let stalled = loop {
        tokio::select! {
            // A command first: what a test asked for (half-open, say) applies to what the
            // client sent after it.
            biased;
            command = queue.recv() => match command {
                Some(Command::Send(message)) => {
                    if socket.send(message).await.is_err() {
                        break false;
                    }
                }
                Some(Command::Close(frame)) => {
                    // Nothing more is sent (the connection is no longer live); what the
                    // client sends until the end, its close frame in return, is recorded.
                    if socket.close(Some(frame)).await.is_ok() {
                        while let Some(Ok(message)) = socket.next().await {
                            inner.received(connection, message);
                        }
                    }
                    break false;
                }
                Some(Command::Stall) => break true,
                Some(Command::Drop { reset }) => {
                    if reset {
                        let _ = socket.get_ref().set_zero_linger();
                    }
                    break false;
                }
                None => break false,
            },
            message = socket.next() => match message {
                Some(Ok(message)) => {
                    if let Some(answer) = inner.received(connection, message) {
                        if socket.send(answer).await.is_err() {
                            break false;
                        }
                    }
                }
                Some(Err(_)) | None => break false,
            },
        }
    };
    if stalled {
        swallow(socket, &mut queue).await;
    }
    inner.unregister(connection);
}

/// A half-open connection: reads and discards whatever arrives, below the WebSocket layer so
/// that nothing is answered, until the client ends the socket or the stand-in drops it.
async fn swallow(socket: WebSocketStream<TcpStream>, queue: &mut mpsc::UnboundedReceiver<Command>) {
    let stream = socket.into_inner();
    let mut buffer = vec![0; 16 * 1024];
    loop {
        tokio::select! {
            biased;
            command = queue.recv() => match command {
                Some(Command::Drop { reset }) => {
                    if reset {
                        let _ = stream.set_zero_linger();
                    }
                    return;
                }
                Some(_) => {}
                None => return,
            },
            readable = stream.readable() => {
                if readable.is_err() {
                    return;
                }
                match stream.try_read(&mut buffer) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        }
    }
}
