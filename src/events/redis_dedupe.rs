//! A [`DedupeStore`] on Redis, shared by the replicas of a service: the same event pushed to
//! two replicas is handled once.

use std::fmt;
use std::time::Duration;

use super::dedupe::{Claim, DedupeStore};
use crate::error::Error;
use crate::redis_connection::RedisConnection;
use crate::token_cache::BoxFuture;

/// How long one Redis command may take, unless set otherwise.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(500);

/// The value of a done-marker; a claim's value is its owner.
const DONE: &str = "done";

/// Deletes a claim only for its owner.
const RELEASE: &str =
    r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#;

/// Event claims and done-markers in Redis, under `feishu-helpdesk:event:<event_id>`.
///
/// A claim is `SET NX PX <lease>` with the claiming attempt as its value, so that it expires
/// if its replica dies and only its owner releases it; a done-marker replaces it with a TTL.
/// When Redis does not answer, the receiver answers 503 and the platform pushes the event
/// again: events are never handled without the shared record.
///
/// ```no_run
/// # fn run() -> Result<(), feishu_helpdesk::Error> {
/// use std::sync::Arc;
/// use feishu_helpdesk::events::{DeliveryOptions, Receiver, RedisDedupeStore};
///
/// let store = Arc::new(RedisDedupeStore::new("redis://127.0.0.1:6379/")?);
/// let receiver = Receiver::builder()
///     .verification_token("v-...")
///     .delivery(DeliveryOptions::default().dedupe_store(store))
///     .build()?;
/// # Ok(())
/// # }
/// ```
pub struct RedisDedupeStore {
    redis: RedisConnection,
}

impl RedisDedupeStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`). No
    /// connection is made until the first push.
    pub fn new(url: &str) -> Result<Self, Error> {
        Ok(Self {
            redis: RedisConnection::new(url, DEFAULT_OPERATION_TIMEOUT)?,
        })
    }

    /// How long one Redis command may take (500 ms unless set).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.redis.operation_timeout = timeout;
        self
    }
}

impl fmt::Debug for RedisDedupeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: not shown.
        f.debug_struct("RedisDedupeStore")
            .field("operation_timeout", &self.redis.operation_timeout)
            .finish_non_exhaustive()
    }
}

fn key(event_id: &str) -> String {
    format!("feishu-helpdesk:event:{event_id}")
}

fn unavailable(reason: String) -> Error {
    Error::Internal {
        message: format!("the Redis dedupe store is unavailable: {reason}"),
    }
}

impl DedupeStore for RedisDedupeStore {
    fn claim<'a>(
        &'a self,
        event_id: &'a str,
        owner: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, Error>> {
        Box::pin(async move {
            let key = key(event_id);
            let lease_ms = lease.as_millis().max(1) as u64;
            // SET NX, and the value already there if it was not set: one round trip.
            let (set, current): (Option<String>, Option<String>) = self
                .redis
                .run(|mut connection| async move {
                    redis::pipe()
                        .cmd("SET")
                        .arg(&key)
                        .arg(owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(lease_ms)
                        .cmd("GET")
                        .arg(&key)
                        .query_async(&mut connection)
                        .await
                })
                .await
                .map_err(unavailable)?;
            Ok(match (set, current.as_deref()) {
                (Some(_), _) => Claim::Claimed,
                (None, Some(DONE)) => Claim::Done,
                (None, Some(_)) => Claim::InProgress,
                // The holder's claim expired between the two commands: let a retry take it.
                (None, None) => Claim::InProgress,
            })
        })
    }

    fn complete<'a>(&'a self, event_id: &'a str, ttl: Duration) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let ttl_ms = ttl.as_millis().max(1) as u64;
            self.redis
                .run(|mut connection| async move {
                    redis::cmd("SET")
                        .arg(key(event_id))
                        .arg(DONE)
                        .arg("PX")
                        .arg(ttl_ms)
                        .query_async::<()>(&mut connection)
                        .await
                })
                .await
                .map_err(unavailable)
        })
    }

    fn release<'a>(&'a self, event_id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.redis
                .run(|mut connection| async move {
                    redis::Script::new(RELEASE)
                        .key(key(event_id))
                        .arg(owner)
                        .invoke_async::<i64>(&mut connection)
                        .await
                })
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }
}
