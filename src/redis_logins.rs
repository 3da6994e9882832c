//! A [`LoginStore`] on Redis, shared by the replicas of a service on any number of machines.

use std::future::Future;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::error::Error;
use crate::login_store::{check_name, check_stored_under, LoginKey, LoginStore, RefreshLock, UserLogin};
use crate::redis_connection::RedisConnection;
use crate::token_cache::BoxFuture;

/// How long one Redis command may take before the store reports a failure.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a login outlives its refresh token in Redis: kept a day for the record, then
/// removed by Redis itself.
const KEPT_AFTER_REFRESH_TOKEN_EXPIRY_MS: u64 = 24 * 60 * 60 * 1000;

/// The compare-and-swap, in one script so that no writer comes between the read and the
/// write. KEYS: the login, the app's set of open_ids. ARGV: the expected revision ("" for
/// none stored), the new login's JSON ("" to remove it), the open_id, the Unix milliseconds
/// at which Redis removes the login ("" for never).
const COMPARE_AND_SWAP: &str = r#"
local stored = redis.call("GET", KEYS[1])
if stored then
  if ARGV[1] == "" or cjson.decode(stored)["revision"] ~= tonumber(ARGV[1]) then return 0 end
elseif ARGV[1] ~= "" then
  return 0
end
if ARGV[2] == "" then
  redis.call("DEL", KEYS[1])
  redis.call("SREM", KEYS[2], ARGV[3])
else
  redis.call("SET", KEYS[1], ARGV[2])
  if ARGV[4] ~= "" then redis.call("PEXPIREAT", KEYS[1], ARGV[4]) end
  redis.call("SADD", KEYS[2], ARGV[3])
end
return 1
"#;

/// Deletes the refresh lock only for its owner.
const UNLOCK: &str =
    r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#;

/// Logins in Redis, for the replicas of a service: every replica sees a refreshed login at
/// once, and one refreshes a login at a time.
///
/// - A login is the JSON of [`UserLogin`] under `feishu-helpdesk:user_login:<app_id>:<open_id>`
///   (it holds the tokens: protect the server as you would the tokens); the set
///   `feishu-helpdesk:user_logins:<app_id>` holds the app's `open_id`s, for
///   [`list`](LoginStore::list). A login with a refresh token expiry is removed by Redis a
///   day after it; others stay until removed.
/// - [`compare_and_swap`](LoginStore::compare_and_swap) is one Lua script: the revision is
///   compared and the login written in one step.
/// - [`lock_refresh`](LoginStore::lock_refresh) is `SET <login key>:refresh-lock <owner> NX
///   PX <lease>`, released by its owner only; the lock of a refresher that died ends with
///   its lease.
/// - Every Redis failure, a timeout included, is an [`Error::Store`]: there is no fallback
///   to memory, where a rotated refresh token would be lost to the other replicas.
///
/// The script touches two keys: use one Redis server (with replicas if you like), not a
/// Redis Cluster.
///
/// ```no_run
/// # fn run() -> Result<(), feishu_helpdesk::Error> {
/// use std::time::Duration;
/// use feishu_helpdesk::RedisLoginStore;
///
/// let store = RedisLoginStore::new("redis://127.0.0.1:6379/")?
///     .operation_timeout(Duration::from_secs(1));
/// # Ok(())
/// # }
/// ```
pub struct RedisLoginStore {
    redis: RedisConnection,
    /// Identifies this store's refresh locks, so that only their owner releases them.
    owner: String,
}

impl std::fmt::Debug for RedisLoginStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: not shown.
        f.debug_struct("RedisLoginStore")
            .field("operation_timeout", &self.redis.operation_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisLoginStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`). No
    /// connection is made until the first use.
    pub fn new(url: &str) -> Result<Self, Error> {
        Ok(Self {
            redis: RedisConnection::new(url, DEFAULT_OPERATION_TIMEOUT)?,
            owner: format!("{}-{:016x}", std::process::id(), fastrand::u64(..)),
        })
    }

    /// How long one Redis command may take before it fails with [`Error::Store`]
    /// (500 ms unless set).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.redis.operation_timeout = timeout;
        self
    }

    /// Runs one Redis operation with the timeout; a failure is an [`Error::Store`] that says
    /// what failed and why (never the URL).
    async fn run<T, F, Fut>(&self, what: &'static str, operation: F) -> Result<T, Error>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.redis
            .run(operation)
            .await
            .map_err(|reason| Error::store(format!("Redis {what} failed: {reason}"), None::<std::io::Error>))
    }
}

/// The Redis key of `key`'s login, its fields checked again (they are public).
fn login_key(key: &LoginKey) -> Result<String, Error> {
    check_name("app_id", &key.app_id)?;
    check_name("open_id", &key.open_id)?;
    Ok(format!(
        "feishu-helpdesk:user_login:{}:{}",
        key.app_id, key.open_id
    ))
}

fn set_key(app_id: &str) -> String {
    format!("feishu-helpdesk:user_logins:{app_id}")
}

/// The login in `json`, stored under `redis_key`, checked to be `key`'s.
fn parse(redis_key: &str, json: &str, key: &LoginKey) -> Result<UserLogin, Error> {
    // serde's message can quote the content (a token): only where it failed is kept.
    let login: UserLogin = serde_json::from_str(json).map_err(|err| {
        Error::store(
            format!(
                "the login under {redis_key} is not a valid login (line {}, column {})",
                err.line(),
                err.column()
            ),
            None::<std::io::Error>,
        )
    })?;
    if login.app_id != key.app_id || login.open_id != key.open_id {
        return Err(Error::store(
            format!("the login under {redis_key} is another person's login"),
            None::<std::io::Error>,
        ));
    }
    Ok(login)
}

impl LoginStore for RedisLoginStore {
    fn load<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, Result<Option<UserLogin>, Error>> {
        Box::pin(async move {
            let redis_key = login_key(key)?;
            let command_key = redis_key.clone();
            let stored: Option<String> = self
                .run("GET of a login", |mut connection| async move {
                    redis::cmd("GET")
                        .arg(command_key)
                        .query_async(&mut connection)
                        .await
                })
                .await?;
            stored.map(|json| parse(&redis_key, &json, key)).transpose()
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        key: &'a LoginKey,
        expected: Option<u64>,
        login: Option<&'a UserLogin>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis_key = login_key(key)?;
            check_stored_under(key, login)?;
            let json = match login {
                Some(login) => serde_json::to_string(login)
                    .map_err(|_| Error::store("could not serialize the login", None::<std::io::Error>))?,
                None => String::new(),
            };
            let expires_at = login
                .and_then(|login| login.refresh_token_expires_at_ms)
                .map(|ms| ms.saturating_add(KEPT_AFTER_REFRESH_TOKEN_EXPIRY_MS).to_string())
                .unwrap_or_default();
            let expected = expected.map(|revision| revision.to_string()).unwrap_or_default();
            let (set, open_id) = (set_key(&key.app_id), key.open_id.clone());
            let swapped: i64 = self
                .run("compare-and-swap of a login", |mut connection| async move {
                    redis::Script::new(COMPARE_AND_SWAP)
                        .key(redis_key)
                        .key(set)
                        .arg(expected)
                        .arg(json)
                        .arg(open_id)
                        .arg(expires_at)
                        .invoke_async(&mut connection)
                        .await
                })
                .await?;
            Ok(swapped == 1)
        })
    }

    fn list<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Vec<UserLogin>, Error>> {
        Box::pin(async move {
            check_name("app_id", app_id)?;
            let set = set_key(app_id);
            let app = app_id.to_owned();
            let stored: Vec<(String, Option<String>)> = self
                .run("listing of the logins", |mut connection| async move {
                    let open_ids: Vec<String> = redis::cmd("SMEMBERS")
                        .arg(set)
                        .query_async(&mut connection)
                        .await?;
                    if open_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let keys: Vec<String> = open_ids
                        .iter()
                        .map(|open_id| format!("feishu-helpdesk:user_login:{app}:{open_id}"))
                        .collect();
                    let values: Vec<Option<String>> =
                        redis::cmd("MGET").arg(keys).query_async(&mut connection).await?;
                    Ok(open_ids.into_iter().zip(values).collect())
                })
                .await?;
            let mut logins = Vec::new();
            // A login that Redis removed at its expiry (or another process removed since the
            // set was read) is skipped.
            for (open_id, json) in stored {
                let (Some(json), Ok(key)) = (json, LoginKey::new(app_id, open_id)) else {
                    continue;
                };
                logins.push(parse(&login_key(&key)?, &json, &key)?);
            }
            Ok(logins)
        })
    }

    fn lock_refresh<'a>(
        &'a self,
        key: &'a LoginKey,
        lease: Duration,
    ) -> BoxFuture<'a, Result<RefreshLock, Error>> {
        Box::pin(async move {
            let lock = format!("{}:refresh-lock", login_key(key)?);
            let owner = self.owner.clone();
            let lease_ms = lease.as_millis().clamp(1, u64::MAX as u128) as u64;
            let taken: Option<String> = self
                .run("refresh lock", |mut connection| async move {
                    redis::cmd("SET")
                        .arg(lock)
                        .arg(owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(lease_ms)
                        .query_async(&mut connection)
                        .await
                })
                .await?;
            Ok(if taken.is_some() {
                RefreshLock::Acquired
            } else {
                RefreshLock::Busy
            })
        })
    }

    fn unlock_refresh<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(login) = login_key(key) else { return };
            let lock = format!("{login}:refresh-lock");
            let owner = self.owner.clone();
            let released: Result<i64, Error> = self
                .run("refresh unlock", |mut connection| async move {
                    redis::Script::new(UNLOCK)
                        .key(lock)
                        .arg(owner)
                        .invoke_async(&mut connection)
                        .await
                })
                .await;
            // The lock then ends with its lease: the others wait that long at most.
            if let Err(err) = released {
                tracing::warn!(login = %key, error = %err, "could not release a refresh lock");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_url() {
        let store = RedisLoginStore::new("redis://:hunter2-password@127.0.0.1:1/").unwrap();
        let shown = format!("{store:?} {store:#?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("127.0.0.1"),
            "{shown}"
        );
    }

    #[test]
    fn keys_name_the_app_and_the_person() {
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert_eq!(login_key(&key).unwrap(), "feishu-helpdesk:user_login:cli_a:ou_1");
        assert_eq!(set_key("cli_a"), "feishu-helpdesk:user_logins:cli_a");
        let unchecked = LoginKey {
            app_id: "cli_a".into(),
            open_id: "ou_1:x".into(),
        };
        assert!(login_key(&unchecked).is_err());
    }
}
