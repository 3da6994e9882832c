//! Handing one event to the handler exactly once, whichever way it came (an HTTP push or the
//! long connection): a claim in the dedupe store, the handler within its deadline (a panic
//! caught), and the outcome recorded: done, or the claim released for the platform's retry.
//! Its settings are [`DeliveryOptions`], which both builders take.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt as _;

use super::dedupe::{Claim, DedupeStore, MemoryDedupeStore};
use super::event::{Body, HelpdeskEvent};
use crate::error::Error;

/// How long a handler may run, unless set otherwise: below the platform's 3 seconds, so that
/// a slow handler's push is answered (non-200) before the platform gives up on it.
pub const DEFAULT_HANDLER_DEADLINE: Duration = Duration::from_millis(2500);

/// How long a claim on an event lives if its holder dies, unless set otherwise: longer than
/// the handler deadline, shorter than the platform's first retry (about 15 seconds).
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(10);

/// How long an event is remembered as done, unless set otherwise: longer than the platform's
/// retry window (about 7.1 hours).
pub const DEFAULT_DONE_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// How one delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The handler returned `Ok`.
    Handled,
    /// The event was handled before; the handler was not called.
    Duplicate,
    /// Another attempt holds the claim: its handler is still running.
    InProgress,
    /// The dedupe store failed; the handler was not called.
    StoreFailed,
    /// The handler returned an error or panicked.
    Failed,
    /// The handler passed its deadline and was stopped.
    PastDeadline,
    /// The envelope has no usable header; never given to the handler.
    Refused(&'static str),
}

impl Outcome {
    /// Whether the platform may forget the event: handled now or before.
    #[cfg(feature = "long-connection")]
    pub(crate) fn is_done(self) -> bool {
        matches!(self, Outcome::Handled | Outcome::Duplicate)
    }
}

/// How events are handed to the handler exactly once, the same whichever way they come:
/// given to [`ReceiverBuilder::delivery`](super::ReceiverBuilder::delivery) and to
/// `LongConnectionBuilder::delivery` (feature `long-connection`). Every setter consumes and
/// returns the options; a setting left unset keeps its default. The settings are checked
/// when the receiver or the connection is built, which then fails with
/// [`Error::InvalidInput`] naming the wrong one.
///
/// ```
/// # fn main() -> Result<(), feishu_helpdesk::Error> {
/// use std::time::Duration;
/// use feishu_helpdesk::events::{DeliveryOptions, Receiver};
///
/// let receiver = Receiver::builder()
///     .verification_token("v-sample-verification-token")
///     .delivery(DeliveryOptions::default().handler_deadline(Duration::from_secs(2)))
///     .build()?;
/// # let _ = receiver;
/// # Ok(())
/// # }
/// ```
///
/// Cheap to clone (clones share the dedupe store): one value can configure a receiver and a
/// long connection of the same app.
#[derive(Clone, Default, Debug)]
pub struct DeliveryOptions {
    dedupe_store: Option<Arc<dyn DedupeStore>>,
    handler_deadline: Option<Duration>,
    claim_lease: Option<Duration>,
    done_ttl: Option<Duration>,
}

impl DeliveryOptions {
    /// Where handled and in-flight events are recorded
    /// ([`MemoryDedupeStore`](super::MemoryDedupeStore) unless set). Replicas, and a
    /// receiver and a long connection of the same app, share one store (`RedisDedupeStore`,
    /// feature `redis`): an event is then handled once however it arrives.
    pub fn dedupe_store(mut self, store: Arc<dyn DedupeStore>) -> Self {
        self.dedupe_store = Some(store);
        self
    }

    /// How long the handler may run ([`DEFAULT_HANDLER_DEADLINE`] unless set; greater than
    /// zero; keep it under the platform's 3 seconds). A handler past it is stopped (its
    /// future dropped) and the platform pushes the event again: the push is answered 503, the
    /// event over the long connection acknowledged with 500.
    pub fn handler_deadline(mut self, deadline: Duration) -> Self {
        self.handler_deadline = Some(deadline);
        self
    }

    /// How long a claim on an event outlives a process that died while handling it
    /// ([`DEFAULT_CLAIM_LEASE`] unless set; longer than the handler deadline).
    pub fn claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = Some(lease);
        self
    }

    /// How long a handled event is remembered ([`DEFAULT_DONE_TTL`] unless set; greater than
    /// zero). Keep it longer than the platform's retry window, about 7.1 hours.
    pub fn done_ttl(mut self, ttl: Duration) -> Self {
        self.done_ttl = Some(ttl);
        self
    }

    /// Checks the settings; fails with [`Error::InvalidInput`] naming the wrong one.
    pub(crate) fn build(self) -> Result<Delivery, Error> {
        let handler_deadline = self.handler_deadline.unwrap_or(DEFAULT_HANDLER_DEADLINE);
        if handler_deadline.is_zero() {
            return Err(Error::invalid_input(
                "handler_deadline",
                "must be greater than zero",
            ));
        }
        let claim_lease = self.claim_lease.unwrap_or(DEFAULT_CLAIM_LEASE);
        if claim_lease <= handler_deadline {
            return Err(Error::invalid_input(
                "claim_lease",
                "must be longer than handler_deadline",
            ));
        }
        let done_ttl = self.done_ttl.unwrap_or(DEFAULT_DONE_TTL);
        if done_ttl.is_zero() {
            return Err(Error::invalid_input("done_ttl", "must be greater than zero"));
        }
        Ok(Delivery {
            dedupe: self
                .dedupe_store
                .unwrap_or_else(|| Arc::new(MemoryDedupeStore::default())),
            handler_deadline,
            claim_lease,
            done_ttl,
            owner: format!("{}-{:016x}", std::process::id(), fastrand::u64(..)),
            claims: AtomicU64::new(0),
        })
    }
}

/// Delivers events to handlers exactly once, through a dedupe store.
pub(crate) struct Delivery {
    dedupe: Arc<dyn DedupeStore>,
    handler_deadline: Duration,
    claim_lease: Duration,
    done_ttl: Duration,
    /// Names this delivery's claims, so that it releases only its own.
    owner: String,
    claims: AtomicU64,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("dedupe", &self.dedupe)
            .field("handler_deadline", &self.handler_deadline)
            .field("claim_lease", &self.claim_lease)
            .field("done_ttl", &self.done_ttl)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// How long a handler may run.
    #[cfg(feature = "long-connection")]
    pub(crate) fn handler_deadline(&self) -> Duration {
        self.handler_deadline
    }

    /// Claims the event, runs the handler within its deadline, and records the outcome.
    pub(crate) async fn deliver<F, Fut, E>(&self, mut envelope: Body<'_>, handler: F) -> Outcome
    where
        F: FnOnce(HelpdeskEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        // The id as the body has it: the handler gets the header, no copy of the id is made.
        let (header, event_id) = match envelope.take_header() {
            Ok(taken) => taken,
            Err(reason) => return Outcome::Refused(reason),
        };
        let event_id = &*event_id;
        let owner = AttemptOwner::new(&self.owner, self.claims.fetch_add(1, Ordering::Relaxed));
        let owner = owner.as_str();
        match self.dedupe.claim(event_id, owner, self.claim_lease).await {
            Ok(Claim::Claimed) => {}
            Ok(Claim::Done) => {
                tracing::debug!(%event_id, "a duplicate of an event already handled");
                return Outcome::Duplicate;
            }
            Ok(Claim::InProgress) => {
                tracing::info!(%event_id, "another attempt is handling this event; asking for a retry");
                return Outcome::InProgress;
            }
            Err(error) => {
                tracing::warn!(%event_id, %error, "the dedupe store failed; asking for a retry");
                return Outcome::StoreFailed;
            }
        }
        // The event (over a kilobyte) is made inside the innermost future, so that wrapping
        // it in the unwind guard and the deadline moves the small envelope, not the event.
        let run = AssertUnwindSafe(async move { handler(envelope.into_event(header)).await }).catch_unwind();
        let outcome = match within(self.handler_deadline, run).await {
            Ok(Ok(Ok(()))) => {
                if let Err(error) = self.dedupe.complete(event_id, self.done_ttl).await {
                    tracing::warn!(%event_id, %error, "handled, but the dedupe store did not record it");
                }
                tracing::debug!(%event_id, "handled");
                return Outcome::Handled;
            }
            Ok(Ok(Err(error))) => {
                tracing::warn!(%event_id, %error, "the handler failed; the platform will push the event again");
                Outcome::Failed
            }
            Ok(Err(_panic)) => {
                tracing::warn!(%event_id, "the handler panicked; the platform will push the event again");
                Outcome::Failed
            }
            Err(_elapsed) => {
                tracing::warn!(%event_id, deadline_ms = self.handler_deadline.as_millis() as u64,
                    "the handler passed its deadline and was stopped; the platform will push the event again");
                Outcome::PastDeadline
            }
        };
        if let Err(error) = self.dedupe.release(event_id, owner).await {
            tracing::warn!(%event_id, %error, "the claim was not released; a retry waits for its lease");
        }
        outcome
    }
}

/// `future` within `deadline` from now, as `tokio::time::timeout` runs it, `Err(())` once past
/// it; but the timer is set only if the future waits. Most handlers finish in their first
/// poll, and a timer set (and cancelled) for each push cost more than the rest of the delivery.
/// The deadline counts from the call, whenever the timer is set.
async fn within<F: Future>(deadline: Duration, future: F) -> Result<F::Output, ()> {
    let deadline = tokio::time::Instant::now() + deadline;
    let mut future = std::pin::pin!(future);
    let mut timer = std::pin::pin!(None::<tokio::task::Unconstrained<tokio::time::Sleep>>);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if timer.is_none() {
            // Unconstrained, as `timeout` polls its timer once the future spent the task's
            // budget: a future that always spends it is still stopped at the deadline.
            timer.set(Some(tokio::task::unconstrained(tokio::time::sleep_until(
                deadline,
            ))));
        }
        match timer.as_mut().as_pin_mut() {
            Some(timer) => timer.poll(cx).map(Err),
            None => Poll::Pending,
        }
    })
    .await
}

/// One attempt's name for its claim: the delivery's name, `-`, and the attempt's number.
/// Written on the stack: a `format!` for each push cost more than the claim it names.
struct AttemptOwner {
    bytes: [u8; 64],
    len: usize,
}

impl AttemptOwner {
    /// `delivery` is `{pid}-{16 hex digits}` (at most 27 bytes), the number at most 20
    /// digits: 48 bytes at most.
    fn new(delivery: &str, attempt: u64) -> Self {
        let mut owner = AttemptOwner {
            bytes: [0; 64],
            len: 0,
        };
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = attempt;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for part in [delivery.as_bytes(), b"-", &digits[at..]] {
            let end = (owner.len + part.len()).min(owner.bytes.len());
            owner.bytes[owner.len..end].copy_from_slice(&part[..end - owner.len]);
            owner.len = end;
        }
        owner
    }

    fn as_str(&self) -> &str {
        // ASCII digits after the delivery's ASCII name: always UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_owners_read_as_formatted() {
        for (delivery, attempt) in [
            ("1-00000000000000ff", 0),
            ("4294967295-ffffffffffffffff", u64::MAX),
            ("7-a", 1234567),
        ] {
            assert_eq!(
                AttemptOwner::new(delivery, attempt).as_str(),
                format!("{delivery}-{attempt}")
            );
        }
    }
}
