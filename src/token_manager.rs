//! Token reuse and renewal for app credentials: the token of one app, reused while fresh,
//! fetched once for all concurrent callers (and, with a shared cache, for all processes), and
//! forgotten when the platform rejects it. New tokens come through a [`TokenEndpoint`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::secret::Secret;
use crate::single_flight::SingleFlight;
use crate::token_cache::{BoxFuture, CachedToken, FetchLock, TokenCache};

/// How long before expiry a token is refreshed, unless set otherwise.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The largest refresh margin: the platform hands back the same token until fewer than
/// 30 minutes of its life remain, so refreshing earlier gains nothing.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(30 * 60);

/// How long a fetch lock in a shared cache lives if its holder dies.
const FETCH_LOCK_TTL: Duration = Duration::from_secs(10);
/// How long a caller waits for another process's fetch before fetching itself.
const FETCH_WAIT: Duration = Duration::from_secs(5);
/// How often a waiting caller looks for the token another process fetches.
const FETCH_POLL: Duration = Duration::from_millis(25);

/// Where the manager obtains a new token: the platform's token endpoint
/// (`crate::token_endpoint`), or a stand-in in unit tests.
pub(crate) trait TokenEndpoint: Send + Sync {
    /// Asks for a tenant access token for the app.
    fn fetch<'a>(
        &'a self,
        app_id: &'a str,
        app_secret: &'a Secret,
    ) -> BoxFuture<'a, Result<CachedToken, Error>>;
}

/// Obtains and caches the tenant access token of one app.
pub(crate) struct TokenManager {
    app_id: String,
    app_secret: Secret,
    endpoint: Box<dyn TokenEndpoint>,
    key: String,
    cache: Arc<dyn TokenCache>,
    refresh_margin: Duration,
    /// The token last obtained, checked before the cache: the common case costs a lock
    /// and two reference counts.
    latest: Mutex<Option<CachedToken>>,
    /// One fetch for the callers that find no token at the same time.
    fetch: SingleFlight<CachedToken>,
}

impl TokenManager {
    pub(crate) fn new(
        app_id: String,
        app_secret: Secret,
        base_url: &str,
        cache: Arc<dyn TokenCache>,
        refresh_margin: Duration,
        endpoint: Box<dyn TokenEndpoint>,
    ) -> Self {
        Self {
            endpoint,
            key: format!("feishu-helpdesk:tenant_access_token:{base_url}:{app_id}"),
            app_id,
            app_secret,
            cache,
            refresh_margin,
            latest: Mutex::new(None),
            fetch: SingleFlight::default(),
        }
    }

    pub(crate) fn app_id(&self) -> &str {
        &self.app_id
    }

    /// A token with more than the refresh margin left, from the cache or fetched, for a
    /// caller that found none with [`fresh`](Self::fresh). Concurrent callers that find none
    /// share one fetch and its outcome, success or error.
    pub(crate) async fn token(&self) -> Result<CachedToken, Error> {
        if let Some(token) = self.cached().await {
            return Ok(token);
        }
        self.fetch
            .run(|| self.cached(), || self.fetch_once_across_processes())
            .await
    }

    /// Fetches under the shared cache's fetch lock, or waits (boundedly) for the process
    /// that holds it; stores what it fetched.
    async fn fetch_once_across_processes(&self) -> Result<CachedToken, Error> {
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
                        None => self.request_and_store().await,
                    };
                    self.cache.unlock_fetch(&self.key).await;
                    return result;
                }
                lock => {
                    if lock == FetchLock::Busy {
                        tracing::warn!(app_id = %self.app_id, "another process's token fetch is taking too long; fetching here");
                    }
                    return self.request_and_store().await;
                }
            }
        }
    }

    async fn request_and_store(&self) -> Result<CachedToken, Error> {
        let result = self.endpoint.fetch(&self.app_id, &self.app_secret).await;
        if let Ok(token) = &result {
            self.remember(Some(token.clone()));
            self.cache.put(&self.key, token.clone()).await;
        }
        result
    }

    /// Drops `token` from the cache after the platform rejected it, so that the next
    /// request fetches a new one.
    pub(crate) async fn forget(&self, token: &CachedToken) {
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
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::token_cache::MemoryTokenCache;

    /// An endpoint that issues `t-1`, `t-2`, ... and counts its fetches.
    struct Counting(Arc<AtomicU64>);

    impl TokenEndpoint for Counting {
        fn fetch<'a>(&'a self, _: &'a str, _: &'a Secret) -> BoxFuture<'a, Result<CachedToken, Error>> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                tokio::task::yield_now().await;
                CachedToken::new(format!("t-{n}"), Instant::now() + Duration::from_secs(7200))
            })
        }
    }

    fn manager() -> (Arc<TokenManager>, Arc<MemoryTokenCache>, Arc<AtomicU64>) {
        let cache = Arc::new(MemoryTokenCache::default());
        let fetches = Arc::new(AtomicU64::new(0));
        let manager = TokenManager::new(
            "cli_a".into(),
            Secret::new("s"),
            "https://open.feishu.cn",
            cache.clone(),
            DEFAULT_REFRESH_MARGIN,
            Box::new(Counting(fetches.clone())),
        );
        (Arc::new(manager), cache, fetches)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let (manager, _, fetches) = manager();
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let manager = manager.clone();
            callers.spawn(async move { manager.token().await });
        }
        while let Some(token) = callers.join_next().await {
            assert_eq!(token.unwrap().unwrap().secret(), "t-1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(manager.fresh().unwrap().secret(), "t-1");
    }

    #[tokio::test]
    async fn a_forgotten_token_is_replaced() {
        let (manager, cache, fetches) = manager();
        let first = manager.token().await.unwrap();
        assert!(manager.fresh().is_some());
        manager.forget(&first).await;
        assert!(manager.fresh().is_none());
        assert_eq!(cache.get(&manager.key).await, None);
        assert_eq!(manager.token().await.unwrap().secret(), "t-2");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
