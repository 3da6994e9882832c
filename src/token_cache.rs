//! The public token-cache API: where tenant access tokens are kept between calls
//! ([`TokenCache`]), what is kept ([`CachedToken`]), and the in-memory default.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderValue;
use tokio::time::Instant;

use crate::error::Error;
use crate::secret::Secret;

/// A boxed future, as [`TokenCache`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A tenant access token with its expiry, as a [`TokenCache`] stores it.
///
/// `Debug` never shows the token.
///
/// Cloning it counts a reference: every call carries the one token the client holds.
#[derive(Clone)]
pub struct CachedToken(Arc<Token>);

/// What a [`CachedToken`] shares between its clones.
struct Token {
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
        let header = crate::credentials::bearer(&token)?;
        Ok(Self(Arc::new(Token {
            token,
            header,
            expires_at,
        })))
    }

    /// The token itself, for a cache that must store it elsewhere. Keep it secret.
    pub fn secret(&self) -> &str {
        self.0.token.expose()
    }

    /// When the token expires.
    pub fn expires_at(&self) -> Instant {
        self.0.expires_at
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.0.header
    }

    /// How much of the token's life remains (zero once it has expired).
    pub(crate) fn time_left(&self) -> Duration {
        self.0.expires_at.saturating_duration_since(Instant::now())
    }

    /// Whether more than `margin` of the token's life remains.
    pub(crate) fn is_fresh(&self, margin: Duration) -> bool {
        Instant::now() + margin < self.0.expires_at
    }
}

impl PartialEq for CachedToken {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.token == other.0.token && self.0.expires_at == other.0.expires_at)
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("token", &self.0.token)
            .field("expires_at", &self.0.expires_at)
            .finish()
    }
}

/// Where tenant access tokens are kept between calls.
///
/// The default, [`MemoryTokenCache`], is per client. Implement this to share tokens
/// between clients or processes. Keys name the platform and the app (never the secret).
/// Three methods are required, `get`, `put` and `remove`; pass the cache with
/// [`ClientBuilder::token_cache`](crate::ClientBuilder::token_cache):
///
/// ```
/// use std::sync::Arc;
/// use feishu_helpdesk::{BoxFuture, CachedToken, TokenCache};
///
/// #[derive(Debug, Default)]
/// struct Shared(feishu_helpdesk::MemoryTokenCache);
///
/// impl TokenCache for Shared {
///     fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<CachedToken>> {
///         self.0.get(key)
///     }
///     fn put<'a>(&'a self, key: &'a str, token: CachedToken) -> BoxFuture<'a, ()> {
///         self.0.put(key, token)
///     }
///     fn remove<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> BoxFuture<'a, ()> {
///         self.0.remove(key, token)
///     }
/// }
///
/// let cache: Arc<dyn TokenCache> = Arc::new(Shared::default());
/// let client = feishu_helpdesk::Client::builder()
///     .app_credentials("cli_slkdjalasdkjasd", "app-secret")
///     .helpdesk_credentials("7180000000000000001", "ht-example")
///     .token_cache(cache)
///     .build();
/// assert!(client.is_ok());
/// ```
///
/// A cache shared between processes can also take the right to fetch the token for all of
/// them ([`lock_fetch`](TokenCache::lock_fetch)), so that they fetch it once between them.
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
