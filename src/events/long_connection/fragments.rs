//! Reassembling events the platform split into fragments (`sum` frames sharing a
//! `message_id`, each with its `seq`), within a time limit and a memory bound.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use crate::events::MAX_EVENT_BODY_BYTES;

/// The most fragments one message may have.
const MAX_FRAGMENTS: usize = 256;

/// Why a fragment was dropped (with the fragments of its message received so far); the
/// platform pushes the message again, since it was not acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// `sum` or `seq` missing, not a number, or out of range.
    BadIndex,
    /// The message would be larger than [`MAX_EVENT_BODY_BYTES`].
    TooLarge,
    /// The fragments buffered would exceed the bound of all partial messages.
    Full,
}

struct Partial {
    parts: Vec<Option<Bytes>>,
    missing: usize,
    bytes: usize,
    started: Instant,
}

/// The partial messages of one connection.
pub(crate) struct Fragments {
    partial: HashMap<String, Partial>,
    bytes: usize,
    ttl: Duration,
    max_bytes: usize,
}

impl Fragments {
    /// Partial messages live `ttl`; all of them together hold at most `max_bytes`.
    pub(crate) fn new(ttl: Duration, max_bytes: usize) -> Self {
        Fragments {
            partial: HashMap::new(),
            bytes: 0,
            ttl,
            max_bytes,
        }
    }

    /// How many bytes the partial messages hold.
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.bytes
    }

    /// Adds one fragment: the whole message once its last fragment arrived, `Ok(None)` while
    /// fragments are missing.
    pub(crate) fn add(
        &mut self,
        message_id: &str,
        sum: Option<&str>,
        seq: Option<&str>,
        payload: Bytes,
        now: Instant,
    ) -> Result<Option<Bytes>, Dropped> {
        let sum: usize = match sum {
            None => 1,
            Some(sum) => sum.trim().parse().map_err(|_| Dropped::BadIndex)?,
        };
        let seq: usize = match seq {
            None => 0,
            Some(seq) => seq.trim().parse().map_err(|_| Dropped::BadIndex)?,
        };
        if sum == 0 || sum > MAX_FRAGMENTS || seq >= sum {
            return Err(Dropped::BadIndex);
        }
        if payload.len() > MAX_EVENT_BODY_BYTES {
            return Err(Dropped::TooLarge);
        }
        if sum == 1 {
            return Ok(Some(payload));
        }
        self.expire(now);
        if self.bytes + payload.len() > self.max_bytes {
            self.forget(message_id);
            return Err(Dropped::Full);
        }
        let partial = self
            .partial
            .entry(message_id.to_owned())
            .or_insert_with(|| Partial {
                parts: vec![None; sum],
                missing: sum,
                bytes: 0,
                started: now,
            });
        if partial.parts.len() != sum {
            // Another `sum` for the same message: nothing consistent can come of it.
            self.forget(message_id);
            return Err(Dropped::BadIndex);
        }
        if partial.bytes + payload.len() > MAX_EVENT_BODY_BYTES {
            self.forget(message_id);
            return Err(Dropped::TooLarge);
        }
        let slot = &mut partial.parts[seq];
        if let Some(old) = slot.take() {
            // A fragment sent again replaces the first copy.
            partial.bytes -= old.len();
            self.bytes -= old.len();
            partial.missing += 1;
        }
        partial.bytes += payload.len();
        self.bytes += payload.len();
        partial.missing -= 1;
        *slot = Some(payload);
        if partial.missing > 0 {
            return Ok(None);
        }
        let Some(partial) = self.partial.remove(message_id) else {
            return Ok(None);
        };
        self.bytes -= partial.bytes;
        let mut whole = BytesMut::with_capacity(partial.bytes);
        for part in partial.parts.into_iter().flatten() {
            whole.extend_from_slice(&part);
        }
        Ok(Some(whole.freeze()))
    }

    fn forget(&mut self, message_id: &str) {
        if let Some(partial) = self.partial.remove(message_id) {
            self.bytes -= partial.bytes;
        }
    }

    /// Drops the partial messages older than the time limit.
    fn expire(&mut self, now: Instant) {
        let ttl = self.ttl;
        let mut freed = 0;
        self.partial.retain(|message_id, partial| {
            let keep = now.saturating_duration_since(partial.started) < ttl;
            if !keep {
                tracing::warn!(
                    message_id,
                    "dropped an event whose fragments did not all arrive in time"
                );
                freed += partial.bytes;
            }
            keep
        });
        self.bytes -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fragments() -> Fragments {
        Fragments::new(Duration::from_secs(5), 4 * MAX_EVENT_BODY_BYTES)
    }

    #[test]
    fn a_whole_message_passes_through() {
        let now = Instant::now();
        let mut f = fragments();
        assert_eq!(
            f.add("m", Some("1"), Some("0"), Bytes::from_static(b"{}"), now),
            Ok(Some(Bytes::from_static(b"{}")))
        );
        assert_eq!(
            f.add("m", None, None, Bytes::from_static(b"x"), now),
            Ok(Some(Bytes::from_static(b"x")))
        );
    }

    #[test]
    fn bad_indexes_are_dropped() {
        let now = Instant::now();
        let mut f = fragments();
        for (sum, seq) in [("0", "0"), ("2", "2"), ("x", "0"), ("2", "-1"), ("100000", "0")] {
            assert_eq!(
                f.add("m", Some(sum), Some(seq), Bytes::from_static(b"a"), now),
                Err(Dropped::BadIndex)
            );
        }
        assert_eq!(
            f.add("m", Some("2"), Some("0"), Bytes::from_static(b"a"), now),
            Ok(None)
        );
        assert_eq!(
            f.add("m", Some("3"), Some("1"), Bytes::from_static(b"b"), now),
            Err(Dropped::BadIndex)
        );
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn partial_messages_expire_and_free_their_memory() {
        let now = Instant::now();
        let mut f = fragments();
        assert_eq!(
            f.add("old", Some("2"), Some("0"), Bytes::from(vec![0; 100]), now),
            Ok(None)
        );
        assert_eq!(f.buffered(), 100);
        let later = now + Duration::from_secs(6);
        assert_eq!(
            f.add("new", Some("2"), Some("0"), Bytes::from_static(b"n"), later),
            Ok(None)
        );
        assert_eq!(f.buffered(), 1);
        // The late second half of the expired message starts it again; it never completes.
        assert_eq!(
            f.add("old", Some("2"), Some("1"), Bytes::from_static(b"o"), later),
            Ok(None)
        );
    }

    #[test]
    fn memory_is_bounded() {
        let now = Instant::now();
        let mut f = Fragments::new(Duration::from_secs(5), 1000);
        assert_eq!(
            f.add("a", Some("3"), Some("0"), Bytes::from(vec![0; 600]), now),
            Ok(None)
        );
        assert_eq!(
            f.add("b", Some("3"), Some("0"), Bytes::from(vec![0; 600]), now),
            Err(Dropped::Full)
        );
        assert_eq!(f.buffered(), 600);
        let big = Bytes::from(vec![0; MAX_EVENT_BODY_BYTES / 2 + 1]);
        let mut f = fragments();
        assert_eq!(f.add("c", Some("2"), Some("0"), big.clone(), now), Ok(None));
        assert_eq!(f.add("c", Some("2"), Some("1"), big, now), Err(Dropped::TooLarge));
        assert_eq!(f.buffered(), 0);
    }

    proptest! {
        #[test]
        fn fragments_in_any_order_make_the_message(
            message in proptest::collection::vec(any::<u8>(), 1..2000),
            parts in 1usize..20,
            seed in any::<u64>(),
        ) {
            let now = Instant::now();
            let mut f = fragments();
            let size = message.len().div_ceil(parts);
            let chunks: Vec<&[u8]> = message.chunks(size).collect();
            let sum = chunks.len().to_string();
            let mut order: Vec<usize> = (0..chunks.len()).collect();
            fastrand::Rng::with_seed(seed).shuffle(&mut order);
            let mut whole = None;
            for (n, &seq) in order.iter().enumerate() {
                let got = f.add("m", Some(&sum), Some(&seq.to_string()), Bytes::copy_from_slice(chunks[seq]), now).unwrap();
                if n + 1 < order.len() {
                    prop_assert_eq!(&got, &None);
                } else {
                    whole = got;
                }
            }
            prop_assert_eq!(whole.as_deref(), Some(message.as_slice()));
            prop_assert_eq!(f.buffered(), 0);
        }
    }
}
