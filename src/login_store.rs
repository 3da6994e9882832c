//! Where people's logins are kept: what a login is ([`UserLogin`]), the store's API
//! ([`LoginStore`], compare-and-swap by revision, a refresh lock shared by the processes
//! that share the store) and the in-memory store.
//!
//! A login is keyed by the app and the person ([`LoginKey`]: app id and `open_id`), never
//! by a secret. Its tokens are [`Secret`]s: no `Debug`, `Display` or error shows them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::secret::Secret;
use crate::token_cache::BoxFuture;

/// The key of one login: the app it was granted to and the person who granted it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoginKey {
    /// The app id (`cli_...`).
    pub app_id: String,
    /// The person's `open_id` in that app (`ou_...`).
    pub open_id: String,
}

impl LoginKey {
    /// The key of `open_id`'s login to `app_id`. Fails with [`Error::InvalidInput`] when
    /// either is empty or holds anything but ASCII letters, digits, `_` and `-` (they name
    /// files and Redis keys).
    pub fn new(app_id: impl Into<String>, open_id: impl Into<String>) -> Result<Self, Error> {
        let key = Self {
            app_id: app_id.into(),
            open_id: open_id.into(),
        };
        check_name("app_id", &key.app_id)?;
        check_name("open_id", &key.open_id)?;
        Ok(key)
    }
}

impl fmt::Display for LoginKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.app_id, self.open_id)
    }
}

/// An id that may name a file or a key: 1 to 128 ASCII letters, digits, `_` or `-`.
pub(crate) fn check_name(field: &'static str, value: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if value.is_empty() || value.len() > 128 || !value.chars().all(allowed) {
        return Err(Error::invalid_input(
            field,
            "must be 1 to 128 ASCII letters, digits, '_' or '-'",
        ));
    }
    Ok(())
}

/// Refuses to store `login` under another person's (or app's) key: a shared store's file
/// name or Redis key would then hold a login that is not its own.
pub(crate) fn check_stored_under(key: &LoginKey, login: Option<&UserLogin>) -> Result<(), Error> {
    if login.is_some_and(|login| login.app_id != key.app_id || login.open_id != key.open_id) {
        return Err(Error::invalid_input(
            "login",
            "is not the login of the key it is stored under",
        ));
    }
    Ok(())
}

/// One person's login to an app, as a [`LoginStore`] keeps it: who they are, their user
/// access token and refresh token with their expiries, the scopes granted, and whether the
/// login needs a new authorization.
///
/// Every change is a new `revision`, which [`LoginStore::compare_and_swap`] compares, so
/// that two refreshers never overwrite each other's rotated refresh token. `Debug` never
/// shows a token; the serialized form (what a store writes) does, and is for the store only.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserLogin {
    /// The app id.
    pub app_id: String,
    /// The person's `open_id`.
    pub open_id: String,
    /// The person's name, as the platform gave it at login.
    #[serde(default)]
    pub name: String,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: String,
    #[serde(with = "secret_text")]
    access_token: Secret,
    /// When the access token expires, in Unix milliseconds.
    pub access_token_expires_at_ms: u64,
    #[serde(with = "optional_secret_text", default)]
    refresh_token: Option<Secret>,
    /// When the refresh token expires, in Unix milliseconds.
    #[serde(default)]
    pub refresh_token_expires_at_ms: Option<u64>,
    /// When the person authorized the app (the refresh token's 365-day cap counts from it),
    /// in Unix milliseconds.
    pub granted_at_ms: u64,
    /// Set when a refresh failed for good (the refresh token was revoked, used, expired...):
    /// the person must log in again. The tokens are kept for nothing but the record.
    #[serde(default)]
    pub needs_authorization: bool,
    /// Incremented by every change.
    pub revision: u64,
}

impl UserLogin {
    /// A login just granted: revision 1, `granted_at` now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn granted(
        key: &LoginKey,
        name: String,
        scope: String,
        access_token: Secret,
        access_token_expires_in: Duration,
        refresh_token: Option<Secret>,
        refresh_token_expires_in: Option<Duration>,
    ) -> Self {
        let now = unix_millis(SystemTime::now());
        Self {
            app_id: key.app_id.clone(),
            open_id: key.open_id.clone(),
            name,
            scope,
            access_token,
            access_token_expires_at_ms: now.saturating_add(access_token_expires_in.as_millis() as u64),
            refresh_token,
            refresh_token_expires_at_ms: refresh_token_expires_in
                .map(|life| now.saturating_add(life.as_millis() as u64)),
            granted_at_ms: now,
            needs_authorization: false,
            revision: 1,
        }
    }

    /// The key this login is stored under.
    pub fn key(&self) -> LoginKey {
        LoginKey {
            app_id: self.app_id.clone(),
            open_id: self.open_id.clone(),
        }
    }

    /// When the access token expires.
    pub fn access_token_expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.access_token_expires_at_ms)
    }

    /// When the refresh token expires, if the login has one.
    pub fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        self.refresh_token_expires_at_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// Whether the login has a refresh token (and so can outlive its access token).
    pub fn can_refresh(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// How long the access token has left (zero once expired).
    pub fn access_token_time_left(&self) -> Duration {
        let now = unix_millis(SystemTime::now());
        Duration::from_millis(self.access_token_expires_at_ms.saturating_sub(now))
    }

    pub(crate) fn access_token(&self) -> &Secret {
        &self.access_token
    }

    pub(crate) fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// This login after a refresh: the new tokens, the next revision.
    pub(crate) fn refreshed(
        &self,
        access_token: Secret,
        access_token_expires_in: Duration,
        refresh_token: Option<Secret>,
        refresh_token_expires_in: Option<Duration>,
        scope: Option<String>,
    ) -> Self {
        let now = unix_millis(SystemTime::now());
        Self {
            access_token,
            access_token_expires_at_ms: now.saturating_add(access_token_expires_in.as_millis() as u64),
            refresh_token,
            refresh_token_expires_at_ms: refresh_token_expires_in
                .map(|life| now.saturating_add(life.as_millis() as u64)),
            scope: scope.unwrap_or_else(|| self.scope.clone()),
            needs_authorization: false,
            revision: self.revision + 1,
            ..self.clone()
        }
    }

    /// This login marked as needing a new authorization, the next revision.
    pub(crate) fn marked_for_authorization(&self) -> Self {
        Self {
            needs_authorization: true,
            revision: self.revision + 1,
            ..self.clone()
        }
    }
}

impl fmt::Debug for UserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserLogin")
            .field("app_id", &self.app_id)
            .field("open_id", &self.open_id)
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("access_token", &self.access_token)
            .field("access_token_expires_at_ms", &self.access_token_expires_at_ms)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_token_expires_at_ms", &self.refresh_token_expires_at_ms)
            .field("granted_at_ms", &self.granted_at_ms)
            .field("needs_authorization", &self.needs_authorization)
            .field("revision", &self.revision)
            .finish()
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

mod secret_text {
    use crate::secret::Secret;

    pub(super) fn serialize<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        Ok(Secret::new(text))
    }
}

mod optional_secret_text {
    use crate::secret::Secret;

    pub(super) fn serialize<S: serde::Serializer>(secret: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => s.serialize_some(secret.expose()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        let text: Option<String> = serde::Deserialize::deserialize(d)?;
        Ok(text.map(Secret::new))
    }
}

/// The answer to [`LoginStore::lock_refresh`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshLock {
    /// This caller refreshes; the others wait for the refreshed login to appear in the store.
    Acquired,
    /// Another process (or client) is refreshing this login: wait for its result.
    Busy,
    /// The store has no such lock (it is not shared between processes): refresh without it.
    Unsupported,
}

/// Where people's logins are kept, shared by every client (and every process) that acts
/// for them.
///
/// A refresh token is single use: each refresh returns a new one and the old one dies at
/// once. So two refreshers of one login must never both refresh, and a refresher must never
/// overwrite a newer login with an older one. The store gives both:
/// [`compare_and_swap`](LoginStore::compare_and_swap) writes only over the revision the
/// writer read, and [`lock_refresh`](LoginStore::lock_refresh) gives the right to refresh a
/// login to one caller at a time, for at most a lease (so that a refresher that died does
/// not hold it forever).
///
/// The library's stores: [`MemoryLoginStore`] (one process),
/// [`FileLoginStore`](crate::FileLoginStore) (the processes of one machine) and, with
/// feature `redis`, `RedisLoginStore` (replicas on many machines).
pub trait LoginStore: Send + Sync + fmt::Debug {
    /// The login stored under `key`, if any.
    fn load<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, Result<Option<UserLogin>, Error>>;

    /// Replaces the login under `key` with `login` (`None` removes it) if the stored login's
    /// revision is `expected` (`None`: if nothing is stored). Answers whether it did; `false`
    /// means another writer changed the login since it was read.
    fn compare_and_swap<'a>(
        &'a self,
        key: &'a LoginKey,
        expected: Option<u64>,
        login: Option<&'a UserLogin>,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// Every login stored for `app_id`, in no particular order.
    fn list<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Vec<UserLogin>, Error>>;

    /// Asks for the right to refresh the login under `key`, for at most `lease`. A store
    /// shared between processes answers [`RefreshLock::Acquired`] to one caller and
    /// [`RefreshLock::Busy`] to the others until [`unlock_refresh`](LoginStore::unlock_refresh)
    /// or the lease ends. The default, for a store of one process, is
    /// [`RefreshLock::Unsupported`] (the client refreshes once per process by itself).
    fn lock_refresh<'a>(
        &'a self,
        key: &'a LoginKey,
        lease: Duration,
    ) -> BoxFuture<'a, Result<RefreshLock, Error>> {
        let _ = (key, lease);
        Box::pin(async { Ok(RefreshLock::Unsupported) })
    }

    /// Gives back the right to refresh taken with [`lock_refresh`](LoginStore::lock_refresh).
    fn unlock_refresh<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, ()> {
        let _ = key;
        Box::pin(async {})
    }
}

/// Logins in this process's memory: for a service that logs people in itself and keeps no
/// login across restarts, and for tests.
#[derive(Default)]
pub struct MemoryLoginStore {
    logins: Mutex<HashMap<LoginKey, UserLogin>>,
}

impl MemoryLoginStore {
    fn logins(&self) -> std::sync::MutexGuard<'_, HashMap<LoginKey, UserLogin>> {
        // Every write is one insert or remove: a poisoned map is still consistent.
        self.logins
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryLoginStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLoginStore")
            .field("logins", &self.logins().len())
            .finish()
    }
}

impl LoginStore for MemoryLoginStore {
    fn load<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, Result<Option<UserLogin>, Error>> {
        let login = self.logins().get(key).cloned();
        Box::pin(async move { Ok(login) })
    }

    fn compare_and_swap<'a>(
        &'a self,
        key: &'a LoginKey,
        expected: Option<u64>,
        login: Option<&'a UserLogin>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let mut logins = self.logins();
        let swapped = if logins.get(key).map(|stored| stored.revision) == expected {
            match login {
                Some(login) => logins.insert(key.clone(), login.clone()),
                None => logins.remove(key),
            };
            true
        } else {
            false
        };
        Box::pin(async move { Ok(swapped) })
    }

    fn list<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Vec<UserLogin>, Error>> {
        let logins = self
            .logins()
            .values()
            .filter(|login| login.app_id == app_id)
            .cloned()
            .collect();
        Box::pin(async move { Ok(logins) })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A login just granted to Alice, with both tokens (`u-secret-access`,
    /// `ur-secret-refresh`): the stores' tests share it.
    pub(crate) fn login(key: &LoginKey) -> UserLogin {
        UserLogin::granted(
            key,
            "Alice".into(),
            "helpdesk:all offline_access".into(),
            Secret::new("u-secret-access"),
            Duration::from_secs(7200),
            Some(Secret::new("ur-secret-refresh")),
            Some(Duration::from_secs(604800)),
        )
    }

    #[tokio::test]
    async fn compare_and_swap_writes_only_over_the_revision_read() {
        let store = MemoryLoginStore::default();
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let first = login(&key);
        assert!(store.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        // A second writer that also read "nothing" loses.
        assert!(!store.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        let refreshed = first.refreshed(Secret::new("u-2"), Duration::from_secs(7200), None, None, None);
        assert_eq!(refreshed.revision, 2);
        assert!(store
            .compare_and_swap(&key, Some(1), Some(&refreshed))
            .await
            .unwrap());
        // A writer that read revision 1 cannot overwrite revision 2.
        assert!(!store.compare_and_swap(&key, Some(1), Some(&first)).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap(), Some(refreshed));
        assert_eq!(store.list("cli_a").await.unwrap().len(), 1);
        assert!(store.list("cli_b").await.unwrap().is_empty());
        assert!(store.compare_and_swap(&key, Some(2), None).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap(), None);
    }

    #[test]
    fn debug_hides_the_tokens_and_serde_keeps_them() {
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let login = login(&key);
        let shown = format!("{login:?} {login:#?}");
        assert!(
            !shown.contains("secret-access") && !shown.contains("secret-refresh"),
            "{shown}"
        );
        let json = serde_json::to_string(&login).unwrap();
        let back: UserLogin = serde_json::from_str(&json).unwrap();
        assert_eq!(back, login);
        assert_eq!(back.access_token().expose(), "u-secret-access");
    }

    #[test]
    fn keys_refuse_names_that_could_leave_a_folder() {
        for bad in ["", "../x", "ou/1", "ou 1", "ou\n", &"a".repeat(129)] {
            assert!(LoginKey::new("cli_a", bad).is_err(), "{bad:?}");
        }
        assert!(LoginKey::new("cli_a", "ou_7dab8a3d3cdcc9da365777c7ad535d62").is_ok());
    }
}
