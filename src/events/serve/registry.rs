//! The open connections, by what each is doing, and the cap on them: at the cap a new
//! connection sheds the one that has waited longest for a request head (then the one that
//! has read a body longest), never one whose request is being handled.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// One open connection, as the registry and the connection's task share it.
pub(super) struct Slot {
    /// Where the slot is in the registry; changed only under the registry's lock.
    place: Mutex<Place>,
    /// Told when the registry shed the connection: its task closes it.
    shed: Notify,
    /// Told when the connection's task has closed it.
    closed: Notify,
}

/// What a connection is doing, and its turn among those doing the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// Waiting for a request head, new or after an answer (keep-alive), since turn `n`.
    Waiting(u64),
    /// Reading a request body, since turn `n`.
    Reading(u64),
    /// The request is in the application's hands.
    Handling,
    /// Shed by the registry: no longer counted.
    Shed,
}

impl Slot {
    /// Resolves once the registry has shed this connection.
    pub(super) async fn shed(&self) {
        self.shed.notified().await;
    }

    /// Resolves once the connection's task has closed it (see [`Slot::was_closed`]).
    pub(super) async fn closed(&self) {
        self.closed.notified().await;
    }

    /// Tells [`Slot::closed`] that the connection is closed.
    pub(super) fn was_closed(&self) {
        self.closed.notify_one();
    }
}

/// The open connections and the cap.
pub(super) struct Registry {
    cap: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Connections waiting for a request head, oldest turn first.
    waiting: BTreeMap<u64, Arc<Slot>>,
    /// Connections reading a body, oldest turn first.
    reading: BTreeMap<u64, Arc<Slot>>,
    /// Every connection counted: the waiting, the reading and those being handled.
    open: usize,
    /// The next turn.
    turn: u64,
}

impl Inner {
    fn next_turn(&mut self) -> u64 {
        self.turn += 1;
        self.turn
    }

    /// Takes `slot` out of the map of its place, returning that place.
    fn take(&mut self, slot: &Slot) -> Place {
        let place = *lock(&slot.place);
        match place {
            Place::Waiting(turn) => {
                self.waiting.remove(&turn);
            }
            Place::Reading(turn) => {
                self.reading.remove(&turn);
            }
            Place::Handling | Place::Shed => {}
        }
        place
    }

    /// Puts `slot` in `place` (its map, if any), unless it was shed.
    fn put(&mut self, slot: &Arc<Slot>, place: Place) {
        let mut current = lock(&slot.place);
        if *current == Place::Shed {
            return;
        }
        *current = place;
        drop(current);
        match place {
            Place::Waiting(turn) => {
                self.waiting.insert(turn, slot.clone());
            }
            Place::Reading(turn) => {
                self.reading.insert(turn, slot.clone());
            }
            Place::Handling | Place::Shed => {}
        }
    }

    /// Sheds the connection waiting longest for a head, else the one reading a body longest.
    fn shed_one(&mut self) -> Option<Arc<Slot>> {
        let (_, victim) = self.waiting.pop_first().or_else(|| self.reading.pop_first())?;
        *lock(&victim.place) = Place::Shed;
        self.open -= 1;
        victim.shed.notify_one();
        Some(victim)
    }
}

/// A lock that a panic elsewhere does not poison for good: the registry's maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What became of a newly accepted connection.
pub(super) enum Admission {
    /// Counted, waiting for its head; `shed` says whether an older connection was shed for it.
    Admitted { slot: Arc<Slot>, shed: bool },
    /// At the cap, and every connection is handling a request: close this one.
    Full,
}

impl Registry {
    /// A registry holding at most `cap` connections (at least 1).
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The cap in force.
    pub(super) fn cap(&self) -> usize {
        self.cap
    }

    /// How many connections are counted now.
    #[cfg(test)]
    pub(super) fn open(&self) -> usize {
        lock(&self.inner).open
    }

    /// Counts a newly accepted connection, shedding the oldest incomplete one at the cap.
    pub(super) fn admit(&self) -> Admission {
        let mut inner = lock(&self.inner);
        let mut shed = false;
        if inner.open >= self.cap {
            if inner.shed_one().is_none() {
                return Admission::Full;
            }
            shed = true;
        }
        let turn = inner.next_turn();
        let slot = Arc::new(Slot {
            place: Mutex::new(Place::Waiting(turn)),
            shed: Notify::new(),
            closed: Notify::new(),
        });
        inner.waiting.insert(turn, slot.clone());
        inner.open += 1;
        Admission::Admitted { slot, shed }
    }

    /// Sheds the oldest incomplete connection whatever the count (the process ran out of
    /// files): the one shed, if any.
    pub(super) fn shed_one(&self) -> Option<Arc<Slot>> {
        lock(&self.inner).shed_one()
    }

    /// The connection's request head arrived: it reads the body now.
    pub(super) fn head_received(&self, slot: &Arc<Slot>) {
        let mut inner = lock(&self.inner);
        if inner.take(slot) == Place::Shed {
            return;
        }
        let turn = inner.next_turn();
        inner.put(slot, Place::Reading(turn));
    }

    /// The connection's request body was read whole: the request is handled now.
    pub(super) fn body_received(&self, slot: &Arc<Slot>) {
        let mut inner = lock(&self.inner);
        let place = *lock(&slot.place);
        if let Place::Reading(_) = place {
            inner.take(slot);
            inner.put(slot, Place::Handling);
        }
    }

    /// The connection's request was answered: it waits for the next head.
    pub(super) fn answered(&self, slot: &Arc<Slot>) {
        let mut inner = lock(&self.inner);
        if inner.take(slot) == Place::Shed {
            return;
        }
        let turn = inner.next_turn();
        inner.put(slot, Place::Waiting(turn));
    }

    /// Where the connection is now.
    pub(super) fn place(&self, slot: &Slot) -> Place {
        let _inner = lock(&self.inner);
        *lock(&slot.place)
    }

    /// The connection closed: no longer counted (a shed one no longer is).
    pub(super) fn close(&self, slot: &Arc<Slot>) {
        let mut inner = lock(&self.inner);
        if inner.take(slot) == Place::Shed {
            return;
        }
        *lock(&slot.place) = Place::Shed;
        inner.open -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{Admission, Place, Registry, Slot};
    use std::sync::Arc;

    fn admit(registry: &Registry) -> (Arc<Slot>, bool) {
        match registry.admit() {
            Admission::Admitted { slot, shed } => (slot, shed),
            Admission::Full => panic!("full"),
        }
    }

    #[test]
    fn at_the_cap_the_oldest_waiting_connection_is_shed() {
        let registry = Registry::new(3);
        let (first, _) = admit(&registry);
        let (second, _) = admit(&registry);
        let (third, _) = admit(&registry);
        // The first is reading a body: the second, waiting, goes before it.
        registry.head_received(&first);
        let (_fourth, shed) = admit(&registry);
        assert!(shed);
        assert_eq!(registry.place(&second), Place::Shed);
        assert_eq!(registry.open(), 3);
        // An answered connection waits again, with a new turn: the third is older now.
        registry.answered(&first);
        admit(&registry);
        assert_eq!(registry.place(&third), Place::Shed);
        assert!(matches!(registry.place(&first), Place::Waiting(_)));
        // Closing a shed connection does not count it twice.
        registry.close(&second);
        assert_eq!(registry.open(), 3);
    }

    #[test]
    fn readers_are_shed_after_waiters_and_handlers_never() {
        let registry = Registry::new(2);
        let (first, _) = admit(&registry);
        let (second, _) = admit(&registry);
        registry.head_received(&first);
        registry.head_received(&second);
        registry.body_received(&second);
        let (third, shed) = admit(&registry);
        assert!(shed);
        assert_eq!(registry.place(&first), Place::Shed);
        assert_eq!(registry.place(&second), Place::Handling);
        // When every connection is being handled, a newcomer is turned away.
        registry.head_received(&third);
        registry.body_received(&third);
        assert!(matches!(registry.admit(), Admission::Full));
        assert!(registry.shed_one().is_none());
        registry.close(&second);
        assert_eq!(registry.open(), 1);
        let (_, shed) = admit(&registry);
        assert!(!shed);
    }
}
