//! Serving the receiver to the internet (feature `axum`): [`serve`] runs an axum router with
//! what a public URL needs against slow and idle clients, which `axum::serve` does not do.
//!
//! - `connection`: one connection, served by hyper's HTTP/1 server, held to its deadlines;
//! - `timed_body`: a request body that must arrive whole in time (else 408);
//! - `registry`: the open connections by what they do, and the cap, shedding the oldest
//!   incomplete one when a new one comes at the cap;
//! - `limits`: the open-file limit the cap stays below, and raising it.
//!
//! This file holds the settings ([`Serve`]) and the accept loop.

mod connection;
mod limits;
mod registry;
mod timed_body;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::sync::watch;
use tokio::time::Instant;

use connection::{Shared, Timeouts};
use registry::{Admission, Registry};

pub use limits::raise_file_limit;

/// How long a new connection may take to send its whole request head: 10 s. A platform push
/// sends it in milliseconds.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may take to arrive whole once its head has: 10 s. A push is a few
/// KiB, and the platform itself gives up on an answer after 3 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open after an answer without sending its next whole request
/// head (keep-alive): 60 s, below the 75 s of nginx and the 90 s idle time of common clients'
/// pools.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most connections served at once, unless the open-file limit leaves fewer: 10,000
/// (a waiting connection holds up to [`MAX_HEAD_BYTES`] of buffer).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The largest request head read, in bytes: 32 KiB (a push's is under 1 KiB); a larger one
/// is answered 431.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// The accept queue [`bind`] asks for (the system may allow fewer: Linux's
/// `net.core.somaxconn`, 4,096 by default).
pub const LISTEN_BACKLOG: u32 = 4096;

/// How long a server told to stop waits for the requests under way to be answered.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a failed `accept` that shed a connection to free a file waits for it to close.
const RETRY_AFTER_SHEDDING: Duration = Duration::from_millis(100);
/// The pause after any other failed `accept` (out of files with nothing to shed, out of
/// memory, …).
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(100);
/// How often at most the accept loop logs the same kind of trouble.
const NOTE_EVERY: Duration = Duration::from_secs(10);

/// A listener on `addr` with an accept queue of [`LISTEN_BACKLOG`] connections, for
/// [`serve`]: where `TcpListener::bind` asks for 128, a burst of connections (a flood, or
/// many pushes at once) fills the queue before the server takes them, and the system then
/// drops new connections' first packets; the client, the platform among them, sends again only
/// a second later, then three. The first address of `addr` that binds is used.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use feishu_helpdesk::events;
///
/// events::serve(events::bind("0.0.0.0:3000").await?, app).await
/// # }
/// ```
pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As `TcpListener::bind` does: a restarted server binds at once.
        #[cfg(not(windows))]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        )
    }))
}

/// Serves `app` on `listener` with the protections a public URL needs: use it where you would
/// call `axum::serve(listener, app)`, and set what you want otherwise with [`Serve`]'s methods
/// before awaiting it.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use feishu_helpdesk::events;
///
/// let listener = events::bind("0.0.0.0:3000").await?;
/// events::serve(listener, app).await
/// # }
/// ```
///
/// Bind with [`bind`] (a long accept queue) rather than `TcpListener::bind`. Each accepted connection is held to deadlines: its request head must arrive whole within
/// the header timeout ([`DEFAULT_HEADER_TIMEOUT`]), each body within the body timeout of its
/// head ([`DEFAULT_BODY_TIMEOUT`]; answered 408 past it), and after an answer the next head
/// within the idle timeout ([`DEFAULT_IDLE_TIMEOUT`]); past a deadline the connection is
/// closed. At most [`DEFAULT_MAX_CONNECTIONS`] are open at once, and never more than the
/// process's open-file limit leaves room for (an eighth of it, at least 64, at most 1,024,
/// is kept for the rest of the process: see [`raise_file_limit`]). At that cap a new
/// connection is still accepted: the one that has waited longest for a request head is
/// closed for it (then the one that has been sending a body longest); a request being
/// handled is never cut. When `accept` fails (the process is out of files, or memory) the
/// failure is logged, a waiting connection shed to free a file, and accepting goes on after
/// a brief pause: the server never stops on its own.
///
/// HTTP/1.1 only (the platform pushes over it), keep-alive on, `TCP_NODELAY` set, and no
/// protocol upgrades: a router with a WebSocket route needs a server of its own.
pub fn serve(listener: TcpListener, app: axum::Router) -> Serve {
    Serve {
        listener,
        app,
        timeouts: Timeouts {
            header: DEFAULT_HEADER_TIMEOUT,
            body: DEFAULT_BODY_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
        },
        max_connections: None,
        signal: None,
    }
}

/// A server of an axum router, as [`serve`] returns it: set its timeouts, cap and shutdown
/// signal, then `.await` it. It resolves once the shutdown signal (if any) has come and the
/// requests under way were answered (at most 10 s later); without a signal it runs for ever.
/// The `io::Result` is that of `axum::serve`, for a drop-in change: after start nothing makes
/// it fail.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    app: axum::Router,
    timeouts: Timeouts,
    max_connections: Option<usize>,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Serve {
    /// How long a new connection may take to send its whole first request head
    /// (default [`DEFAULT_HEADER_TIMEOUT`]); it is closed unanswered past it.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.header = timeout;
        self
    }

    /// How long a request body may take to arrive whole after its head (default
    /// [`DEFAULT_BODY_TIMEOUT`]); past it the request is answered 408 and the connection
    /// closed. The receiver's size bound ([`MAX_EVENT_BODY_BYTES`](super::MAX_EVENT_BODY_BYTES))
    /// applies within it.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.body = timeout;
        self
    }

    /// How long a connection may wait, after an answer, for its next whole request head
    /// (default [`DEFAULT_IDLE_TIMEOUT`]); it is closed past it.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// The most connections open at once (default [`DEFAULT_MAX_CONNECTIONS`], at least 1).
    /// A number above what the open-file limit leaves room for is lowered to it, with a
    /// warning in the log.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// Stops the server when `signal` resolves: no new connection is accepted, the connections
    /// waiting for a request are closed, and the requests under way are answered (for at most
    /// 10 s) before the server's future resolves.
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The cap in force: the one asked (or the default), within the open-file limit.
    fn cap(&self) -> usize {
        let room = limits::file_limit().map(limits::connections_within);
        match (self.max_connections, room) {
            (Some(asked), Some(room)) if asked > room => {
                tracing::warn!(
                    asked,
                    room,
                    "max_connections is above what the open-file limit leaves room for: \
                     serving at most {room} connections"
                );
                room
            }
            (Some(asked), _) => asked,
            (None, Some(room)) => DEFAULT_MAX_CONNECTIONS.min(room),
            (None, None) => DEFAULT_MAX_CONNECTIONS,
        }
    }

    async fn run(self) -> io::Result<()> {
        let cap = self.cap();
        let Self {
            listener,
            app,
            timeouts,
            signal,
            ..
        } = self;
        let mut http = http1::Builder::new();
        http.keep_alive(true)
            // The deadlines are the connection's own (`connection`): hyper's header timeout
            // would also cut the idle wait for a next request.
            .header_read_timeout(None)
            .max_buf_size(MAX_HEAD_BYTES);
        let shared = Arc::new(Shared {
            app,
            registry: Registry::new(cap),
            timeouts,
            http,
        });
        tracing::debug!(
            cap = shared.registry.cap(),
            ?timeouts,
            "serving: at most {cap} connections"
        );
        let (stop, stopping) = watch::channel(false);
        let mut signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
        let mut shedding = Note::default();
        let mut full = Note::default();
        let mut failing = Note::default();
        loop {
            let accepted = tokio::select! {
                biased;
                () = &mut signal => break,
                accepted = listener.accept() => accepted,
            };
            let err = match accepted {
                Ok((stream, _peer)) => {
                    match shared.registry.admit() {
                        Admission::Admitted { slot, shed } => {
                            if shed {
                                if let Some(count) = shedding.tick() {
                                    tracing::warn!(
                                        cap = shared.registry.cap(),
                                        since_last_note = count,
                                        "at the cap: closing the connections that have not \
                                         sent a whole request, oldest first, for new ones \
                                         (noted at most every 10 s)"
                                    );
                                }
                            }
                            let _ = stream.set_nodelay(true);
                            tokio::spawn(connection::run(stream, slot, shared.clone(), stopping.clone()));
                        }
                        Admission::Full => {
                            drop(stream);
                            if let Some(count) = full.tick() {
                                tracing::warn!(
                                    cap = shared.registry.cap(),
                                    since_last_note = count,
                                    "at the cap with every request being handled: closing \
                                     new connections (noted at most every 10 s)"
                                );
                            }
                        }
                    }
                    continue;
                }
                Err(err) => err,
            };
            if matches!(
                err.kind(),
                io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::Interrupted
            ) {
                // That connection is gone before it was accepted: the next one.
                continue;
            }
            let shed = if out_of_resources(&err) {
                shared.registry.shed_one()
            } else {
                None
            };
            if let Some(count) = failing.tick() {
                tracing::warn!(
                    error = %err,
                    shed = shed.is_some(),
                    since_last_note = count,
                    "accepting a connection failed; accepting again shortly (noted at most \
                     every 10 s)"
                );
            }
            // Once the connection shed has closed (its file is free), or after a pause.
            let pause = async {
                match shed {
                    Some(slot) => {
                        let _ = tokio::time::timeout(RETRY_AFTER_SHEDDING, slot.closed()).await;
                    }
                    None => tokio::time::sleep(RETRY_AFTER_FAILURE).await,
                }
            };
            tokio::select! {
                biased;
                () = &mut signal => break,
                () = pause => {}
            }
        }
        // Stop accepting, then let the connections finish what is under way.
        drop(listener);
        stop.send_replace(true);
        let give_up = Instant::now() + SHUTDOWN_GRACE;
        while Arc::strong_count(&shared) > 1 && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl fmt::Debug for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("local_addr", &self.listener.local_addr().ok())
            .field("header_timeout", &self.timeouts.header)
            .field("body_timeout", &self.timeouts.body)
            .field("idle_timeout", &self.timeouts.idle)
            .field("max_connections", &self.max_connections)
            .field("graceful_shutdown", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a failed `accept` is the process or the system out of files or memory, which
/// closing a connection relieves.
fn out_of_resources(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            err.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        )
    }
    #[cfg(not(unix))]
    {
        err.kind() == io::ErrorKind::OutOfMemory
    }
}

/// Counts the occurrences of a kind of trouble, to log it at most every [`NOTE_EVERY`].
#[derive(Default)]
struct Note {
    last: Option<Instant>,
    count: u64,
}

impl Note {
    /// One more occurrence; the count to log since the last note, when it is time for one.
    fn tick(&mut self) -> Option<u64> {
        self.count += 1;
        let now = Instant::now();
        if self.last.is_some_and(|last| now < last + NOTE_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}
