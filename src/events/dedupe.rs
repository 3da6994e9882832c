//! Exactly-once handling across retries and replicas: a claim on each event id while its
//! handler runs (a lease, so that a replica that dies does not block the retry), and a
//! done-marker once it succeeded.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
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
    Claimed { owner: String, until: Instant },
    Done { until: Instant },
}

/// A [`DedupeStore`] in this process's memory. Entries expire; expired ones are swept as new
/// ones arrive, so memory stays bounded by the events of one retry window.
#[derive(Default)]
pub struct MemoryDedupeStore {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
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

impl DedupeStore for MemoryDedupeStore {
    fn claim<'a>(
        &'a self,
        event_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, Error>> {
        let now = Instant::now();
        let mut entries = self.entries();
        let found = match entries.map.get(event_id) {
            Some(Entry::Done { until }) if *until > now => Claim::Done,
            Some(Entry::Claimed { until, .. }) if *until > now => Claim::InProgress,
            _ => Claim::Claimed,
        };
        if found == Claim::Claimed {
            entries.sweep_if_grown(now);
            entries.map.insert(
                event_id.to_owned(),
                Entry::Claimed {
                    owner: owner.to_owned(),
                    until: now + lease,
                },
            );
        }
        Box::pin(async move { Ok(found) })
    }

    fn complete<'a>(&'a self, event_id: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>> {
        let until = Instant::now() + ttl;
        let mut entries = self.entries();
        // A claimed event's key is there already: replaced in place, not allocated again.
        match entries.map.get_mut(event_id) {
            Some(entry) => *entry = Entry::Done { until },
            None => {
                entries.map.insert(event_id.to_owned(), Entry::Done { until });
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(&'a self, event_id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        let mut entries = self.entries();
        if matches!(entries.map.get(event_id), Some(Entry::Claimed { owner: holder, .. }) if holder == owner)
        {
            entries.map.remove(event_id);
        }
        Box::pin(async { Ok(()) })
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
}
