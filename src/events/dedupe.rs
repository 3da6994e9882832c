//! Exactly-once handling across retries and replicas: a claim on each event id while its
//! handler runs (a lease, so that a replica that dies does not block the retry), and a
//! done-marker once it succeeded.

use std::borrow::Borrow;
use std::collections::hash_map::{Entry as Slot, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::token_cache::BoxFuture;

/// What [`DedupeStore::claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the claim: run the handler, then `complete` or `release`.
    Claimed,
    /// Another attempt holds an unexpired claim: its handler is still running.
    InProgress,
    /// The event was handled already.
    Done,
}

/// Where the receiver records which events are being handled and which are done.
///
/// Every method names the event by the envelope's `event_id` and the claim by `owner`, a
/// value unique to one attempt, so that a late `release` never drops another attempt's claim.
/// [`MemoryDedupeStore`] serves one process; `RedisDedupeStore` (feature `redis`) serves
/// every replica of a service.
pub trait DedupeStore: Send + Sync + fmt::Debug {
    /// Claims `event_id` for `owner` for at most `lease`, unless it is claimed or done.
    fn claim<'a>(
        &'a self,
        event_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, Error>>;
    /// Marks `event_id` done, remembered for `ttl`.
    fn complete<'a>(&'a self, event_id: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>>;
    /// Gives up `owner`'s claim on `event_id` (its handler failed), so that a retry runs.
    fn release<'a>(&'a self, event_id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), Error>>;
}

enum Entry {
    Claimed { owner: Name, until: Instant },
    Done { until: Instant },
}

/// An event id or a claim's owner as the map keeps it: in place when it is short (an event id
/// is 32 or 36 characters, the receiver's owners `{pid}-{16 hex digits}-{attempt}`, under 38
/// until the process has made billions of attempts), so that a claim allocates neither; on the
/// heap otherwise. Compared and hashed as its bytes.
#[derive(Clone)]
enum Name {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<[u8]>),
}

/// The longest name kept in place (a 36-character UUID fits): the enum is then 40 bytes, and
/// an entry of the map 96. The map's memory is what a claim mostly costs: its stores into
/// the table, not its instructions.
const INLINE_NAME: usize = 38;

impl Name {
    fn new(name: &str) -> Self {
        let name = name.as_bytes();
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_NAME => {
                let mut bytes = [0; INLINE_NAME];
                bytes[..name.len()].copy_from_slice(name);
                Name::Inline { len, bytes }
            }
            _ => Name::Heap(name.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Name::Heap(bytes) => bytes,
        }
    }
}

// Hashed and compared as the bytes it borrows as, so that the map is looked up by `&[u8]`.
impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// The map's hasher: foldhash, several times cheaper than the standard SipHash on an event
/// id, seeded at random per map. Its weaker resistance to chosen collisions is safe here:
/// the receiver and the long connection look an id up only after the push's signature or
/// verification token was checked, so the ids come from the platform, not from whoever can
/// reach the endpoint.
type Hashing = foldhash::fast::RandomState;

/// A [`DedupeStore`] in this process's memory. Entries expire; expired ones are swept as new
/// ones arrive, so memory stays bounded by the events of one retry window.
#[derive(Default)]
pub struct MemoryDedupeStore {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Name, Entry, Hashing>,
    /// The map's size after the last sweep; the next sweep comes when it has doubled.
    swept_at: usize,
}

impl Entries {
    fn sweep_if_grown(&mut self, now: Instant) {
        if self.map.len() >= (2 * self.swept_at).max(1024) {
            self.map.retain(|_, entry| match entry {
                Entry::Claimed { until, .. } | Entry::Done { until } => *until > now,
            });
            self.swept_at = self.map.len();
        }
    }
}

impl MemoryDedupeStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Each write is one insert or remove: the map stays consistent after a panic.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryDedupeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDedupeStore")
            .field("entries", &self.entries().map.len())
            .finish()
    }
}

/// An answer known before the method returns, as a future of no size: boxed, it allocates
/// nothing (an `async` block holds its state, a byte, and would be allocated for each push).
/// `CLAIM` is the [`Claim`]: 0 claimed, 1 in progress, 2 done.
struct Answered<const CLAIM: u8>;

impl<const CLAIM: u8> Future for Answered<CLAIM> {
    type Output = Result<Claim, Error>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(match CLAIM {
            0 => Claim::Claimed,
            1 => Claim::InProgress,
            _ => Claim::Done,
        }))
    }
}

fn answered(claim: Claim) -> BoxFuture<'static, Result<Claim, Error>> {
    match claim {
        Claim::Claimed => Box::pin(Answered::<0>),
        Claim::InProgress => Box::pin(Answered::<1>),
        Claim::Done => Box::pin(Answered::<2>),
    }
}

/// `Ok(())`, as a future of no size (see [`Answered`]).
struct Recorded;

impl Future for Recorded {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}

impl DedupeStore for MemoryDedupeStore {
    fn claim<'a>(
        &'a self,
        event_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, Error>> {
        let now = Instant::now();
        let mut entries = self.entries();
        entries.sweep_if_grown(now);
        let claimed = Entry::Claimed {
            owner: Name::new(owner),
            until: now + lease,
        };
        // One probe: the id is looked up and, if new or expired, claimed where it was found.
        match entries.map.entry(Name::new(event_id)) {
            Slot::Occupied(mut slot) => match slot.get() {
                Entry::Done { until } if *until > now => return answered(Claim::Done),
                Entry::Claimed { until, .. } if *until > now => return answered(Claim::InProgress),
                _ => {
                    slot.insert(claimed);
                }
            },
            Slot::Vacant(slot) => {
                slot.insert(claimed);
            }
        }
        answered(Claim::Claimed)
    }

    fn complete<'a>(&'a self, event_id: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>> {
        let until = Instant::now() + ttl;
        // One probe; a claimed event's entry is replaced in place.
        self.entries()
            .map
            .insert(Name::new(event_id), Entry::Done { until });
        Box::pin(Recorded)
    }

    fn release<'a>(&'a self, event_id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        let mut entries = self.entries();
        if let Slot::Occupied(slot) = entries.map.entry(Name::new(event_id)) {
            if matches!(slot.get(), Entry::Claimed { owner: holder, .. } if holder.as_bytes() == owner.as_bytes())
            {
                slot.remove();
            }
        }
        Box::pin(Recorded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn claims_expire_and_done_markers_last_their_ttl() {
        let store = MemoryDedupeStore::default();
        let lease = Duration::from_secs(10);
        assert_eq!(store.claim("e", "a", lease).await.unwrap(), Claim::Claimed);
        assert_eq!(store.claim("e", "b", lease).await.unwrap(), Claim::InProgress);
        // Another owner's release leaves the claim alone.
        store.release("e", "b").await.unwrap();
        assert_eq!(store.claim("e", "b", lease).await.unwrap(), Claim::InProgress);
        // A claim whose holder died expires with its lease.
        tokio::time::advance(lease).await;
        assert_eq!(store.claim("e", "b", lease).await.unwrap(), Claim::Claimed);
        store.complete("e", Duration::from_secs(3600)).await.unwrap();
        assert_eq!(store.claim("e", "c", lease).await.unwrap(), Claim::Done);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(store.claim("e", "c", lease).await.unwrap(), Claim::Claimed);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_swept() {
        let store = MemoryDedupeStore::default();
        for i in 0..1024 {
            store
                .complete(&format!("old-{i}"), Duration::from_secs(1))
                .await
                .unwrap();
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        store.claim("new", "a", Duration::from_secs(1)).await.unwrap();
        assert_eq!(store.entries().map.len(), 1);
    }

    #[test]
    fn names_and_entries_stay_small() {
        assert_eq!(std::mem::size_of::<Name>(), 40);
        assert_eq!(std::mem::size_of::<(Name, Entry)>(), 96);
    }

    #[tokio::test(start_paused = true)]
    async fn long_ids_and_owners_are_kept_whole() {
        let store = MemoryDedupeStore::default();
        let lease = Duration::from_secs(10);
        let long = "e".repeat(300);
        let (owner, other) = (format!("{long}-a"), format!("{long}-b"));
        for id in [&long[..INLINE_NAME], &long[..INLINE_NAME + 1], &long[..]] {
            assert_eq!(store.claim(id, &owner, lease).await.unwrap(), Claim::Claimed);
            assert_eq!(store.claim(id, &other, lease).await.unwrap(), Claim::InProgress);
            store.release(id, &other).await.unwrap();
            assert_eq!(store.claim(id, &other, lease).await.unwrap(), Claim::InProgress);
            store.release(id, &owner).await.unwrap();
            assert_eq!(store.claim(id, &other, lease).await.unwrap(), Claim::Claimed);
            store.complete(id, lease).await.unwrap();
            assert_eq!(store.claim(id, &owner, lease).await.unwrap(), Claim::Done);
        }
        assert_eq!(store.entries().map.len(), 3);
    }
}
