//! A [`TokenCache`] on Redis, shared by every process of a service: one token, fetched once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use tokio::time::Instant;

use crate::error::Error;
use crate::redis_connection::RedisConnection;
use crate::token_cache::{BoxFuture, CachedToken, FetchLock, MemoryTokenCache, TokenCache};

/// How long one Redis command may take before the cache falls back to memory.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(500);

/// Deletes the fetch lock only for its owner.
const UNLOCK: &str =
    r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#;

/// Tenant tokens in Redis, so that the replicas of a service share one token and fetch it
/// once between them.
///
/// - Keys name the platform and the app (`feishu-helpdesk:tenant_access_token:<base
///   URL>:<app id>`), never the secret. Values carry the token and its expiry; the Redis TTL
///   is the token's remaining life.
/// - A missing or stale token is fetched by one process, under a short lock
///   (`SET NX PX`, released by its owner only); the others wait for it to appear, for a
///   bounded time, then fetch themselves. A lock whose holder died expires.
/// - Redis being down or slow never fails a call: every command has a timeout, and on an
///   error the cache logs a warning (no secrets) and serves from an in-process cache until
///   Redis answers again.
///
/// ```no_run
/// # async fn run() -> Result<(), feishu_helpdesk::Error> {
/// use std::sync::Arc;
/// use feishu_helpdesk::{Client, RedisTokenCache};
///
/// let cache = RedisTokenCache::new("redis://127.0.0.1:6379/")?;
/// let client = Client::builder()
///     .app_credentials("cli_slkdjalasdkjasd", "app-secret")
///     .helpdesk_credentials("7180000000000000001", "ht-example")
///     .token_cache(Arc::new(cache))
///     .build()?;
/// # Ok(())
/// # }
/// ```
pub struct RedisTokenCache {
    redis: RedisConnection,
    fallback: MemoryTokenCache,
    /// Identifies this cache's fetch locks, so that only their owner releases them.
    owner: String,
    degraded: AtomicBool,
}

impl std::fmt::Debug for RedisTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: not shown.
        f.debug_struct("RedisTokenCache")
            .field("operation_timeout", &self.redis.operation_timeout)
            .field("degraded", &self.degraded.load(Ordering::Relaxed))
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl RedisTokenCache {
    /// A cache on the Redis server at `url` (`redis://[:password@]host[:port][/db]`). No
    /// connection is made until the first use; an unreachable server is not an error.
    pub fn new(url: &str) -> Result<Self, Error> {
        Ok(Self {
            redis: RedisConnection::new(url, DEFAULT_OPERATION_TIMEOUT)?,
            fallback: MemoryTokenCache::default(),
            owner: format!("{}-{:016x}", std::process::id(), fastrand::u64(..)),
            degraded: AtomicBool::new(false),
        })
    }

    /// How long one Redis command may take before the cache falls back to memory
    /// (500 ms unless set).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.redis.operation_timeout = timeout;
        self
    }

    /// Runs one Redis operation with the timeout; `None` (after a warning) if Redis did not
    /// answer, so that the caller falls back to memory.
    async fn run<T, F, Fut>(&self, what: &'static str, operation: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let outcome = self.redis.run(operation).await;
        match outcome {
            Ok(value) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again; tokens are shared again");
                }
                Some(value)
            }
            Err(reason) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(operation = what, %reason, "Redis is unavailable; using the in-process token cache");
                }
                None
            }
        }
    }
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The stored value: the token and its expiry, in Unix milliseconds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    token: String,
    expires_at_ms: u64,
}

impl TokenCache for RedisTokenCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<CachedToken>> {
        Box::pin(async move {
            let stored: Option<Option<String>> = self
                .run("get", |mut connection| async move {
                    redis::cmd("GET").arg(key).query_async(&mut connection).await
                })
                .await;
            let Some(stored) = stored else {
                return self.fallback.get(key).await;
            };
            let stored: Stored = serde_json::from_str(&stored?).ok()?;
            let remaining = stored.expires_at_ms.checked_sub(unix_millis(SystemTime::now()))?;
            CachedToken::new(stored.token, Instant::now() + Duration::from_millis(remaining)).ok()
        })
    }

    fn put<'a>(&'a self, key: &'a str, token: CachedToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let remaining = token.time_left();
            let ttl_ms = remaining.as_millis() as u64;
            if ttl_ms > 0 {
                let stored = Stored {
                    token: token.secret().to_owned(),
                    expires_at_ms: unix_millis(SystemTime::now()) + ttl_ms,
                };
                if let Ok(value) = serde_json::to_string(&stored) {
                    let _: Option<()> = self
                        .run("set", |mut connection| async move {
                            redis::cmd("SET")
                                .arg(key)
                                .arg(value)
                                .arg("PX")
                                .arg(ttl_ms)
                                .query_async(&mut connection)
                                .await
                        })
                        .await;
                }
            }
            self.fallback.put(key, token).await;
        })
    }

    fn remove<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let current = self.get(key).await;
            if current
                .as_ref()
                .is_some_and(|current| current.secret() == token.secret())
            {
                let _: Option<()> = self
                    .run("del", |mut connection| async move {
                        redis::cmd("DEL").arg(key).query_async(&mut connection).await
                    })
                    .await;
            }
            self.fallback.remove(key, token).await;
        })
    }

    fn lock_fetch<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, FetchLock> {
        Box::pin(async move {
            let lock = format!("{key}:fetch-lock");
            let owner = self.owner.clone();
            let ttl_ms = ttl.as_millis().max(1) as u64;
            let taken: Option<Option<String>> = self
                .run("lock", |mut connection| async move {
                    redis::cmd("SET")
                        .arg(lock)
                        .arg(owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(ttl_ms)
                        .query_async(&mut connection)
                        .await
                })
                .await;
            match taken {
                Some(Some(_)) => FetchLock::Acquired,
                Some(None) => FetchLock::Busy,
                None => FetchLock::Unsupported,
            }
        })
    }

    fn unlock_fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let lock = format!("{key}:fetch-lock");
            let owner = self.owner.clone();
            let _: Option<i64> = self
                .run("unlock", |mut connection| async move {
                    redis::Script::new(UNLOCK)
                        .key(lock)
                        .arg(owner)
                        .invoke_async(&mut connection)
                        .await
                })
                .await;
        })
    }
}
