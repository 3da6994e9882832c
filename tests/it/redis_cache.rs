//! `RedisTokenCache` against a real `redis-server` (started by the tests on a free loopback
//! port): namespaced keys with the token's TTL, one token fetch across processes, and
//! calls that keep working when Redis stops.
//!
//! The tests that need a `redis-server` are ignored unless asked for:
//! `cargo test -- --include-ignored --skip redis_cache::worker` (as CI does).

use std::process::{Child, Command, Stdio};

use crate::support::redis_server::RedisServer;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::testing::{self, MockPlatform};
use feishu_helpdesk::{Client, EventType, RedisTokenCache};

const WORKER: &str = "FEISHU_HELPDESK_REDIS_WORKER";

fn client(platform_url: &str, redis_url: &str) -> Client {
    Client::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .helpdesk_credentials(testing::HELPDESK_ID, testing::HELPDESK_TOKEN)
        .base_url(platform_url)
        .token_cache(Arc::new(RedisTokenCache::new(redis_url).unwrap()))
        .build()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn keys_name_the_platform_and_app_and_live_as_long_as_the_token() {
    let redis_server = RedisServer::start();
    let platform = MockPlatform::start().await;

    client(platform.base_url(), &redis_server.url)
        .subscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap();

    let mut redis = redis_server.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut redis).await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert!(
        key.contains(platform.base_url()) && key.contains(testing::APP_ID),
        "{key}"
    );
    assert!(!key.contains(testing::APP_SECRET));
    let ttl_ms: i64 = redis::cmd("PTTL").arg(key).query_async(&mut redis).await.unwrap();
    assert!(
        (7_100_000..=7_200_000).contains(&ttl_ms),
        "TTL {ttl_ms} ms for a 7200 s token"
    );
    let value: String = redis::cmd("GET").arg(key).query_async(&mut redis).await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&value).unwrap();
    assert_eq!(value["token"], "t-mock-1");
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let expires_in = value["expires_at_ms"].as_i64().unwrap() - now_ms;
    assert!((7_100_000..=7_200_000).contains(&expires_in), "{value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn four_processes_of_100_cold_calls_make_one_token_fetch() {
    let redis_server = RedisServer::start();
    // A slow token endpoint: every process finds no token while the first fetch runs.
    let platform = MockPlatform::start_with(testing::MockCredentials {
        token_delay: Duration::from_millis(300),
        ..testing::MockCredentials::default()
    })
    .await;
    let start_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 2_000;

    let workers: Vec<Child> = (0..4)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "redis_cache::worker",
                    "--ignored",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(
                    WORKER,
                    format!("{} {} {start_at}", platform.base_url(), redis_server.url),
                )
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for worker in workers {
        // Waited for off the runtime, which serves the platform meanwhile.
        let output = tokio::task::spawn_blocking(move || worker.wait_with_output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("WORKER OK 100"),
            "a worker failed: {stdout}"
        );
    }

    println!(
        "4 processes x 100 concurrent cold calls: {} token fetch(es)",
        platform.token_fetches()
    );
    assert_eq!(platform.token_fetches(), 1);
    platform.assert_subscribed(&[EventType::TICKET_CREATED]);
    assert_eq!(platform.requests().len(), 401);
}

/// One worker process of the test above, which runs it with `--ignored`.
#[test]
#[ignore = "a worker process of four_processes_of_100_cold_calls_make_one_token_fetch"]
fn worker() {
    let Ok(job) = std::env::var(WORKER) else { return };
    let mut parts = job.split(' ');
    let (platform_url, redis_url) = (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned());
    let start_at: u128 = parts.next().unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let succeeded = runtime.block_on(async move {
        let client = client(&platform_url, &redis_url);
        // All processes start their calls at the same moment.
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        tokio::time::sleep(Duration::from_millis(start_at.saturating_sub(now) as u64)).await;
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.subscribe(&[EventType::TICKET_CREATED]).await })
            })
            .collect();
        let mut succeeded = 0;
        for call in calls {
            if call.await.unwrap().is_ok() {
                succeeded += 1;
            }
        }
        succeeded
    });
    println!("WORKER OK {succeeded}");
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn calls_keep_working_when_redis_stops() {
    let mut redis_server = RedisServer::start();
    let platform = MockPlatform::start().await;
    let client = client(platform.base_url(), &redis_server.url);
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    redis_server.stop();
    for _ in 0..5 {
        client.subscribe(&[EventType::TICKET_UPDATED]).await.unwrap();
    }
    // A new client of the same process, with Redis gone from the start.
    let fresh = Client::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .helpdesk_credentials(testing::HELPDESK_ID, testing::HELPDESK_TOKEN)
        .base_url(platform.base_url())
        .token_cache(Arc::new(RedisTokenCache::new(&redis_server.url).unwrap()))
        .build()
        .unwrap();
    fresh.unsubscribe(&[EventType::TICKET_UPDATED]).await.unwrap();

    platform.assert_subscribed(&[EventType::TICKET_CREATED]);
    // The first client kept its token in memory; the fresh one fetched its own.
    assert_eq!(platform.token_fetches(), 2);
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn a_fetch_lock_whose_holder_died_expires() {
    let redis_server = RedisServer::start();
    let platform = MockPlatform::start().await;
    let mut redis = redis_server.connection().await;
    // A lock left by a process that died mid-fetch, 300 ms from expiry.
    let key = format!(
        "feishu-helpdesk:tenant_access_token:{}:{}:fetch-lock",
        platform.base_url(),
        testing::APP_ID
    );
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("dead-process")
        .arg("PX")
        .arg(300)
        .query_async(&mut redis)
        .await
        .unwrap();
    let started = Instant::now();

    client(platform.base_url(), &redis_server.url)
        .subscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap();

    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "the lock was not respected"
    );
    assert_eq!(platform.token_fetches(), 1);
    let left: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut redis).await.unwrap();
    assert_eq!(left, None, "the lock is released after the fetch");
}

#[test]
fn a_bad_redis_url_is_refused() {
    let err = RedisTokenCache::new("not a url").unwrap_err();
    assert!(
        matches!(
            err,
            feishu_helpdesk::Error::InvalidInput {
                field: "redis_url",
                ..
            }
        ),
        "{err:?}"
    );
    let cache = RedisTokenCache::new("redis://:hunter2-password@127.0.0.1:1/").unwrap();
    assert!(!format!("{cache:?}").contains("hunter2"));
}
