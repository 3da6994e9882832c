//! Receiving events over the long connection (长连接): a WebSocket the app opens itself, so
//! that no public URL is needed (feature `long-connection`).
//!
//! - `frame`: the frames (`proto/pbbp2.proto`) as prost types, pings and acknowledgements;
//! - `config`: the platform's `ClientConfig`, checked, under the user's settings;
//! - `error`: [`LongConnectionError`], what ends `run` and what each failed connection was;
//! - `connect`: the endpoint, the handshake (TCP, TLS, WebSocket), refusals sorted;
//! - `fragments`: split events put back together, within a time limit and a memory bound;
//! - `session`: one connection: pings, the pong deadline, events in tasks, acknowledgements;
//! - here: [`LongConnection`], its builder, reconnects and shutdown.

mod config;
mod connect;
mod error;
mod fragments;
pub(crate) mod frame;
mod session;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tracing::Instrument as _;

use self::config::{Overrides, Timings};
use self::connect::{Connector, Failure, Tls};
pub use self::error::LongConnectionError;
use self::session::{End, Shared, Tasks};
use super::delivery::{Delivery, DeliveryOptions};
use super::HelpdeskEvent;
use crate::error::Error;
use crate::platform::{AppCredentials, Empty, PlatformSettings};

/// How long the endpoint and the handshake may take, unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the platform may take to answer a ping before the connection is taken for
/// half-open and replaced, unless set otherwise.
pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(10);
/// How many events are handled at once, unless set otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// How long a shutdown waits for the events in flight, unless set otherwise.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Receives the helpdesk events an app subscribed to over the long connection: no public
/// URL, no Verification Token or Encrypt Key (the connection is authenticated when it opens,
/// and the platform sends the events over it in plaintext, inside TLS).
///
/// Each event is handed to the handler exactly once, through the same
/// [`DedupeStore`](super::DedupeStore) as [`Receiver`](super::Receiver) (given in
/// [`DeliveryOptions`]): with one store, an event is handled once whether it came over HTTP,
/// over this connection, or to another replica's connection (the platform sends each event to
/// one live connection of the app, chosen at random; up to 50 per app).
///
/// ```no_run
/// # async fn run() -> Result<(), feishu_helpdesk::events::LongConnectionError> {
/// use feishu_helpdesk::events::{HelpdeskEvent, LongConnection};
///
/// let connection = LongConnection::builder()
///     .app_credentials("cli_a1b2c3d4e5f60718", "app-secret")
///     .build()?;
/// let shutdown = connection.shutdown_handle();
/// tokio::spawn(async move {
///     tokio::time::sleep(std::time::Duration::from_secs(8 * 3600)).await; // or Ctrl-C, SIGTERM
///     shutdown.shutdown();
/// });
/// connection
///     .run(|event: HelpdeskEvent| async move {
///         println!("{} {}", event.event_type(), event.header().event_id);
///         Ok::<(), std::convert::Infallible>(())
///     })
///     .await
/// # }
/// ```
///
/// `run` returns `Ok` after a shutdown, or the [`LongConnectionError`] that ended it: the
/// platform refused the app ([`LongConnectionError::Refused`]) or every reconnect allowed
/// failed ([`LongConnectionError::ReconnectsExhausted`]). `build` fails with
/// [`Error::InvalidInput`] (settings are input); `LongConnectionError` converts from
/// [`Error`], so that one `?` serves both. Dropping `run`'s future stops everything it
/// started.
///
/// In the developer console, choose "receive events through a long connection"; the console
/// saves that choice only once an app has connected. Helpdesk events still need
/// [`Client::subscribe`](crate::Client::subscribe).
///
/// # What differs from `Receiver`
///
/// - **No signature, no encryption, no verification token, no challenge.** The platform checks
///   the app id and secret when the connection opens (and a per-connection key in its URL,
///   which the library never logs) and then sends each event as plaintext JSON inside TLS. So
///   the connection needs only the app credentials.
/// - **Acknowledgements, not HTTP answers.** Each event is acknowledged on the connection it came
///   by: `200` once the handler returned `Ok` (or when it was handled before: a duplicate is
///   acknowledged without calling the handler), `500` when the handler failed, panicked or passed
///   its deadline (2.5 s unless set in [`DeliveryOptions`]), or when another replica holds the event.
///   The platform pushes again whatever is not acknowledged with 200 within 3 s.
/// - **Replicas and both ways at once.** The platform sends each event to one live connection
///   of the app, chosen at random (up to 50 connections per app). Give every replica, and a
///   [`Receiver`](super::Receiver) of the same app, the same [`DeliveryOptions`] with one
///   `RedisDedupeStore` (feature `redis`; `.delivery(delivery.clone())` on each builder): an
///   event is handled once however it arrives.
///
/// # What the connection does so that it can run for months
///
/// | concern | what `LongConnection` does |
/// | --- | --- |
/// | the endpoint (`POST /callback/ws/endpoint`) | asked afresh before every connection, with a timeout (10 s, [`connect_timeout`](LongConnectionBuilder::connect_timeout)); the handshake has the same bound |
/// | the platform's `ClientConfig` | applied from the endpoint and from every pong, field by field, unless you set the value ([`ping_interval`](LongConnectionBuilder::ping_interval), [`reconnect_interval`](LongConnectionBuilder::reconnect_interval), [`reconnect_jitter`](LongConnectionBuilder::reconnect_jitter), [`reconnect_count`](LongConnectionBuilder::reconnect_count)); zero, negative or over-an-hour intervals are logged and ignored |
/// | a half-open socket (sleep/wake, a lost NAT entry) | a ping every `PingInterval` (120 s today); no frame within [`pong_timeout`](LongConnectionBuilder::pong_timeout) (10 s) after a ping: the connection is replaced |
/// | reconnects | a random wait within `ReconnectNonce` before the first, `ReconnectInterval` between the next ones, a new endpoint URL each time; `ReconnectCount` in a row (no limit when negative, as today) unless you set one; then `run` returns [`LongConnectionError::ReconnectsExhausted`], whose `last` is the last reconnect's failure |
/// | refusals | bad credentials (an endpoint code other than 1 and 1000040343), banned (403), too many connections (514 with 1000040350): `run` returns [`LongConnectionError::Refused`] at once (with `code()` and `http_status()`); everything else is retried |
/// | a slow handler | each event runs in a task of its own, at most [`max_in_flight`](LongConnectionBuilder::max_in_flight) (64) at once: pings, pongs and other events never wait for it |
/// | fragments | an event split into `sum` frames is put back together by `seq` within 10 s and 8 MiB per connection (1 MiB per event); a broken or late one is dropped unacknowledged, so it comes again |
/// | `card` frames, unknown frames, text messages | logged and skipped; nothing the platform sends is unwrapped |
/// | shutdown | [`ShutdownHandle::shutdown()`](ShutdownHandle::shutdown): no new events, those in flight finish and are acknowledged within [`shutdown_grace`](LongConnectionBuilder::shutdown_grace) (5 s), the socket is closed, `run` returns `Ok(())`; dropping `run`'s future stops every task it started |
/// | tracing | a span per connection (`long_connection.connect`, with the connection's id and the reconnect count), a warning with the reason for each reconnect, a span per event (`long_connection.event`) |
pub struct LongConnection {
    connector: Connector,
    delivery: Arc<Delivery>,
    overrides: Overrides,
    pong_timeout: Duration,
    max_in_flight: usize,
    shutdown_grace: Duration,
    shutdown: Arc<watch::Sender<bool>>,
}

impl fmt::Debug for LongConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongConnection")
            .field("app_id", &self.connector.app.app_id)
            .field("app_secret", &self.connector.app.app_secret)
            .field("endpoint", &self.connector.endpoint.as_str())
            .field("delivery", &self.delivery)
            .field("overrides", &self.overrides)
            .field("pong_timeout", &self.pong_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish_non_exhaustive()
    }
}

/// Stops a [`LongConnection`]'s `run` gracefully: no new events, the ones in flight finish
/// and are acknowledged (within the shutdown grace), the socket is closed, `run` returns
/// `Ok(())`. Cheap to clone; works before `run` starts, too.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    sender: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Asks `run` to stop.
    pub fn shutdown(&self) {
        self.sender.send_replace(true);
    }
}

impl LongConnection {
    /// Starts configuring a long connection.
    pub fn builder() -> LongConnectionBuilder {
        LongConnectionBuilder::default()
    }

    /// A handle that stops [`run`](Self::run).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            sender: Arc::clone(&self.shutdown),
        }
    }

    /// Connects, and hands every event to `handler` until shut down; reconnects when the
    /// connection is lost (a fresh endpoint each time, after the platform's jitter and
    /// interval), up to the reconnect count in force.
    ///
    /// Each event runs in a task of its own (at most `max_in_flight` at once), so a slow
    /// handler delays neither pings nor other events; it is acknowledged with 200 once the
    /// handler returned `Ok` (or when it was handled before), and with 500 when the handler
    /// failed, panicked or passed its deadline, so that the platform pushes it again.
    ///
    /// Returns `Ok(())` after a shutdown; [`LongConnectionError::Refused`] at once when
    /// retrying cannot mend a refusal; [`LongConnectionError::ReconnectsExhausted`] when the
    /// reconnect count in force ran out; [`LongConnectionError::Call`] when the settings do
    /// not allow the URL the platform gave.
    pub async fn run<H, Fut, E>(&self, handler: H) -> Result<(), LongConnectionError>
    where
        H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let shared = Arc::new(Shared {
            delivery: Arc::clone(&self.delivery),
            handler,
            permits: Arc::new(Semaphore::new(self.max_in_flight)),
            overrides: self.overrides,
            pong_timeout: self.pong_timeout,
            shutdown_grace: self.shutdown_grace,
        });
        let mut shutdown = self.shutdown.subscribe();
        let mut timings = Timings::new(&self.overrides);
        // Dropped with this future: no handler outlives `run`.
        let mut tasks = Tasks::new();
        // Reconnects since the last connection that opened.
        let mut reconnects: u32 = 0;
        let mut connections: u64 = 0;
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            connections += 1;
            let (opened, end) = self
                .connect_once(
                    &shared,
                    (&mut tasks, connections),
                    &mut timings,
                    &mut shutdown,
                    reconnects,
                )
                .await;
            let reason = match end {
                // The session waited for the handlers (its own and earlier ones) within the
                // grace and acknowledged what finished; what is left is stopped here.
                Ok(End::Shutdown) if opened => return Ok(()),
                Ok(End::Shutdown) => break,
                Ok(End::Lost(reason)) => LongConnectionError::failed(reason),
                Err(Failure::Terminal(error)) => return Err(error),
                Err(Failure::Retry(error)) => error,
            };
            if opened {
                reconnects = 0;
            }
            if timings.reconnect_count.is_some_and(|count| reconnects >= count) {
                return Err(LongConnectionError::ReconnectsExhausted {
                    attempts: reconnects,
                    last: Box::new(reason),
                });
            }
            // The first reconnect after a loss waits a random part of the jitter (so that
            // replicas do not all come back at once); the next ones wait the interval.
            let wait = if reconnects == 0 {
                timings.reconnect_jitter.mul_f64(fastrand::f64())
            } else {
                timings.reconnect_interval
            };
            reconnects += 1;
            tracing::warn!(
                reason = %DisplayChain(&reason),
                reconnect = reconnects,
                wait_ms = wait.as_millis() as u64,
                "the long connection is down; reconnecting"
            );
            let sleep = tokio::time::sleep(wait);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    _ = shutdown.wait_for(|stop| *stop) => break,
                    // Handlers finish while the connection is down; their acknowledgements
                    // have nowhere to go (their events were recorded as done, if handled).
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                }
            }
        }
        // Shut down while no connection was open: handlers still running from a lost one
        // finish within the grace (their acknowledgements have nowhere to go).
        let _ = tokio::time::timeout(self.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        Ok(())
    }

    /// One connection: the endpoint, the handshake, then the session until it ends.
    /// Returns whether the connection opened, and how it ended.
    async fn connect_once<H, Fut, E>(
        &self,
        shared: &Arc<Shared<H>>,
        (tasks, number): (&mut Tasks, u64),
        timings: &mut Timings,
        shutdown: &mut watch::Receiver<bool>,
        reconnects: u32,
    ) -> (bool, Result<End, Failure>)
    where
        H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let span = tracing::info_span!(
            "long_connection.connect",
            reconnect = reconnects,
            device_id = tracing::field::Empty
        );
        let opening = async {
            let endpoint = self.connector.discover().await?;
            timings.apply(&endpoint.config, &self.overrides);
            let (socket, target) = self.connector.dial(&endpoint.url).await?;
            tracing::Span::current().record("device_id", target.device_id.as_str());
            tracing::info!("connected");
            Ok::<_, Failure>((socket, target))
        };
        let opened = tokio::select! {
            opened = opening.instrument(span.clone()) => opened,
            _ = shutdown.wait_for(|stop| *stop) => return (false, Ok(End::Shutdown)),
        };
        let (socket, target) = match opened {
            Ok(opened) => opened,
            Err(failure) => return (false, Err(failure)),
        };
        let end = session::serve(shared, (socket, &target, number), tasks, timings, shutdown)
            .instrument(span)
            .await;
        (true, Ok(end))
    }
}

/// An error and its sources on one line, for the log.
struct DisplayChain<'a>(&'a LongConnectionError);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Configures a [`LongConnection`]; every setter consumes and returns the builder. `Debug`
/// shows no secret.
#[derive(Default, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LongConnectionBuilder {
    app: Option<AppCredentials>,
    platform: PlatformSettings,
    connect_timeout: Option<Duration>,
    delivery: DeliveryOptions,
    overrides: Overrides,
    pong_timeout: Option<Duration>,
    max_in_flight: Option<usize>,
    shutdown_grace: Option<Duration>,
}

impl LongConnectionBuilder {
    /// The app's id and secret (required): the platform authenticates the connection with
    /// them when it opens.
    pub fn app_credentials(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.app = Some(AppCredentials::new(app_id, app_secret));
        self
    }

    /// As [`ClientBuilder::base_url`](crate::ClientBuilder::base_url); the platform's `wss://` URL too.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.platform.base_url = Some(base_url.into());
        self
    }

    /// As [`ClientBuilder::allow_insecure_http`](crate::ClientBuilder::allow_insecure_http); `ws://` too.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.platform.allow_insecure_http = allow;
        self
    }

    /// As [`ClientBuilder::http_client`](crate::ClientBuilder::http_client), to ask the endpoint with.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.platform.http_client = Some(client);
        self
    }

    /// How long asking the endpoint, and then the handshake, may each take
    /// ([`DEFAULT_CONNECT_TIMEOUT`] unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How each event is handed to the handler exactly once: the dedupe store, the handler's
    /// deadline (an event past it is acknowledged with 500), the claim's lease and how long a
    /// handled event is remembered ([`DeliveryOptions::default`] unless set).
    pub fn delivery(mut self, options: DeliveryOptions) -> Self {
        self.delivery = options;
        self
    }

    /// How many events are handled at once ([`DEFAULT_MAX_IN_FLIGHT`] unless set); more wait
    /// for a free slot, up to the handler deadline.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = Some(max);
        self
    }

    /// How often to ping, in place of the platform's `PingInterval` (120 s today).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.overrides.ping_interval = Some(interval);
        self
    }

    /// How long the platform may take to answer a ping ([`DEFAULT_PONG_TIMEOUT`] unless set)
    /// before the connection is taken for half-open and replaced.
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = Some(timeout);
        self
    }

    /// How many reconnects in a row to try before `run` gives up with
    /// [`LongConnectionError::ReconnectsExhausted`], in place of the platform's `ReconnectCount` (no limit
    /// when it is negative). `None`: no limit.
    pub fn reconnect_count(mut self, count: Option<u32>) -> Self {
        self.overrides.reconnect_count = Some(count);
        self
    }

    /// The wait between reconnects, in place of the platform's `ReconnectInterval`.
    pub fn reconnect_interval(mut self, interval: Duration) -> Self {
        self.overrides.reconnect_interval = Some(interval);
        self
    }

    /// The bound of the random wait before the first reconnect, in place of the platform's
    /// `ReconnectNonce`.
    pub fn reconnect_jitter(mut self, jitter: Duration) -> Self {
        self.overrides.reconnect_jitter = Some(jitter);
        self
    }

    /// How long a shutdown waits for the events in flight ([`DEFAULT_SHUTDOWN_GRACE`] unless
    /// set); those still running then are stopped, unacknowledged, and pushed again.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = Some(grace);
        self
    }

    /// Checks the configuration and builds the connection (nothing is sent yet); fails with
    /// [`Error::InvalidInput`] naming the setting that is missing or wrong.
    pub fn build(self) -> Result<LongConnection, Error> {
        let app = self
            .app
            .ok_or(Empty::AppId)
            .and_then(AppCredentials::checked)
            .map_err(|empty| {
                Error::invalid_input(
                    "app_credentials",
                    match empty {
                        Empty::AppId => "the app id is required",
                        Empty::AppSecret => "the app secret is required",
                    },
                )
            })?;
        let timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        // The app secret goes in the endpoint request's body: the library's own client
        // follows no redirect. The timeout is checked below, before the client is used.
        let platform = self.platform.build(timeout)?;
        let positive = |field: &'static str, value: Option<Duration>| match value {
            Some(value) if value.is_zero() => Err(Error::invalid_input(field, "must be greater than zero")),
            _ => Ok(()),
        };
        positive("connect_timeout", self.connect_timeout)?;
        positive("ping_interval", self.overrides.ping_interval)?;
        positive("pong_timeout", self.pong_timeout)?;
        positive("reconnect_interval", self.overrides.reconnect_interval)?;
        if self.max_in_flight == Some(0) {
            return Err(Error::invalid_input("max_in_flight", "must be at least 1"));
        }
        // Built (and checked) now, so that `run` fails only on the platform.
        let delivery = Arc::new(self.delivery.build()?);
        Ok(LongConnection {
            connector: Connector {
                endpoint: Connector::endpoint_url(&platform.base_url),
                http: platform.http,
                app,
                allow_insecure: self.platform.allow_insecure_http,
                timeout,
                tls: Tls::new()?,
            },
            delivery,
            overrides: self.overrides,
            pong_timeout: self.pong_timeout.unwrap_or(DEFAULT_PONG_TIMEOUT),
            max_in_flight: self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            shutdown_grace: self.shutdown_grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE),
            shutdown: Arc::new(watch::channel(false).0),
        })
    }
}
