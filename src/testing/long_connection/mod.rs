//! The platform's side of the long connection (长连接), for testing clients of it (feature
//! `long-connection`): the endpoint that hands out a WebSocket URL with a single-use ticket,
//! the WebSocket server behind it speaking the platform's protobuf frames (pongs carrying the
//! client config, events pushed to one live connection at random, fragments, the retries of
//! what was not acknowledged), what the client sent, and faults on demand.
//!
//! - `settings`: the platform's `ClientConfig`, what pongs carry, how pushes are sent and retried;
//! - `faults`: the endpoint's faults, the handshake's refusals, the messages injected to skip;
//! - `records`: what a test reads back: frames sent and received, the attempts of a push;
//! - `state`: what the stand-in and its connections share, and the open connections;
//! - `endpoint`: `POST /callback/ws/endpoint`, the URLs and tickets it hands out;
//! - `handshake`: the WebSocket handshake let in or refused, and the refusals' answers;
//! - `session`: one WebSocket connection: the serving loop, half-open sockets;
//! - `frames`: the data frames of a push, in fragments, recorded and queued;
//! - `received`: what a client sends: pings answered, acks matched to their pushes, the rest;
//! - here: [`MockLongConnection`] and its API.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use self::frames::fresh_message_id;
use self::session::serve;
use self::state::{live_connections, send, Command, Inner, State};
use super::push::{self, PushEvent};
#[cfg(doc)]
use super::push::{DELIVERY_DEADLINE, RETRY_SCHEDULE};
use super::MockCredentials;
use crate::events::long_connection::frame::Frame;

mod endpoint;
mod faults;
mod frames;
mod handshake;
mod received;
mod records;
mod session;
mod settings;
mod state;

pub(super) use self::endpoint::masked;
pub use self::faults::{EndpointFault, HandshakeRefusal, Injected};
pub use self::records::{
    Ack, LongConnectionAttempt, LongConnectionDelivery, OtherMessage, ReceivedClose, ReceivedPing,
    RecordedFrame, SentFrame,
};
pub use self::settings::{ClientConfig, PongPayload};

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
/// Its endpoint on the same base URL hands out `ws://` URLs to a WebSocket server that speaks
/// the platform's frames, answers pings with the `ClientConfig`
/// ([`set_client_config`](Self::set_client_config), [`set_pong`](Self::set_pong)), pushes
/// each event to one live connection chosen at random (optionally in shuffled fragments,
/// [`set_fragments`](Self::set_fragments)), waits for the acknowledgement and pushes again on
/// the scaled schedule what was not acknowledged with 200; and, on demand, drops the sockets,
/// goes half-open (no pongs, no pushes), refuses handshakes with each documented code, fails
/// or delays the endpoint, and sends `card`, unknown and text frames. It records pings,
/// acknowledgements, closes and every frame sent.
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
///
/// A [`LongConnection`](crate::events::LongConnection) against the stand-in, the way a test of
/// your app would run one:
///
/// ```no_run
/// # async fn example() {
/// use std::{sync::Arc, time::Duration};
/// use feishu_helpdesk::events::{HelpdeskEvent, LongConnection};
/// use feishu_helpdesk::testing::{MockPlatform, PushEvent, APP_ID, APP_SECRET};
///
/// let platform = MockPlatform::start().await;
/// let stand_in = platform.long_connection();
/// stand_in.set_retry_scale(0.001);
/// let connection = Arc::new(
///     LongConnection::builder()
///         .app_credentials(APP_ID, APP_SECRET)
///         .base_url(platform.base_url())
///         .pong_timeout(Duration::from_millis(500))
///         .build()
///         .unwrap(),
/// );
/// let running = Arc::clone(&connection);
/// tokio::spawn(async move {
///     running.run(|event: HelpdeskEvent| async move { my_app_handles(event).await }).await
/// });
/// assert!(stand_in.wait_for_live(1, Duration::from_secs(5)).await);
/// let created = PushEvent::new("helpdesk.ticket.created_v1", serde_json::json!({"ticket_id": "1"}));
/// assert!(stand_in.push(&created).await.delivered);
/// stand_in.drop_connections(); // the app reconnects, and nothing is lost
/// assert!(stand_in.push(&created.renewed()).await.delivered);
/// connection.shutdown_handle().shutdown();
/// # }
/// # async fn my_app_handles(_: feishu_helpdesk::events::HelpdeskEvent) -> Result<(), String> { Ok(()) }
/// # fn main() {}
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
}
