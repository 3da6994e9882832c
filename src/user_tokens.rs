//! People's user access tokens, kept alive: the token of one stored login, reused while
//! fresh, refreshed ahead of expiry once for all callers of the process (and, through the
//! store's refresh lock, once for all processes sharing the store), the rotated refresh
//! token stored before the new access token is used. A refresh that fails for good marks
//! the login as needing a new authorization; one that fails for now keeps it. New tokens
//! come through a [`Refresher`] (the accounts endpoint, `crate::login`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::login_store::{LoginKey, LoginStore, RefreshLock, UserLogin};
use crate::secret::Secret;
use crate::single_flight::SingleFlight;
use crate::token_cache::{BoxFuture, CachedToken};

/// How long the right to refresh a login is held at most, if its holder dies (Redis).
pub(crate) const REFRESH_LEASE: Duration = Duration::from_secs(15);
/// How long a caller waits for another process's refresh before giving up on it.
const REFRESH_WAIT: Duration = Duration::from_secs(20);
/// How often a waiting caller looks for the login another process refreshes.
const REFRESH_POLL: Duration = Duration::from_millis(25);

/// The accounts endpoint's codes after which a refresh token cannot be used again: the
/// person must authorize the app again. 20064 and 20073 are a lost race (the token was
/// already rotated), 20037 the 7-day (or 365-day) end, 20074 an app that may not refresh.
pub(crate) const AUTHORIZE_AGAIN: [i64; 11] = [
    20003, 20004, 20008, 20024, 20026, 20037, 20064, 20065, 20066, 20073, 20074,
];

/// Where refreshed logins come from: the accounts endpoint, or a stand-in in unit tests.
pub(crate) trait Refresher: Send + Sync {
    /// Refreshes `login` with its refresh token: the same login with new tokens and the next
    /// revision, not yet stored.
    fn refresh<'a>(&'a self, login: &'a UserLogin) -> BoxFuture<'a, Result<UserLogin, Error>>;
}

/// What every person's tokens of one client share: the store, the refresher, the margin.
pub(crate) struct UserTokens {
    app_id: String,
    store: Arc<dyn LoginStore>,
    refresher: Box<dyn Refresher>,
    refresh_margin: Duration,
    /// One entry per person acted for, so that every view of the client for them shares
    /// one token and one refresh.
    people: Mutex<HashMap<String, Arc<PersonTokens>>>,
}

impl UserTokens {
    pub(crate) fn new(
        app_id: String,
        store: Arc<dyn LoginStore>,
        refresher: Box<dyn Refresher>,
        refresh_margin: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            app_id,
            store,
            refresher,
            refresh_margin,
            people: Mutex::default(),
        })
    }

    /// The tokens of the person `open_id` (checked as a [`LoginKey`]).
    pub(crate) fn person(self: &Arc<Self>, open_id: &str) -> Result<Arc<PersonTokens>, Error> {
        let key = LoginKey::new(self.app_id.clone(), open_id)?;
        let mut people = self.people.lock().unwrap_or_else(|p| p.into_inner());
        let person = people.entry(open_id.to_owned()).or_insert_with(|| {
            Arc::new(PersonTokens {
                key,
                shared: Arc::clone(self),
                latest: Mutex::new(None),
                rejected: Mutex::new(None),
                refresh: SingleFlight::default(),
            })
        });
        Ok(Arc::clone(person))
    }
}

impl fmt::Debug for UserTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserTokens")
            .field("app_id", &self.app_id)
            .field("store", &self.store)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// One person's user access token, as a client acting for them sees it.
pub(crate) struct PersonTokens {
    key: LoginKey,
    shared: Arc<UserTokens>,
    /// The token last obtained: the common case costs a lock and two reference counts.
    latest: Mutex<Option<CachedToken>>,
    /// A token the platform rejected: not used again even if the store still holds it.
    rejected: Mutex<Option<Secret>>,
    /// One refresh for the callers that find no fresh token at the same time.
    refresh: SingleFlight<CachedToken>,
}

impl PersonTokens {
    /// The person's `open_id`.
    pub(crate) fn open_id(&self) -> &str {
        &self.key.open_id
    }

    /// The token last obtained, if it has more than the refresh margin left.
    pub(crate) fn fresh(&self) -> Option<CachedToken> {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone();
        latest.filter(|token| token.is_fresh(self.shared.refresh_margin))
    }

    /// A token with more than the margin left: from the store, or refreshed. Concurrent
    /// callers share one outcome, success or error.
    ///
    /// The work runs in a task of its own, to its end even if every caller is dropped (a
    /// call's timeout, a cancelled request): a refresh the platform carried out whose
    /// rotated refresh token were never stored would end the login, and a refresh lock
    /// taken and never given back would hold up the other processes.
    pub(crate) async fn token(self: &Arc<Self>) -> Result<CachedToken, Error> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let person = Arc::clone(self);
        match tokio::spawn(async move { person.shared_refresh().await }).await {
            Ok(result) => result,
            Err(err) => Err(Error::Internal {
                message: format!("the user token's refresh task ended: {err}"),
            }),
        }
    }

    /// [`token`](Self::token)'s work: one caller obtains, the others share its outcome.
    async fn shared_refresh(&self) -> Result<CachedToken, Error> {
        self.refresh
            .run(|| std::future::ready(self.fresh()), || self.obtain())
            .await
    }

    /// Drops `token` after the platform rejected it: the next call refreshes the login,
    /// even if the token has not expired.
    pub(crate) fn forget(&self, token: &CachedToken) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if latest.as_ref() == Some(token) {
            *latest = None;
        }
        *self.rejected.lock().unwrap_or_else(|p| p.into_inner()) = Some(Secret::new(token.secret()));
    }

    /// The login's access token as a cached token, if it is fresh and not rejected.
    fn usable(&self, login: &UserLogin) -> Option<CachedToken> {
        if login.needs_authorization {
            return None;
        }
        let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if rejected.as_ref() == Some(login.access_token()) {
            return None;
        }
        let token = cached(login)?;
        token.is_fresh(self.shared.refresh_margin).then_some(token)
    }

    fn remember(&self, token: &CachedToken) {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
    }

    /// The stored login, or why the person must log in first.
    async fn stored(&self) -> Result<UserLogin, Error> {
        match self.shared.store.load(&self.key).await? {
            None => Err(self.login_required(None, "no login is stored for them")),
            Some(login) if login.needs_authorization => {
                Err(self.login_required(None, "their login's refresh failed for good earlier"))
            }
            Some(login) => Ok(login),
        }
    }

    fn login_required(&self, code: Option<i64>, reason: &str) -> Error {
        Error::LoginRequired {
            app_id: self.key.app_id.clone(),
            open_id: self.key.open_id.clone(),
            code,
            reason: reason.to_owned(),
        }
    }

    /// A token from the store if another caller (or process) refreshed it, else refreshed
    /// here under the store's refresh lock (or the wait for another process's refresh).
    async fn obtain(&self) -> Result<CachedToken, Error> {
        let login = self.stored().await?;
        if let Some(token) = self.usable(&login) {
            self.remember(&token);
            return Ok(token);
        }
        let store = &self.shared.store;
        let deadline = Instant::now() + REFRESH_WAIT;
        loop {
            match store.lock_refresh(&self.key, REFRESH_LEASE).await? {
                RefreshLock::Acquired => {
                    let result = self.refresh_locked().await;
                    store.unlock_refresh(&self.key).await;
                    return result;
                }
                RefreshLock::Unsupported => return self.refresh_locked().await,
                RefreshLock::Busy if Instant::now() < deadline => {
                    tokio::time::sleep(REFRESH_POLL).await;
                    let login = self.stored().await?;
                    if let Some(token) = self.usable(&login) {
                        self.remember(&token);
                        return Ok(token);
                    }
                }
                RefreshLock::Busy => {
                    // A live holder that does not finish: never refresh beside it (one of
                    // the two would lose the login); use the token while it lasts.
                    let login = self.stored().await?;
                    return still_valid(&login).ok_or_else(|| {
                        Error::store(
                            format!(
                                "another process has held the refresh lock of {} for {REFRESH_WAIT:?}",
                                self.key
                            ),
                            None::<std::io::Error>,
                        )
                    });
                }
            }
        }
    }

    /// Refreshes the login, holding the right to: read again (another process may have
    /// refreshed since), refresh, store, then use.
    async fn refresh_locked(&self) -> Result<CachedToken, Error> {
        let login = self.stored().await?;
        if let Some(token) = self.usable(&login) {
            self.remember(&token);
            return Ok(token);
        }
        if !login.can_refresh() {
            return still_valid(&login).ok_or_else(|| {
                self.login_required(
                    None,
                    "their access token expired and the login has no refresh token",
                )
            });
        }
        match self.shared.refresher.refresh(&login).await {
            Ok(refreshed) => self.store_refreshed(&login, refreshed).await,
            Err(err) if err.code().is_some_and(|code| AUTHORIZE_AGAIN.contains(&code)) => {
                self.after_final_failure(&login, &err).await
            }
            Err(err) => {
                // For now: the login stays as it is. The access token may still be valid
                // (it is refreshed ahead of its expiry): use it while it lasts.
                match still_valid(&login) {
                    Some(token) => {
                        tracing::warn!(person = %self.key, error = %err, "refreshing the user access token failed; using it until it expires");
                        self.remember(&token);
                        Ok(token)
                    }
                    None => Err(err),
                }
            }
        }
    }

    /// Stores the refreshed login over the one refreshed, then hands out its token.
    async fn store_refreshed(&self, read: &UserLogin, refreshed: UserLogin) -> Result<CachedToken, Error> {
        let store = &self.shared.store;
        let mut expected = read.revision;
        let mut refreshed = refreshed;
        loop {
            if store
                .compare_and_swap(&self.key, Some(expected), Some(&refreshed))
                .await?
            {
                break;
            }
            // Another writer changed the login while this one refreshed (a lease that ran
            // out): the refresh succeeded, so the stored refresh token is the dead one.
            // Keep the new tokens, unless the person logged out meanwhile.
            match store.load(&self.key).await? {
                None => return Err(self.login_required(None, "they logged out")),
                Some(current) => {
                    expected = current.revision;
                    refreshed.revision = current.revision + 1;
                }
            }
        }
        let token = cached(&refreshed).ok_or_else(|| Error::Internal {
            message: "a refreshed user access token cannot be sent in an HTTP header".into(),
        })?;
        self.remember(&token);
        Ok(token)
    }

    /// After a refusal that ends the login: another process may have rotated the refresh
    /// token first (a lost race, 20064/20073); otherwise the login is marked as needing a
    /// new authorization, and the person named in the error.
    async fn after_final_failure(&self, read: &UserLogin, err: &Error) -> Result<CachedToken, Error> {
        let store = &self.shared.store;
        if let Some(current) = store.load(&self.key).await? {
            if current.revision != read.revision {
                if let Some(token) = self.usable(&current) {
                    self.remember(&token);
                    return Ok(token);
                }
            }
            if current.revision == read.revision {
                let marked = read.marked_for_authorization();
                // Lost to another writer: the next call reads what it wrote.
                let _ = store
                    .compare_and_swap(&self.key, Some(read.revision), Some(&marked))
                    .await?;
            }
        }
        tracing::warn!(person = %self.key, code = err.code(), "the login's refresh token was refused for good; the person must log in again");
        Err(self.login_required(err.code(), &format!("the refresh token was refused ({err})")))
    }
}

impl fmt::Debug for PersonTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonTokens")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The login's access token as a cached token, if it can be sent in a header.
fn cached(login: &UserLogin) -> Option<CachedToken> {
    let expires_at = Instant::now() + login.access_token_time_left();
    CachedToken::new(login.access_token().expose(), expires_at).ok()
}

/// The login's access token while it has not expired, margin or not.
fn still_valid(login: &UserLogin) -> Option<CachedToken> {
    (!login.needs_authorization && !login.access_token_time_left().is_zero())
        .then(|| cached(login))
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::login_store::MemoryLoginStore;

    /// A refresher that issues `u-1`, `u-2`, ... (with refresh tokens `r-1`, ...), counts its
    /// calls, and fails with `fail` when set.
    struct Counting {
        calls: Arc<AtomicU64>,
        fail: Mutex<Option<Error>>,
        /// How long a refresh takes.
        delay: Duration,
    }

    impl Refresher for Counting {
        fn refresh<'a>(&'a self, login: &'a UserLogin) -> BoxFuture<'a, Result<UserLogin, Error>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let fail = self.fail.lock().unwrap().clone();
            let delay = self.delay;
            Box::pin(async move {
                tokio::task::yield_now().await;
                tokio::time::sleep(delay).await;
                if let Some(err) = fail {
                    return Err(err);
                }
                Ok(login.refreshed(
                    Secret::new(format!("u-{n}")),
                    Duration::from_secs(7200),
                    Some(Secret::new(format!("r-{n}"))),
                    Some(Duration::from_secs(604800)),
                    None,
                ))
            })
        }
    }

    fn refused(code: i64, http_status: u16) -> Error {
        Error::LoginRefused {
            code: Some(code),
            error: "invalid_grant".into(),
            description: "refused".into(),
            http_status: Some(http_status),
            log_id: None,
            attempts: crate::error::Attempts::ONE,
        }
    }

    struct Fixture {
        tokens: Arc<UserTokens>,
        store: Arc<MemoryLoginStore>,
        calls: Arc<AtomicU64>,
        key: LoginKey,
    }

    /// A stored login whose access token has `left` of its life, and a refresher.
    async fn fixture(left: Duration, fail: Option<Error>) -> Fixture {
        fixture_with_delay(left, fail, Duration::ZERO).await
    }

    async fn fixture_with_delay(left: Duration, fail: Option<Error>, delay: Duration) -> Fixture {
        let store = Arc::new(MemoryLoginStore::default());
        let key = LoginKey::new("cli_a", "ou_alice").unwrap();
        let login = UserLogin::granted(
            &key,
            "Alice".into(),
            "helpdesk:all offline_access".into(),
            Secret::new("u-0"),
            left,
            Some(Secret::new("r-0")),
            Some(Duration::from_secs(604800)),
        );
        assert!(store.compare_and_swap(&key, None, Some(&login)).await.unwrap());
        let calls = Arc::new(AtomicU64::new(0));
        let refresher = Counting {
            calls: calls.clone(),
            fail: Mutex::new(fail),
            delay,
        };
        let tokens = UserTokens::new(
            "cli_a".into(),
            store.clone(),
            Box::new(refresher),
            Duration::from_secs(300),
        );
        Fixture {
            tokens,
            store,
            calls,
            key,
        }
    }

    #[tokio::test]
    async fn a_fresh_stored_token_is_used_without_a_refresh() {
        let f = fixture(Duration::from_secs(7200), None).await;
        let person = f.tokens.person("ou_alice").unwrap();
        assert!(person.fresh().is_none(), "nothing read yet");
        assert_eq!(person.token().await.unwrap().secret(), "u-0");
        assert_eq!(person.fresh().unwrap().secret(), "u-0");
        assert_eq!(f.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_refresh_stored_before_use() {
        let f = fixture(Duration::from_secs(10), None).await;
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..50 {
            // Views made separately share the person's tokens.
            let person = f.tokens.person("ou_alice").unwrap();
            callers.spawn(async move { person.token().await });
        }
        while let Some(token) = callers.join_next().await {
            assert_eq!(token.unwrap().unwrap().secret(), "u-1");
        }
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        assert_eq!(stored.revision, 2);
        assert_eq!(stored.refresh_token().unwrap().expose(), "r-1");
    }

    #[tokio::test]
    async fn a_transient_failure_keeps_the_login_and_uses_the_token_while_it_lasts() {
        let f = fixture(Duration::from_secs(10), Some(refused(20050, 500))).await;
        let person = f.tokens.person("ou_alice").unwrap();
        assert_eq!(person.token().await.unwrap().secret(), "u-0");
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        assert_eq!((stored.revision, stored.needs_authorization), (1, false));
        assert_eq!(stored.refresh_token().unwrap().expose(), "r-0");
    }

    #[tokio::test]
    async fn a_transient_failure_after_expiry_is_the_error_and_keeps_the_login() {
        let f = fixture(Duration::ZERO, Some(refused(20072, 503))).await;
        let person = f.tokens.person("ou_alice").unwrap();
        let err = person.token().await.unwrap_err();
        assert_eq!(err.code(), Some(20072));
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        assert_eq!((stored.revision, stored.needs_authorization), (1, false));
    }

    #[tokio::test]
    async fn a_final_failure_marks_the_login_and_names_the_person() {
        let f = fixture(Duration::from_secs(10), Some(refused(20064, 400))).await;
        let person = f.tokens.person("ou_alice").unwrap();
        let err = person.token().await.unwrap_err();
        let Error::LoginRequired { open_id, code, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((open_id.as_str(), *code), ("ou_alice", Some(20064)));
        assert!(!format!("{err} {err:?}").contains("r-0"));
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        assert!(stored.needs_authorization);
        // Later calls do not refresh again: the login needs a new authorization.
        let again = f.tokens.person("ou_alice").unwrap();
        assert!(matches!(again.token().await, Err(Error::LoginRequired { .. })));
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_lost_race_takes_the_winners_login() {
        let f = fixture(Duration::from_secs(10), Some(refused(20064, 400))).await;
        let person = f.tokens.person("ou_alice").unwrap();
        // Another process refreshed first: the store holds its rotated login. This
        // process's refresh is refused (the token it read is dead) after it read the store.
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        let winner = stored.refreshed(
            Secret::new("u-winner"),
            Duration::from_secs(7200),
            Some(Secret::new("r-winner")),
            None,
            None,
        );
        let err = refused(20064, 400);
        let taken = person.after_final_failure(&stored, &err);
        assert!(f
            .store
            .compare_and_swap(&f.key, Some(1), Some(&winner))
            .await
            .unwrap());
        assert_eq!(taken.await.unwrap().secret(), "u-winner");
        assert!(!f.store.load(&f.key).await.unwrap().unwrap().needs_authorization);
    }

    #[tokio::test]
    async fn a_rejected_token_is_refreshed_even_before_its_expiry() {
        let f = fixture(Duration::from_secs(7200), None).await;
        let person = f.tokens.person("ou_alice").unwrap();
        let first = person.token().await.unwrap();
        person.forget(&first);
        assert!(person.fresh().is_none());
        assert_eq!(person.token().await.unwrap().secret(), "u-1");
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refresh_whose_caller_is_dropped_is_stored_all_the_same() {
        let f = fixture_with_delay(Duration::from_secs(10), None, Duration::from_millis(50)).await;
        let person = f.tokens.person("ou_alice").unwrap();
        // The caller gives up before the refresher has answered.
        let gave_up = tokio::time::timeout(Duration::from_millis(5), person.token()).await;
        assert!(gave_up.is_err());
        assert_eq!(f.store.load(&f.key).await.unwrap().unwrap().revision, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stored = f.store.load(&f.key).await.unwrap().unwrap();
        assert_eq!(stored.refresh_token().unwrap().expose(), "r-1");
        assert_eq!(person.token().await.unwrap().secret(), "u-1");
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn no_stored_login_is_login_required() {
        let f = fixture(Duration::from_secs(7200), None).await;
        let person = f.tokens.person("ou_bob").unwrap();
        assert!(matches!(
            person.token().await,
            Err(Error::LoginRequired { ref open_id, code: None, .. }) if open_id == "ou_bob"
        ));
        assert!(f.tokens.person("../ou").is_err());
    }
}
