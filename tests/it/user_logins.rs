//! Acting for a person against the testing kit: both login flows end to end, the stored
//! login's token refreshed once (for the calls of a process, and for processes sharing a
//! file store or Redis), a refresh that fails for now or for good, a rejected user token
//! renewed, and no secret in what the library shows.
//!
//! The Redis tests need a `redis-server` and are ignored unless asked for:
//! `cargo test -- --include-ignored --skip user_logins::worker` (as CI does).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::generated::types;
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{self, MockCredentials, MockPlatform, Scripted, DEFAULT_PERSON_OPEN_ID};
use feishu_helpdesk::{Client, Error, FileLoginStore, LoginKey, LoginStore, MemoryLoginStore, UserLogin};

#[cfg(feature = "redis")]
use crate::support::redis_server::RedisServer;

const WORKER: &str = "FEISHU_HELPDESK_LOGIN_WORKER";

/// A stand-in whose device logins may be polled every second.
async fn platform() -> MockPlatform {
    MockPlatform::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await
}

fn client_with(platform_url: &str, store: Arc<dyn LoginStore>) -> Client {
    Client::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .helpdesk_credentials(testing::HELPDESK_ID, testing::HELPDESK_TOKEN)
        .base_url(platform_url)
        .initial_backoff(Duration::from_millis(1))
        .login_store(store)
        .build()
        .unwrap()
}

/// Logs the kit's default person in with the device flow, approving as the person would.
async fn device_login(platform: &MockPlatform, client: &Client) -> UserLogin {
    let pending = client.logins().unwrap().device_login().await.unwrap();
    assert!(!pending.user_code().is_empty());
    assert!(
        pending.verification_uri().starts_with(platform.base_url()),
        "{pending:?}"
    );
    let finished = tokio::spawn(pending.finish());
    while platform.approve_device_logins() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    finished.await.unwrap().unwrap()
}

/// A user operation (a write) for the person.
async fn create_faq(client: &Client) -> Result<types::CreateFaqData, Error> {
    client
        .api()
        .create_faq()
        .body(types::CreateFaqRequest { faq: None })
        .send()
        .await
}

/// Makes the stored login's access token expire in `left`, as if it had been issued long ago.
async fn age(store: &dyn LoginStore, key: &LoginKey, left: Duration) {
    let mut login = store.load(key).await.unwrap().unwrap();
    let read = login.revision;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    login.access_token_expires_at_ms = now + left.as_millis() as u64;
    login.revision += 1;
    assert!(store
        .compare_and_swap(key, Some(read), Some(&login))
        .await
        .unwrap());
}

fn key() -> LoginKey {
    LoginKey::new(testing::APP_ID, DEFAULT_PERSON_OPEN_ID).unwrap()
}

#[tokio::test]
async fn device_login_then_a_user_operation() {
    let platform = platform().await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = client_with(platform.base_url(), store.clone());

    let login = device_login(&platform, &client).await;
    assert_eq!(login.open_id, DEFAULT_PERSON_OPEN_ID);
    assert_eq!(login.name, testing::DEFAULT_PERSON_NAME);
    assert!(
        login.scope.split(' ').any(|s| s == "offline_access"),
        "{}",
        login.scope
    );
    assert!(login.can_refresh());
    assert_eq!(store.load(&key()).await.unwrap(), Some(login.clone()));
    assert_eq!(client.logins().unwrap().list().await.unwrap(), vec![login]);

    create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap();
    // The device authorization asked for offline_access, with the app's Basic credentials.
    let requests = platform.requests();
    let started = requests
        .iter()
        .find(|r| r.path == "/oauth/v1/device_authorization")
        .unwrap();
    assert!(started.body.contains("offline_access"), "{}", started.body);
    assert_eq!(platform.refresh_requests(), 0);
}

#[tokio::test]
async fn browser_login_checks_the_state_and_exchanges_with_the_verifier() {
    let platform = platform().await;
    let client = client_with(platform.base_url(), Arc::new(MemoryLoginStore::default()));
    let logins = client.logins().unwrap();
    let redirect_uri = "http://127.0.0.1:8765/callback";
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The browser's step: the platform answers the authorization page with a redirect.
    let browse = |url: String| {
        let http = http.clone();
        async move {
            let answer = http.get(url).send().await.unwrap();
            assert_eq!(answer.status(), 302);
            answer.headers()["location"].to_str().unwrap().to_owned()
        }
    };

    // A redirect with another login's state is refused before anything is sent.
    let first = logins.browser_login(redirect_uri).unwrap();
    let second = logins.browser_login(redirect_uri).unwrap();
    assert_ne!(first.state(), second.state());
    let url = first.authorization_url().to_owned();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("offline_access"),
        "{url}"
    );
    let redirect = browse(url).await;
    assert!(redirect.starts_with(redirect_uri), "{redirect}");
    let refused = second.finish(&redirect).await.unwrap_err();
    assert!(
        matches!(refused, Error::InvalidInput { field: "state", .. }),
        "{refused:?}"
    );

    let login = first.finish(&redirect).await.unwrap();
    assert_eq!(login.open_id, DEFAULT_PERSON_OPEN_ID);
    create_faq(&client.for_user(&login.open_id).unwrap())
        .await
        .unwrap();
    let exchange = platform
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/v3/token")
        .unwrap();
    assert!(exchange.body.contains("code_verifier"), "{}", exchange.body);

    // The person declines.
    platform.deny_authorization(true);
    let declined = logins.browser_login(redirect_uri).unwrap();
    let redirect = browse(declined.authorization_url().to_owned()).await;
    let err = declined.finish(&redirect).await.unwrap_err();
    assert!(
        matches!(&err, Error::LoginRefused { error, .. } if error == "access_denied"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_device_login_declined_or_expired_is_refused() {
    let platform = platform().await;
    let client = client_with(platform.base_url(), Arc::new(MemoryLoginStore::default()));
    for (deny, expected) in [(true, "access_denied"), (false, "expired_token")] {
        let pending = client.logins().unwrap().device_login().await.unwrap();
        let user_code = pending.user_code().to_owned();
        let finished = tokio::spawn(pending.finish());
        tokio::time::sleep(Duration::from_millis(30)).await;
        if deny {
            assert!(platform.deny_device_login(&user_code));
        } else {
            assert!(platform.expire_device_login(&user_code));
        }
        let err = finished.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::LoginRefused { error, .. } if error == expected),
            "{err:?}"
        );
    }
    assert!(client.logins().unwrap().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_login_without_a_refresh_token_is_refused_naming_the_settings() {
    let platform = platform().await;
    platform.allow_refresh(false);
    let client = client_with(platform.base_url(), Arc::new(MemoryLoginStore::default()));
    let pending = client.logins().unwrap().device_login().await.unwrap();
    let finished = tokio::spawn(pending.finish());
    while platform.approve_device_logins() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = finished.await.unwrap().unwrap_err();
    let Error::LoginRefused {
        error, description, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(error, "no_refresh_token");
    assert!(
        description.contains("offline_access") && description.contains("refresh"),
        "{description}"
    );
    assert!(client.logins().unwrap().list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_calls_near_expiry_make_one_refresh_and_store_it_first() {
    let platform = platform().await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = client_with(platform.base_url(), store.clone());
    let login = device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::from_secs(20)).await;

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let client = client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap();
        calls.spawn(async move { create_faq(&client).await });
    }
    while let Some(call) = calls.join_next().await {
        call.unwrap().unwrap();
    }
    assert_eq!(platform.refresh_requests(), 1);
    assert_eq!(platform.refreshes_refused(), 0);
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert_eq!(stored.revision, login.revision + 2, "aged, then refreshed once");
    assert!(stored.access_token_expires_at() > login.access_token_expires_at() - Duration::from_secs(60));
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_the_login_and_is_retried() {
    let platform = platform().await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::ZERO).await;
    let for_user = client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap();

    // Refused twice for now, then refreshed: the call goes through.
    for _ in 0..2 {
        platform.push_for(
            "get_user_access_token",
            Scripted::Error {
                http_status: 503,
                code: 20072,
                msg: "temporarily unavailable".into(),
            },
        );
    }
    create_faq(&for_user).await.unwrap();
    assert_eq!(platform.refresh_requests(), 3);

    // Refused more often than the retries: the call fails, the login stays for the next.
    // (Another client on the store: this one's process keeps the token it refreshed.)
    age(store.as_ref(), &key(), Duration::ZERO).await;
    let other = client_with(platform.base_url(), store.clone());
    let attempts = 1 + feishu_helpdesk::DEFAULT_MAX_RETRIES as usize;
    for _ in 0..attempts {
        platform.push_for(
            "get_user_access_token",
            Scripted::Error {
                http_status: 500,
                code: 20050,
                msg: "server error".into(),
            },
        );
    }
    let err = create_faq(&other.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(20050), "{err:?}");
    assert_eq!(platform.refresh_requests(), 3 + attempts);
    let stored = store.load(&key()).await.unwrap().unwrap();
    assert!(!stored.needs_authorization);
    create_faq(&other.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap();
    assert_eq!(platform.refresh_requests(), 3 + attempts + 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_login_required_and_marks_the_login() {
    let platform = platform().await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::ZERO).await;
    platform.revoke_refresh_tokens();

    let err = create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap_err();
    let Error::LoginRequired { open_id, code, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((open_id.as_str(), *code), (DEFAULT_PERSON_OPEN_ID, Some(20064)));
    assert!(store.load(&key()).await.unwrap().unwrap().needs_authorization);
    // No further refresh: the login waits for a new authorization.
    assert!(matches!(
        create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap()).await,
        Err(Error::LoginRequired { .. })
    ));
    assert_eq!(platform.refresh_requests(), 1);
    // A new login mends it.
    device_login(&platform, &client).await;
    create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_user_token_rejected_on_a_read_is_refreshed_and_the_read_sent_once_more() {
    let platform = platform().await;
    let client = client_with(platform.base_url(), Arc::new(MemoryLoginStore::default()));
    device_login(&platform, &client).await;
    let for_user = client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap();
    for_user
        .api()
        .get_notification()
        .notification_id("6985032626234982420")
        .send()
        .await
        .unwrap();
    // The platform ends the token early: the next read is rejected, refreshed, resent.
    platform.expire_user_tokens();
    for_user
        .api()
        .get_notification()
        .notification_id("6985032626234982420")
        .send()
        .await
        .unwrap();
    assert_eq!(platform.refresh_requests(), 1);
    let reads: Vec<u16> = platform
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/open-apis/helpdesk/v1/notifications/"))
        .map(|r| r.answered)
        .collect();
    assert_eq!(reads, [200, 401, 200]);
}

#[tokio::test]
async fn no_secret_shows_in_debug_errors_or_the_logins_listed() {
    let platform = platform().await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = client_with(platform.base_url(), store.clone());
    let logins = client.logins().unwrap();
    let browser = logins.browser_login("http://127.0.0.1:8765/callback").unwrap();
    let device = logins.device_login().await.unwrap();
    let shown_before = format!("{logins:?} {browser:?} {device:?} {client:?}");
    let finished = tokio::spawn(device.finish());
    while platform.approve_device_logins() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let login = finished.await.unwrap().unwrap();
    let stored = serde_json::to_value(store.load(&key()).await.unwrap().unwrap()).unwrap();
    let secrets = [
        stored["access_token"].as_str().unwrap().to_owned(),
        stored["refresh_token"].as_str().unwrap().to_owned(),
        testing::APP_SECRET.to_owned(),
    ];
    platform.revoke_refresh_tokens();
    age(store.as_ref(), &key(), Duration::ZERO).await;
    let err = create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap_err();
    let shown = format!(
        "{shown_before} {login:?} {err} {err:?} {:?} {:?}",
        client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap(),
        logins.list().await.unwrap()
    );
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "a secret shows in: {shown}");
    }
}

/// Starts `count` worker processes that each make 50 concurrent user calls at the same
/// moment, with the login store `store` (`files:<dir>` or `redis:<url>`); returns their
/// outputs.
fn run_workers(count: usize, platform_url: &str, store: &str) -> Vec<String> {
    let start_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 1500;
    let workers: Vec<_> = (0..count)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "user_logins::worker",
                    "--ignored",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(WORKER, format!("{platform_url} {store} {start_at}"))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    workers
        .into_iter()
        .map(|worker| {
            let output = worker.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(output.status.success(), "a worker failed: {stdout}");
            stdout
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_sharing_a_file_store_refresh_once() {
    let platform = platform().await;
    let dir = tempdir("file-store");
    let store = Arc::new(FileLoginStore::new(&dir));
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::from_secs(5)).await;

    let url = platform.base_url().to_owned();
    let store_arg = format!("files:{}", dir.display());
    let outputs = tokio::task::spawn_blocking(move || run_workers(4, &url, &store_arg))
        .await
        .unwrap();
    for output in &outputs {
        assert!(output.contains("WORKER OK 50"), "{output}");
    }
    assert_eq!(
        platform.refresh_requests(),
        1,
        "one refresh for 4 processes x 50 calls"
    );
    assert_eq!(platform.refreshes_refused(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn two_processes_sharing_redis_refresh_once() {
    let redis_server = RedisServer::start();
    let platform = platform().await;
    let store = Arc::new(feishu_helpdesk::RedisLoginStore::new(&redis_server.url).unwrap());
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::from_secs(5)).await;

    let url = platform.base_url().to_owned();
    let store_arg = format!("redis:{}", redis_server.url);
    let outputs = tokio::task::spawn_blocking(move || run_workers(2, &url, &store_arg))
        .await
        .unwrap();
    for output in &outputs {
        assert!(output.contains("WORKER OK 50"), "{output}");
    }
    assert_eq!(
        platform.refresh_requests(),
        1,
        "one refresh for 2 processes x 50 calls"
    );
    assert_eq!(platform.refreshes_refused(), 0);
}

#[cfg(feature = "redis")]
#[tokio::test]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn a_dead_refreshers_lock_is_taken_over_after_its_lease() {
    let redis_server = RedisServer::start();
    let platform = platform().await;
    let store = Arc::new(feishu_helpdesk::RedisLoginStore::new(&redis_server.url).unwrap());
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::ZERO).await;

    // Another replica took the refresh lock with a 1 s lease and died holding it.
    let dead = feishu_helpdesk::RedisLoginStore::new(&redis_server.url).unwrap();
    assert_eq!(
        dead.lock_refresh(&key(), Duration::from_secs(1)).await.unwrap(),
        feishu_helpdesk::RefreshLock::Acquired
    );
    let started = std::time::Instant::now();
    create_faq(&client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(platform.refresh_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_refresher_frees_the_file_lock_for_another() {
    use tokio::io::AsyncBufReadExt as _;

    let platform = platform().await;
    let dir = tempdir("killed-refresher");
    let store = Arc::new(FileLoginStore::new(&dir));
    let client = client_with(platform.base_url(), store.clone());
    device_login(&platform, &client).await;
    age(store.as_ref(), &key(), Duration::ZERO).await;

    // Another process takes the refresh lock and is killed holding it.
    let mut holder = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "user_logins::worker", "--ignored", "--nocapture"])
        .env(
            WORKER,
            format!("{} hold:{} 0", platform.base_url(), dir.display()),
        )
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(holder.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("WORKER HOLDS THE LOCK") {
            break;
        }
    }
    let other = client_with(platform.base_url(), store.clone());
    let call =
        tokio::spawn(async move { create_faq(&other.for_user(DEFAULT_PERSON_OPEN_ID).unwrap()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.is_finished(), "the call waits for the holder's refresh");
    assert_eq!(platform.refresh_requests(), 0);
    holder.kill().await.unwrap();
    call.await.unwrap().unwrap();
    assert_eq!(platform.refresh_requests(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One worker process of the tests above, which run it with `--ignored`.
#[test]
#[ignore = "a worker process of the multi-process login tests"]
fn worker() {
    let Ok(job) = std::env::var(WORKER) else { return };
    let mut parts = job.split(' ');
    let platform_url = parts.next().unwrap().to_owned();
    let store = parts.next().unwrap().to_owned();
    let start_at: u128 = parts.next().unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(dir) = store.strip_prefix("hold:") {
        // A refresher that takes the lock and never finishes, until it is killed.
        runtime.block_on(async move {
            let store = FileLoginStore::new(dir);
            let lock = store.lock_refresh(&key(), Duration::from_secs(60)).await.unwrap();
            assert_eq!(lock, feishu_helpdesk::RefreshLock::Acquired);
            println!("WORKER HOLDS THE LOCK");
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        return;
    }
    let succeeded = runtime.block_on(async move {
        let store: Arc<dyn LoginStore> = match store.split_once(':') {
            Some(("files", dir)) => Arc::new(FileLoginStore::new(dir)),
            #[cfg(feature = "redis")]
            Some(("redis", url)) => Arc::new(feishu_helpdesk::RedisLoginStore::new(url).unwrap()),
            _ => panic!("unknown store {store}"),
        };
        let client = client_with(&platform_url, store);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        tokio::time::sleep(Duration::from_millis(start_at.saturating_sub(now) as u64)).await;
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let client = client.for_user(DEFAULT_PERSON_OPEN_ID).unwrap();
                tokio::spawn(async move { create_faq(&client).await })
            })
            .collect();
        let mut succeeded = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) => succeeded += 1,
                Err(err) => println!("WORKER CALL FAILED: {err}"),
            }
        }
        succeeded
    });
    println!("WORKER OK {succeeded}");
}

/// A fresh folder under the system's temporary folder.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "feishu-helpdesk-{name}-{}-{:x}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
