//! Tenant access tokens obtained from app credentials: cached, refreshed ahead of expiry,
//! and fetched once for all concurrent callers.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use progenitor_client::Error as GeneratedError;
use reqwest::header::HeaderValue;
use tokio::time::Instant;

use crate::error::Error;
use crate::generated::{self, types};
use crate::hooks::{log_id, RESPONSE_META};
use crate::response::{unexpected_or_transport, ErrorAnswer};
use crate::secret::Secret;

/// How long before expiry a token is refreshed, unless set otherwise.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The largest refresh margin: the platform hands back the same token until fewer than
/// 30 minutes of its life remain, so refreshing earlier gains nothing.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(30 * 60);

/// A boxed future, as [`TokenCache`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A tenant access token with its expiry, as a [`TokenCache`] stores it.
///
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct CachedToken {
    token: Secret,
    /// `Bearer <token>`, built once per token rather than once per call.
    header: HeaderValue,
    expires_at: Instant,
}

impl CachedToken {
    /// A token that expires at `expires_at`. Fails if the token cannot be sent in an
    /// HTTP header.
    pub fn new(token: impl Into<String>, expires_at: Instant) -> Result<Self, Error> {
        let token = Secret::new(token);
        let header = crate::auth::bearer(&token)?;
        Ok(Self {
            token,
            header,
            expires_at,
        })
    }

    /// The token itself, for a cache that must store it elsewhere. Keep it secret.
    pub fn secret(&self) -> &str {
        self.token.expose()
    }

    /// When the token expires.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    fn is_fresh(&self, margin: Duration) -> bool {
        Instant::now() + margin < self.expires_at
    }
}

impl PartialEq for CachedToken {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token && self.expires_at == other.expires_at
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where tenant access tokens are kept between calls.
///
/// The default, [`MemoryTokenCache`], is per client. Implement this to share tokens
/// between clients or processes. Keys name the platform and the app (never the secret).
pub trait TokenCache: Send + Sync + fmt::Debug {
    /// The token stored under `key`, if any (fresh or not).
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<CachedToken>>;
    /// Stores `token` under `key`.
    fn put<'a>(&'a self, key: &'a str, token: CachedToken) -> BoxFuture<'a, ()>;
    /// Removes the token under `key` if it is still `token` (and not a newer one).
    fn remove<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, ()>;

    /// Asks for the right to fetch the token of `key` for all the processes that share
    /// this cache, for at most `ttl`. A cache shared between processes answers
    /// [`FetchLock::Acquired`] to one caller and [`FetchLock::Busy`] to the others until
    /// [`unlock_fetch`](TokenCache::unlock_fetch) or the `ttl` passes. The default, for a
    /// cache of one process, is [`FetchLock::Unsupported`]: fetch without asking.
    fn lock_fetch<'a>(&'a self, key: &'a str, ttl: Duration) -> BoxFuture<'a, FetchLock> {
        let _ = (key, ttl);
        Box::pin(async { FetchLock::Unsupported })
    }

    /// Gives back the right to fetch taken with [`lock_fetch`](TokenCache::lock_fetch).
    fn unlock_fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ()> {
        let _ = key;
        Box::pin(async {})
    }
}

/// The answer to [`TokenCache::lock_fetch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchLock {
    /// This caller fetches; the others wait for the token to appear in the cache.
    Acquired,
    /// Another process is fetching: wait for the token to appear in the cache.
    Busy,
    /// The cache has no such lock (or cannot take it now): fetch without it.
    Unsupported,
}

/// How long a fetch lock in a shared cache lives if its holder dies.
const FETCH_LOCK_TTL: Duration = Duration::from_secs(10);
/// How long a caller waits for another process's fetch before fetching itself.
const FETCH_WAIT: Duration = Duration::from_secs(5);
/// How often a waiting caller looks for the token another process fetches.
const FETCH_POLL: Duration = Duration::from_millis(25);

/// An in-memory [`TokenCache`].
#[derive(Default)]
pub struct MemoryTokenCache {
    tokens: Mutex<HashMap<String, CachedToken>>,
}

impl MemoryTokenCache {
    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        // The map stays consistent even if a holder panicked: every write is one insert or remove.
        self.tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenCache")
            .field("tokens", &self.tokens().len())
            .finish()
    }
}

impl TokenCache for MemoryTokenCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<CachedToken>> {
        let token = self.tokens().get(key).cloned();
        Box::pin(async move { token })
    }

    fn put<'a>(&'a self, key: &'a str, token: CachedToken) -> BoxFuture<'a, ()> {
        self.tokens().insert(key.to_owned(), token);
        Box::pin(async {})
    }

    fn remove<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, ()> {
        let mut tokens = self.tokens();
        if tokens.get(key) == Some(token) {
            tokens.remove(key);
        }
        Box::pin(async {})
    }
}

/// The outcome of the latest fetch, for the callers that waited on it.
struct Fetched {
    sequence: u64,
    result: Result<CachedToken, Error>,
}

/// Obtains and caches the tenant access token of one app.
pub(crate) struct TokenManager {
    app_id: String,
    app_secret: Secret,
    key: String,
    cache: Arc<dyn TokenCache>,
    refresh_margin: Duration,
    /// The token last obtained, checked before the cache: the common case costs a lock
    /// and two reference counts.
    latest: Mutex<Option<CachedToken>>,
    /// Held by the one caller that fetches; the others wait on it.
    fetch: tokio::sync::Mutex<Option<Fetched>>,
    /// How many fetches have completed.
    completed: AtomicU64,
}

impl TokenManager {
    pub(crate) fn new(
        app_id: String,
        app_secret: Secret,
        base_url: &str,
        cache: Arc<dyn TokenCache>,
        refresh_margin: Duration,
    ) -> Self {
        Self {
            key: format!("feishu-helpdesk:tenant_access_token:{base_url}:{app_id}"),
            app_id,
            app_secret,
            cache,
            refresh_margin,
            latest: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(None),
            completed: AtomicU64::new(0),
        }
    }

    pub(crate) fn app_id(&self) -> &str {
        &self.app_id
    }

    /// A token with more than the refresh margin left, from the cache or fetched, for a
    /// caller that found none with [`fresh`](Self::fresh). Concurrent callers that find none
    /// share one fetch and its outcome, success or error.
    pub(crate) async fn token(&self, client: &generated::Client) -> Result<CachedToken, Error> {
        if let Some(token) = self.cached().await {
            return Ok(token);
        }
        let seen = self.completed.load(Ordering::Acquire);
        let mut fetch = self.fetch.lock().await;
        if let Some(done) = fetch.as_ref().filter(|done| done.sequence > seen) {
            // A fetch completed while this caller waited: share its outcome.
            return done.result.clone();
        }
        if let Some(token) = self.cached().await {
            return Ok(token);
        }
        let result = self.fetch_once_across_processes(client).await;
        let sequence = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
        *fetch = Some(Fetched {
            sequence,
            result: result.clone(),
        });
        result
    }

    /// Fetches under the shared cache's fetch lock, or waits (boundedly) for the process
    /// that holds it; stores what it fetched.
    async fn fetch_once_across_processes(&self, client: &generated::Client) -> Result<CachedToken, Error> {
        let deadline = Instant::now() + FETCH_WAIT;
        loop {
            match self.cache.lock_fetch(&self.key, FETCH_LOCK_TTL).await {
                FetchLock::Busy if Instant::now() < deadline => {
                    tokio::time::sleep(FETCH_POLL).await;
                    if let Some(token) = self.cached().await {
                        return Ok(token);
                    }
                }
                FetchLock::Acquired => {
                    // Another process may have stored a token between this caller's
                    // cache miss and its taking the lock (and released the lock since).
                    let result = match self.cached().await {
                        Some(token) => Ok(token),
                        None => self.request_and_store(client).await,
                    };
                    self.cache.unlock_fetch(&self.key).await;
                    return result;
                }
                lock => {
                    if lock == FetchLock::Busy {
                        tracing::warn!(app_id = %self.app_id, "another process's token fetch is taking too long; fetching here");
                    }
                    return self.request_and_store(client).await;
                }
            }
        }
    }

    async fn request_and_store(&self, client: &generated::Client) -> Result<CachedToken, Error> {
        let result = self.request(client).await;
        if let Ok(token) = &result {
            self.remember(Some(token.clone()));
            self.cache.put(&self.key, token.clone()).await;
        }
        result
    }

    /// Drops `token` from the cache after the platform rejected it.
    pub(crate) async fn invalidate(&self, token: &CachedToken) {
        if self.latest().as_ref() == Some(token) {
            self.remember(None);
        }
        self.cache.remove(&self.key, token).await;
    }

    /// The token last obtained, if it has more than the refresh margin left.
    pub(crate) fn fresh(&self) -> Option<CachedToken> {
        self.latest().filter(|token| token.is_fresh(self.refresh_margin))
    }

    fn latest(&self) -> Option<CachedToken> {
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn remember(&self, token: Option<CachedToken>) {
        *self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = token;
    }

    /// A fresh token from the cache, remembered for [`fresh`](Self::fresh).
    async fn cached(&self) -> Option<CachedToken> {
        let token = self
            .cache
            .get(&self.key)
            .await
            .filter(|token| token.is_fresh(self.refresh_margin))?;
        self.remember(Some(token.clone()));
        Some(token)
    }

    async fn request(&self, client: &generated::Client) -> Result<CachedToken, Error> {
        let body = types::TenantAccessTokenRequest {
            app_id: self.app_id.clone(),
            app_secret: self.app_secret.expose().to_owned(),
        };
        let refused = |code, msg, http_status, log_id| Error::TokenRefused {
            app_id: self.app_id.clone(),
            code,
            msg,
            http_status,
            log_id,
        };
        // The generated call is boxed: it runs inside the request hook of another call.
        let result = Box::pin(client.get_tenant_access_token(&body)).await;
        match result {
            Ok(value) => {
                let (http_status, log_id) = (value.status().as_u16(), log_id(value.headers()));
                let answer = value.into_inner();
                match (answer.code, answer.tenant_access_token, answer.expire) {
                    (0, Some(token), Some(expire)) => {
                        let lifetime = Duration::from_secs(expire.max(0).unsigned_abs());
                        CachedToken::new(token, Instant::now() + lifetime).map_err(|_| {
                            refused(
                                0,
                                "the issued token cannot be sent in an HTTP header".into(),
                                http_status,
                                log_id,
                            )
                        })
                    }
                    (0, _, _) => Err(refused(
                        0,
                        "the answer lacks tenant_access_token or expire".into(),
                        http_status,
                        log_id,
                    )),
                    (code, _, _) => Err(refused(code, answer.msg, http_status, log_id)),
                }
            }
            Err(GeneratedError::ErrorResponse(value)) => {
                let log_id = value.headers().get(crate::hooks::LOG_ID).cloned();
                let answer = ErrorAnswer::new(value, log_id.as_ref());
                Err(refused(
                    answer.code,
                    answer.msg,
                    answer.http_status,
                    answer.log_id,
                ))
            }
            Err(other) => {
                let meta = RESPONSE_META
                    .try_with(|slot| slot.borrow().clone())
                    .unwrap_or_default();
                Err(unexpected_or_transport(other, meta).await)
            }
        }
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .field("cache", &self.cache)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokens_turn_stale_at_the_refresh_margin() {
        let margin = Duration::from_secs(300);
        let cache = MemoryTokenCache::default();
        let token = CachedToken::new("t-abc", Instant::now() + Duration::from_secs(7200)).unwrap();
        cache.put("key", token.clone()).await;

        tokio::time::advance(Duration::from_secs(7200 - 301)).await;
        assert!(cache.get("key").await.unwrap().is_fresh(margin));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!cache.get("key").await.unwrap().is_fresh(margin));
    }

    #[tokio::test]
    async fn removal_spares_a_newer_token() {
        let cache = MemoryTokenCache::default();
        let old = CachedToken::new("t-old", Instant::now()).unwrap();
        let new = CachedToken::new("t-new", Instant::now()).unwrap();
        cache.put("key", new.clone()).await;
        cache.remove("key", &old).await;
        assert_eq!(cache.get("key").await, Some(new.clone()));
        cache.remove("key", &new).await;
        assert_eq!(cache.get("key").await, None);
    }

    #[test]
    fn debug_hides_the_token() {
        let token = CachedToken::new("t-hidden-value", Instant::now()).unwrap();
        assert!(!format!("{token:?}").contains("hidden"));
        assert!(CachedToken::new("t-bad value", Instant::now()).is_err());
    }
}
