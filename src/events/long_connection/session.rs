//! One connection, from the handshake to its end: pings at the interval in force, a pong
//! deadline that notices a half-open socket, frames read and sorted, each event handled in a
//! task of its own (bounded in number) and acknowledged on the connection it came by.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use prost::Message as _;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tracing::Instrument as _;

use super::config::{self, Overrides, Timings};
use super::connect::{Socket, Target};
use super::fragments::Fragments;
use super::frame::{Frame, Kind};
use crate::events::delivery::{Delivery, Outcome};
use crate::events::event::Body;
use crate::events::HelpdeskEvent;

/// How long fragments of one event may take to arrive (the SDKs keep them 5 to 10 s).
const FRAGMENT_TTL: Duration = Duration::from_secs(10);
/// The most bytes the partial events of one connection may hold.
const FRAGMENT_BYTES: usize = 8 * 1024 * 1024;

/// What one session needs from its connection.
pub(crate) struct Shared<H> {
    pub(crate) delivery: Arc<Delivery>,
    pub(crate) handler: H,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) overrides: Overrides,
    pub(crate) pong_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
}

/// The events being handled, across connections: each task gives the acknowledgement and
/// the number of the connection it goes back on. They outlive a lost connection (so that a
/// handler that finishes still records its event as done, and the platform's next push of it
/// is acknowledged without calling the handler again); dropping them stops them.
pub(crate) type Tasks = JoinSet<(u64, Frame)>;

/// How a session ended.
pub(crate) enum End {
    /// Shut down as asked: in-flight events acknowledged, the socket closed.
    Shutdown,
    /// The connection was lost; why, for the log and the error.
    Lost(String),
}

/// Runs one connection until it is lost or a shutdown is asked for.
pub(crate) async fn serve<H, Fut, E>(
    shared: &Arc<Shared<H>>,
    (socket, target, number): (Socket, &Target, u64),
    tasks: &mut Tasks,
    timings: &mut Timings,
    shutdown: &mut watch::Receiver<bool>,
) -> End
where
    H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let mut fragments = Fragments::new(FRAGMENT_TTL, FRAGMENT_BYTES);
    // The first ping at once, as the official SDKs do.
    let mut ping = ping_timer(Instant::now(), timings.ping_interval);
    // Set when a ping goes out with none outstanding; any frame from the platform clears it.
    let mut pong_due: Option<Instant> = None;
    let write_timeout = shared.pong_timeout;

    let end = loop {
        let deadline = pong_due;
        tokio::select! {
            biased;
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break End::Shutdown;
                }
            }
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                // A task is only ever cancelled with `run`: every `done` is `Ok`.
                if let Ok((on, ack)) = done {
                    if on != number {
                        tracing::debug!("an event handled after its connection was lost; the platform pushes it again");
                    } else if let Err(reason) = send(&mut sink, &ack, write_timeout).await {
                        break End::Lost(reason);
                    }
                }
            }
            () = sleep_until(deadline), if deadline.is_some() => {
                break End::Lost(format!(
                    "no answer to a ping within {} ms (half-open connection)",
                    shared.pong_timeout.as_millis()
                ));
            }
            _ = ping.tick() => {
                let frame = Frame::control("ping", target.service_id, None);
                if let Err(reason) = send(&mut sink, &frame, write_timeout).await {
                    break End::Lost(reason);
                }
                if pong_due.is_none() {
                    pong_due = Some(Instant::now() + shared.pong_timeout);
                }
            }
            message = stream.next() => {
                let frame = match message {
                    None => break End::Lost("the platform closed the connection".to_owned()),
                    Some(Err(error)) => break End::Lost(format!("reading failed: {error}")),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(close))) => {
                        break End::Lost(match close {
                            Some(close) => format!("the platform closed the connection ({}: {})", u16::from(close.code), close.reason),
                            None => "the platform closed the connection".to_owned(),
                        });
                    }
                    Some(Ok(Message::Text(_))) => {
                        pong_due = None;
                        tracing::debug!("skipped a text message");
                        continue;
                    }
                    Some(Ok(_)) => {
                        // WebSocket pings (answered by the WebSocket layer) and pongs.
                        pong_due = None;
                        continue;
                    }
                };
                pong_due = None;
                let frame = match Frame::decode(frame) {
                    Ok(frame) => frame,
                    Err(error) => {
                        tracing::warn!(%error, "skipped a frame that does not decode");
                        continue;
                    }
                };
                match frame.kind() {
                    Kind::Pong => {
                        let Some(server) = config::parse(frame.payload()) else { continue };
                        let before = timings.ping_interval;
                        timings.apply(&server, &shared.overrides);
                        if timings.ping_interval != before {
                            tracing::debug!(ping_interval_ms = timings.ping_interval.as_millis() as u64, "the platform changed the ping interval");
                            ping = ping_timer(Instant::now() + timings.ping_interval, timings.ping_interval);
                        }
                    }
                    Kind::Event => {
                        if let Some(task) = event(shared, &mut fragments, frame) {
                            tasks.spawn(async move { (number, task.await) });
                        }
                    }
                    Kind::Card => {
                        tracing::info!(message_id = frame.header("message_id").unwrap_or_default(),
                            "skipped a card callback frame (not an event)");
                    }
                    Kind::Ping => tracing::debug!("skipped a ping from the platform"),
                    Kind::Other => {
                        tracing::debug!(method = frame.method, r#type = frame.header("type").unwrap_or_default(),
                            "skipped a frame of an unknown type");
                    }
                }
            }
        }
    };

    if let End::Shutdown = end {
        // No new events; those in flight finish (within the grace) and are acknowledged.
        let grace = tokio::time::sleep(shared.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = tasks.join_next() => match done {
                    Some(Ok((on, ack))) => {
                        if on == number && send(&mut sink, &ack, write_timeout).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(_)) => {}
                    None => break,
                },
                () = &mut grace => {
                    tracing::warn!(in_flight = tasks.len(), "stopped the events still in flight at the shutdown grace's end; the platform pushes them again");
                    break;
                }
            }
        }
        let _ = tokio::time::timeout(write_timeout, sink.send(Message::Close(None))).await;
        let _ = tokio::time::timeout(write_timeout, sink.close()).await;
    }
    end
}

/// The task that handles one event frame (or `None`: a fragment, or a frame dropped).
fn event<H, Fut, E>(
    shared: &Arc<Shared<H>>,
    fragments: &mut Fragments,
    mut frame: Frame,
) -> Option<impl Future<Output = Frame> + Send + 'static>
where
    H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let received = Instant::now();
    let payload = frame.payload.take().unwrap_or_default();
    let message_id = frame.header("message_id").unwrap_or_default().to_owned();
    let payload = match fragments.add(
        &message_id,
        frame.header("sum"),
        frame.header("seq"),
        payload,
        received,
    ) {
        Ok(Some(payload)) => payload,
        Ok(None) => return None,
        Err(why) => {
            tracing::warn!(%message_id, ?why, "dropped an event frame; the platform pushes it again");
            return None;
        }
    };
    let span = tracing::info_span!(
        "long_connection.event",
        %message_id,
        trace_id = frame.header("trace_id").unwrap_or_default(),
    );
    let shared = Arc::clone(shared);
    Some(
        async move {
            let code = handle(&shared, payload).await;
            let biz_rt = u64::try_from(received.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(code, biz_rt_ms = biz_rt, "acknowledged");
            frame.into_ack(code, biz_rt)
        }
        .instrument(span),
    )
}

/// Hands one event to the handler (once a permit is free) and says how to acknowledge it:
/// 200 when handled now or before, 500 when the platform should push it again.
async fn handle<H, Fut, E>(shared: &Shared<H>, payload: Bytes) -> u16
where
    H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let permit = tokio::time::timeout(shared.delivery.handler_deadline(), shared.permits.acquire()).await;
    let Ok(Ok(_permit)) = permit else {
        tracing::warn!(
            "every handler slot stayed busy past the handler deadline; the platform pushes the event again"
        );
        return 500;
    };
    let body = match Body::parse(&payload) {
        Ok(body) => body,
        Err(_) => {
            tracing::warn!("refused an event that is not an event envelope; the platform pushes it again");
            return 500;
        }
    };
    match shared.delivery.deliver(body, &shared.handler).await {
        outcome if outcome.is_done() => 200,
        Outcome::Refused(reason) => {
            tracing::warn!(reason, "refused an event; the platform pushes it again");
            500
        }
        _ => 500,
    }
}

async fn send<S>(sink: &mut S, frame: &Frame, timeout: Duration) -> Result<(), String>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let message = Message::Binary(Bytes::from(frame.encode_to_vec()));
    match tokio::time::timeout(timeout, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("writing failed: {error}")),
        Err(_) => Err(format!(
            "a write did not complete within {} ms",
            timeout.as_millis()
        )),
    }
}

/// Pings every `interval`, the first at `first`.
fn ping_timer(first: Instant, interval: Duration) -> tokio::time::Interval {
    let mut timer = tokio::time::interval_at(first, interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
