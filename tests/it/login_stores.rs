//! The shared login stores as their users run them: `FileLoginStore` from several processes
//! at once, and `RedisLoginStore` against a real `redis-server` (started by the tests on a
//! free loopback port).
//!
//! The tests that need a `redis-server` are ignored unless asked for:
//! `cargo test -- --include-ignored --skip login_stores::worker` (as CI does).
//! `login_stores::worker` is a worker process of the file store's test, not a test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::{FileLoginStore, LoginKey, LoginStore, UserLogin};

const WORKER: &str = "FEISHU_HELPDESK_LOGIN_WORKER";
const WORKERS: usize = 4;
const INCREMENTS: u64 = 50;

/// A login as a store holds it, built from its stored form (what the public API offers).
fn login(key: &LoginKey, revision: u64) -> UserLogin {
    serde_json::from_value(serde_json::json!({
        "app_id": key.app_id,
        "open_id": key.open_id,
        "name": "Alice",
        "scope": "helpdesk:all offline_access",
        "access_token": "u-secret-access",
        "access_token_expires_at_ms": 4_000_000_000_000u64,
        "refresh_token": "ur-secret-refresh",
        "refresh_token_expires_at_ms": null,
        "granted_at_ms": 1_700_000_000_000u64,
        "revision": revision,
    }))
    .unwrap()
}

/// The next revision of `login`, as a refresh writes it.
fn next(login: &UserLogin) -> UserLogin {
    let mut next = login.clone();
    next.revision += 1;
    next
}

/// Loads, increments and writes the login's revision `times` times, reading again whenever
/// another writer came first. Answers how many writes lost a race.
async fn increment(store: &dyn LoginStore, key: &LoginKey, times: u64) -> u64 {
    let mut lost = 0;
    for _ in 0..times {
        loop {
            let current = store.load(key).await.unwrap().unwrap();
            if store
                .compare_and_swap(key, Some(current.revision), Some(&next(&current)))
                .await
                .unwrap()
            {
                break;
            }
            lost += 1;
        }
    }
    lost
}

fn temp_dir(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "feishu-helpdesk-{test}-{}-{:016x}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_increment_one_file_login_without_losing_a_write() {
    let dir = temp_dir("logins");
    let store = FileLoginStore::new(&dir);
    let key = LoginKey::new("cli_a", "ou_1").unwrap();
    assert!(store
        .compare_and_swap(&key, None, Some(&login(&key, 1)))
        .await
        .unwrap());
    let start_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 1_000;

    let workers: Vec<Child> = (0..WORKERS)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "login_stores::worker",
                    "--ignored",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(WORKER, format!("{} {start_at}", dir.display()))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut lost = 0;
    for worker in workers {
        let output = tokio::task::spawn_blocking(move || worker.wait_with_output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The harness prints the test's name on the same line, before the worker's output.
        let count = stdout
            .split_once("WORKER OK ")
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<u64>().ok());
        assert!(
            output.status.success() && count.is_some(),
            "a worker failed: {stdout}"
        );
        lost += count.unwrap();
    }

    println!("{WORKERS} processes x {INCREMENTS} increments: {lost} lost race(s), retried");
    let stored = store.load(&key).await.unwrap().unwrap();
    assert_eq!(stored.revision, 1 + WORKERS as u64 * INCREMENTS);
    let names: Vec<String> = std::fs::read_dir(dir.join("cli_a"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|name| name.ends_with(".tmp")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One worker process of the test above, which runs it with `--ignored`.
#[test]
#[ignore = "a worker process of four_processes_increment_one_file_login_without_losing_a_write"]
fn worker() {
    let Ok(job) = std::env::var(WORKER) else { return };
    let (dir, start_at) = job.rsplit_once(' ').unwrap();
    let start_at: u128 = start_at.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let lost = runtime.block_on(async move {
        let store = FileLoginStore::new(dir);
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        // All processes start at the same moment, so that their writes race.
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        tokio::time::sleep(Duration::from_millis(start_at.saturating_sub(now) as u64)).await;
        increment(&store, &key, INCREMENTS).await
    });
    println!("WORKER OK {lost}");
}

#[cfg(feature = "redis")]
mod on_redis {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use feishu_helpdesk::{Error, LoginKey, LoginStore, RedisLoginStore, RefreshLock};

    use super::{increment, login, next};
    use crate::support::redis_server::RedisServer;

    fn store(redis_server: &RedisServer) -> RedisLoginStore {
        RedisLoginStore::new(&redis_server.url).unwrap()
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn compare_and_swap_writes_only_over_the_revision_read() {
        let redis_server = RedisServer::start();
        // Two replicas of a service.
        let (one, other) = (store(&redis_server), store(&redis_server));
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let first = login(&key, 1);
        assert_eq!(one.load(&key).await.unwrap(), None);
        assert!(one.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        // A second writer that also read "nothing" loses.
        assert!(!other.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        assert_eq!(other.load(&key).await.unwrap(), Some(first.clone()));
        // Both read revision 1; the other replica writes first, and the first loses.
        let second = next(&first);
        assert!(other
            .compare_and_swap(&key, Some(1), Some(&second))
            .await
            .unwrap());
        assert!(!one
            .compare_and_swap(&key, Some(1), Some(&next(&first)))
            .await
            .unwrap());
        assert_eq!(one.load(&key).await.unwrap(), Some(second.clone()));
        assert!(!one.compare_and_swap(&key, None, None).await.unwrap());
        assert!(!one.compare_and_swap(&key, Some(3), None).await.unwrap());
        assert!(one.compare_and_swap(&key, Some(2), None).await.unwrap());
        assert_eq!(other.load(&key).await.unwrap(), None);

        let mut redis = redis_server.connection().await;
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut redis).await.unwrap();
        assert!(keys.is_empty(), "a removed login leaves nothing: {keys:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn concurrent_writers_lose_no_increment() {
        let redis_server = RedisServer::start();
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert!(store(&redis_server)
            .compare_and_swap(&key, None, Some(&login(&key, 1)))
            .await
            .unwrap());
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (store, key) = (store(&redis_server), key.clone());
                tokio::spawn(async move { increment(&store, &key, 25).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let stored = store(&redis_server).load(&key).await.unwrap().unwrap();
        assert_eq!(stored.revision, 101);
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn logins_are_json_under_keys_of_the_app_and_person_and_live_as_long_as_their_refresh_token() {
        let redis_server = RedisServer::start();
        let store = store(&redis_server);
        let mut redis = redis_server.connection().await;
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let redis_key = "feishu-helpdesk:user_login:cli_a:ou_1";
        assert!(store
            .compare_and_swap(&key, None, Some(&login(&key, 1)))
            .await
            .unwrap());

        let value: String = redis::cmd("GET")
            .arg(redis_key)
            .query_async(&mut redis)
            .await
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(&value).unwrap();
        assert_eq!(value["revision"], 1);
        let ttl: i64 = redis::cmd("PTTL")
            .arg(redis_key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(ttl, -1, "no refresh token expiry: no TTL");
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg("feishu-helpdesk:user_logins:cli_a")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(members, ["ou_1"]);

        // A refresh token that expires in an hour: the login goes a day later.
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let mut refreshed = next(&login(&key, 1));
        refreshed.refresh_token_expires_at_ms = Some(now_ms + 3_600_000);
        assert!(store
            .compare_and_swap(&key, Some(1), Some(&refreshed))
            .await
            .unwrap());
        let ttl: i64 = redis::cmd("PTTL")
            .arg(redis_key)
            .query_async(&mut redis)
            .await
            .unwrap();
        let expected = 25 * 3_600_000;
        assert!((expected - 60_000..=expected).contains(&ttl), "TTL {ttl} ms");
        assert_eq!(store.load(&key).await.unwrap(), Some(refreshed));
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn list_gives_the_apps_logins_and_skips_the_removed_ones() {
        let redis_server = RedisServer::start();
        let store = store(&redis_server);
        assert!(store.list("cli_a").await.unwrap().is_empty());
        for (app_id, open_id) in [
            ("cli_a", "ou_1"),
            ("cli_a", "ou_2"),
            ("cli_a", "ou_3"),
            ("cli_b", "ou_1"),
        ] {
            let key = LoginKey::new(app_id, open_id).unwrap();
            assert!(store
                .compare_and_swap(&key, None, Some(&login(&key, 1)))
                .await
                .unwrap());
        }
        let removed = LoginKey::new("cli_a", "ou_2").unwrap();
        assert!(store.compare_and_swap(&removed, Some(1), None).await.unwrap());
        // One that Redis expired itself, still named in the set.
        let mut redis = redis_server.connection().await;
        let _: i64 = redis::cmd("DEL")
            .arg("feishu-helpdesk:user_login:cli_a:ou_3")
            .query_async(&mut redis)
            .await
            .unwrap();

        let listed: Vec<String> = store
            .list("cli_a")
            .await
            .unwrap()
            .into_iter()
            .map(|login| login.open_id)
            .collect();
        assert_eq!(listed, ["ou_1"]);
        assert_eq!(store.list("cli_b").await.unwrap().len(), 1);
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn a_corrupt_login_is_a_store_error_without_its_content() {
        let redis_server = RedisServer::start();
        let store = store(&redis_server);
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert!(store
            .compare_and_swap(&key, None, Some(&login(&key, 1)))
            .await
            .unwrap());
        let mut redis = redis_server.connection().await;
        let _: () = redis::cmd("SET")
            .arg("feishu-helpdesk:user_login:cli_a:ou_1")
            .arg(r#"{"access_token":"u-secret-access","revision":"ur-secret-refresh"}"#)
            .query_async(&mut redis)
            .await
            .unwrap();
        for err in [
            store.load(&key).await.unwrap_err(),
            store.list("cli_a").await.unwrap_err(),
        ] {
            assert!(matches!(err, Error::Store { .. }), "{err:?}");
            let shown = format!("{err} {err:?}");
            assert!(
                shown.contains("user_login:cli_a:ou_1") && !shown.contains("secret"),
                "{shown}"
            );
        }
        // The revision read is not a number: no expected revision matches it.
        assert!(!store.compare_and_swap(&key, Some(1), None).await.unwrap());
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn the_refresh_lock_goes_to_one_store_and_only_its_owner_releases_it() {
        let redis_server = RedisServer::start();
        let (one, other) = (store(&redis_server), store(&redis_server));
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let lease = Duration::from_secs(30);
        assert_eq!(
            one.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        assert_eq!(other.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);
        assert_eq!(one.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);
        let another_login = LoginKey::new("cli_a", "ou_2").unwrap();
        assert_eq!(
            other.lock_refresh(&another_login, lease).await.unwrap(),
            RefreshLock::Acquired
        );

        // A non-owner's unlock changes nothing.
        other.unlock_refresh(&key).await;
        assert_eq!(other.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);

        one.unlock_refresh(&key).await;
        assert_eq!(
            other.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        let mut redis = redis_server.connection().await;
        let pttl: i64 = redis::cmd("PTTL")
            .arg("feishu-helpdesk:user_login:cli_a:ou_1:refresh-lock")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(
            (29_000..=30_000).contains(&pttl),
            "the lease is the lock's TTL: {pttl} ms"
        );
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn a_refresh_lock_never_released_is_free_after_its_lease() {
        let redis_server = RedisServer::start();
        let (dead, alive) = (store(&redis_server), store(&redis_server));
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let lease = Duration::from_millis(300);
        let taken = Instant::now();
        // A refresher that dies holding the lock.
        assert_eq!(
            dead.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        drop(dead);
        assert_eq!(alive.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);
        let freed = loop {
            if alive.lock_refresh(&key, lease).await.unwrap() == RefreshLock::Acquired {
                break taken.elapsed();
            }
            assert!(taken.elapsed() < Duration::from_secs(5), "the lease never ended");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(freed >= Duration::from_millis(290), "free after {freed:?}");
    }

    #[tokio::test]
    async fn redis_down_is_a_store_error_that_names_what_failed_not_the_url() {
        // A port just freed: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = RedisLoginStore::new(&format!("redis://:hunter2-password@127.0.0.1:{port}/")).unwrap();
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let failures = [
            store.load(&key).await.map(|_| ()),
            store
                .compare_and_swap(&key, None, Some(&login(&key, 1)))
                .await
                .map(|_| ()),
            store.list("cli_a").await.map(|_| ()),
            store.lock_refresh(&key, Duration::from_secs(1)).await.map(|_| ()),
        ];
        for failure in failures {
            let err = failure.unwrap_err();
            let Error::Store { reason, .. } = &err else {
                panic!("{err:?}")
            };
            assert!(reason.starts_with("Redis "), "{reason}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains(&format!(":{port}")),
                "{shown}"
            );
        }
        // Nothing to give back: no error, no panic.
        store.unlock_refresh(&key).await;
    }
}
