//! `feishu-helpdesk login`, `logout`, `whoami` and `api` acting for a stored login (feature
//! `cli`), run for real against the testing kit: both login flows through the binary, the
//! stored login refreshed once for several processes, a revoked refresh token, several
//! people, where the logins are kept (a folder, Redis, Redis unreachable), and no secret in
//! any output or in any file but the logins themselves.
//!
//! The Redis test needs a `redis-server` and is ignored unless asked for:
//! `cargo test -- --include-ignored`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::testing::{
    self, MockCredentials, MockPlatform, Scripted, DEFAULT_PERSON_NAME, DEFAULT_PERSON_OPEN_ID,
};
use feishu_helpdesk::{FileLoginStore, LoginKey, LoginStore};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

use crate::cli::{app_env, text, BIN};

const SECOND_OPEN_ID: &str = "ou_second_agent";
const SECOND_NAME: &str = "Second Agent";
/// A user operation: the tool acts for the stored login.
const CREATE_FAQ: &[&str] = &["api", "create_faq", "--body", "{}"];

/// A stand-in whose device logins may be polled every second: the least the library waits
/// (it reads an `interval` of 0 as none given, and waits the default 5 seconds).
async fn platform() -> MockPlatform {
    MockPlatform::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await
}

/// A port nobody listens on (bound, read, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The tool against one stand-in, with a configuration folder of its own (or Redis). Keeps
/// every output and every token the store held, so that [`Session::assert_no_secret_shown`]
/// checks them all against each other at the end.
struct Session {
    /// The tool's whole environment.
    env: Vec<(&'static str, String)>,
    config: PathBuf,
    store: Arc<dyn LoginStore>,
    outputs: Mutex<Vec<String>>,
    tokens: Mutex<BTreeSet<String>>,
}

impl Session {
    fn new(platform: &MockPlatform, test: &str) -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        let config = std::env::temp_dir().join(format!(
            "feishu-helpdesk-cli-login-{test}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&config).unwrap();
        let mut env = app_env(platform);
        env.push(("FEISHU_HELPDESK_CONFIG_DIR", config.to_str().unwrap().to_owned()));
        let store = Arc::new(FileLoginStore::new(config.join("logins")));
        Self {
            env,
            config,
            store,
            outputs: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    #[cfg(feature = "redis")]
    fn with_redis(platform: &MockPlatform, test: &str, url: &str) -> Self {
        let mut session = Self::new(platform, test);
        session.env.push(("FEISHU_REDIS_URL", url.to_owned()));
        session.store = Arc::new(feishu_helpdesk::RedisLoginStore::new(url).unwrap());
        session
    }

    fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    async fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let out = tokio::time::timeout(Duration::from_secs(20), self.command(args, extra).output())
            .await
            .unwrap_or_else(|_| panic!("{args:?} did not end"))
            .unwrap();
        self.record(&out).await;
        out
    }

    /// Keeps what a command printed, and the tokens the store holds after it.
    async fn record(&self, out: &Output) {
        self.record_text(format!("{}{}", text(&out.stdout), text(&out.stderr)))
            .await;
    }

    async fn record_text(&self, all: String) {
        self.outputs.lock().unwrap().push(all);
        // The serialized form is the store's, with the tokens.
        for login in self.store.list(testing::APP_ID).await.unwrap() {
            let stored = serde_json::to_value(&login).unwrap();
            let mut tokens = self.tokens.lock().unwrap();
            for field in ["access_token", "refresh_token"] {
                if let Some(token) = stored[field].as_str() {
                    tokens.insert(token.to_owned());
                }
            }
        }
    }

    fn key(open_id: &str) -> LoginKey {
        LoginKey::new(testing::APP_ID, open_id).unwrap()
    }

    /// Makes the stored access token look expired, as after 2 hours, through the store's
    /// compare-and-swap like any writer.
    async fn expire(&self, open_id: &str) {
        let key = Self::key(open_id);
        let mut login = self.store.load(&key).await.unwrap().unwrap();
        let read = login.revision;
        login.access_token_expires_at_ms = now_ms();
        login.revision += 1;
        assert!(self
            .store
            .compare_and_swap(&key, Some(read), Some(&login))
            .await
            .unwrap());
    }

    /// `login` with the device flow, approved on the stand-in as the person would: the
    /// output of the process.
    async fn device_login(&self, platform: &MockPlatform, args: &[&str]) -> Output {
        self.device_login_answered(platform, args, |platform, _| {
            assert_eq!(platform.approve_device_logins(), 1);
        })
        .await
    }

    /// `login` with the device flow, the person's answer given by `answer` (with the user
    /// code the tool showed): the output of the process.
    async fn device_login_answered(
        &self,
        platform: &MockPlatform,
        args: &[&str],
        answer: impl FnOnce(&MockPlatform, &str),
    ) -> Output {
        let child = self.command(&[&["login"], args].concat(), &[]).spawn().unwrap();
        let waited = tokio::spawn(child.wait_with_output());
        let user_code = loop {
            if let Some(code) = platform.pending_device_logins().pop() {
                break code;
            }
            assert!(!waited.is_finished(), "login ended before approval");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        answer(platform, &user_code);
        let out = tokio::time::timeout(Duration::from_secs(10), waited)
            .await
            .expect("login did not end after the person's answer")
            .unwrap()
            .unwrap();
        self.record(&out).await;
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&user_code), "{stderr}");
        assert!(
            stderr.contains(&format!("{}/device", platform.base_url())),
            "{stderr}"
        );
        out
    }

    /// No output showed a token the store ever held, the app secret or the helpdesk token;
    /// and with the file store, no file but a login holds a token, and the logins are private.
    fn assert_no_secret_shown(&self) {
        let tokens = self.tokens.lock().unwrap().clone();
        assert!(!tokens.is_empty(), "no login was ever stored");
        let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
        secrets.extend([testing::APP_SECRET, testing::HELPDESK_TOKEN]);
        for output in self.outputs.lock().unwrap().iter() {
            for secret in &secrets {
                assert!(!output.contains(secret), "{secret} shown in {output}");
            }
        }
        for (path, is_login) in files_under(&self.config) {
            let content = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            if is_login {
                check_private(&path);
                continue;
            }
            for token in &tokens {
                assert!(!content.contains(token), "a token in {}", path.display());
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.config);
    }
}

/// Every file under `dir`, and whether it is a login of a store
/// (`…/logins/<app_id>/<open_id>.json`).
fn files_under(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap();
            let folder = path.parent().unwrap();
            let is_login = folder.ends_with(Path::new("logins").join(testing::APP_ID))
                && name.ends_with(".json")
                && !name.starts_with('.');
            files.push((path, is_login));
        }
    }
    files
}

/// The login file is readable by its owner only (0600), and so is its folder (0700).
fn check_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path), 0o600, "{}", path.display());
        assert_eq!(mode(path.parent().unwrap()), 0o700, "{}", path.display());
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Exit code `code`; stdout and stderr as text.
#[track_caller]
fn exited(out: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

/// The JSON lines of `whoami --json`.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn device_login_then_whoami_api_and_logout() {
    let platform = platform().await;
    let session = Session::new(&platform, "device");
    let out = session.device_login(&platform, &[]).await;
    let (stdout, _) = exited(&out, 0);
    assert!(
        stdout.contains(DEFAULT_PERSON_NAME) && stdout.contains(DEFAULT_PERSON_OPEN_ID),
        "{stdout}"
    );
    let file = session
        .config
        .join("logins")
        .join(testing::APP_ID)
        .join(format!("{DEFAULT_PERSON_OPEN_ID}.json"));
    assert!(file.is_file(), "{}", file.display());

    let (stdout, _) = exited(&session.run(&["whoami"]).await, 0);
    for expected in [
        DEFAULT_PERSON_NAME,
        DEFAULT_PERSON_OPEN_ID,
        "offline_access",
        "in 1h 59m",
    ] {
        assert!(stdout.contains(expected), "{expected} missing from {stdout}");
    }
    assert!(!stdout.contains("must log in again"), "{stdout}");

    let (stdout, _) = exited(&session.run(&["whoami", "--json"]).await, 0);
    let lines = json_lines(&stdout);
    assert_eq!(lines.len(), 1, "{stdout}");
    let me = &lines[0];
    assert_eq!(me["open_id"], DEFAULT_PERSON_OPEN_ID);
    assert_eq!(me["name"], DEFAULT_PERSON_NAME);
    assert_eq!(me["app_id"], testing::APP_ID);
    let scopes: Vec<&str> = me["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(scopes.contains(&"offline_access"), "{scopes:?}");
    assert!(me["access_token_expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(me["access_token_seconds_left"].as_u64().unwrap() > 7000);
    assert!(me["refresh_token_expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(me["refresh_token_seconds_left"].as_u64().unwrap() > 600_000);
    assert_eq!(me["needs_login"], false);
    assert!(
        me.get("access_token").is_none() && me.get("refresh_token").is_none(),
        "{me}"
    );

    // A user operation with the stored login, no FEISHU_USER_ACCESS_TOKEN.
    let (stdout, _) = exited(&session.run(CREATE_FAQ).await, 0);
    assert!(!stdout.is_empty());
    assert_eq!(platform.refresh_requests(), 0, "a fresh login is used as is");

    let (stdout, _) = exited(&session.run(&["logout"]).await, 0);
    assert!(stdout.contains(DEFAULT_PERSON_OPEN_ID), "{stdout}");
    assert!(!file.exists());
    let (_, stderr) = exited(&session.run(&["whoami"]).await, 2);
    assert!(stderr.contains("feishu-helpdesk login"), "{stderr}");
    let (_, stderr) = exited(&session.run(CREATE_FAQ).await, 2);
    assert!(stderr.contains("feishu-helpdesk login"), "{stderr}");
    session.assert_no_secret_shown();
}

/// `login --browser` started, up to the authorization URL it printed, its stderr drained
/// to the end.
struct BrowserLogin {
    child: tokio::process::Child,
    url: String,
    stderr: tokio::task::JoinHandle<String>,
}

impl BrowserLogin {
    async fn start(session: &Session, port: u16) -> Self {
        let mut child = session
            .command(&["login", "--browser", "--redirect-port", &port.to_string()], &[])
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let url = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let mut line = String::new();
                assert_ne!(stderr.read_line(&mut line).await.unwrap(), 0, "{seen}");
                seen.push_str(&line);
                if line.starts_with("http") {
                    return line.trim().to_owned();
                }
            }
        })
        .await
        .expect("no authorization URL");
        let stderr = tokio::spawn(async move {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest).await;
            seen + &rest
        });
        Self { child, url, stderr }
    }

    /// The exit code, stdout and stderr, once the process ends.
    async fn finish(mut self, session: &Session) -> (Option<i32>, String, String) {
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("login --browser did not end")
            .unwrap();
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .await
            .unwrap();
        let stderr = self.stderr.await.unwrap();
        session.record_text(format!("{stdout}{stderr}")).await;
        (status.code(), stdout, stderr)
    }
}

#[tokio::test]
async fn browser_login_through_the_loopback_redirect() {
    let platform = platform().await;
    let session = Session::new(&platform, "browser");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The browser's step at the platform: the authorization page sends it back with a
    // redirect.
    let authorize = |url: String| {
        let browser = browser.clone();
        async move {
            let answer = browser.get(url).send().await.unwrap();
            assert_eq!(answer.status(), 302);
            answer.headers()["location"].to_str().unwrap().to_owned()
        }
    };

    let port = free_port();
    let login = BrowserLogin::start(&session, port).await;
    assert!(
        login.url.starts_with(platform.base_url()) && login.url.contains("code_challenge"),
        "{}",
        login.url
    );
    let location = authorize(login.url.clone()).await;
    assert!(
        location.starts_with(&format!("http://127.0.0.1:{port}/callback?")),
        "{location}"
    );
    let page = browser.get(&location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Logged in"));
    let (code, stdout, stderr) = login.finish(&session).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(DEFAULT_PERSON_OPEN_ID), "{stdout}");
    assert_eq!(session.store.list(testing::APP_ID).await.unwrap().len(), 1);
    exited(&session.run(&["logout"]).await, 0);

    // A redirect with a state from elsewhere: refused, nothing stored.
    let port = free_port();
    let login = BrowserLogin::start(&session, port).await;
    let mut forged = reqwest::Url::parse(&authorize(login.url.clone()).await).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" { "forged-state".into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let page = browser.get(forged.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("not completed"), "{page}");
    let (code, _, stderr) = login.finish(&session).await;
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("state"), "{stderr}");
    assert!(session.store.list(testing::APP_ID).await.unwrap().is_empty());

    // The person declines.
    platform.deny_authorization(true);
    let port = free_port();
    let login = BrowserLogin::start(&session, port).await;
    let location = authorize(login.url.clone()).await;
    assert!(location.contains("error=access_denied"), "{location}");
    let page = browser.get(&location).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("not completed"));
    let (code, _, stderr) = login.finish(&session).await;
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("access_denied"), "{stderr}");
    // No answer carried the refusal: no HTTP status or code to show.
    assert!(
        !stderr.contains("HTTP status: 0") && !stderr.contains("code: 0"),
        "{stderr}"
    );
    assert!(session.store.list(testing::APP_ID).await.unwrap().is_empty());

    // Log in again so that the secrets check has tokens to look for.
    platform.deny_authorization(false);
    let port = free_port();
    let login = BrowserLogin::start(&session, port).await;
    let location = authorize(login.url.clone()).await;
    browser.get(&location).send().await.unwrap();
    assert_eq!(login.finish(&session).await.0, Some(0));
    session.assert_no_secret_shown();
}

/// `n` processes of the user operation at once (with `flags`); each must succeed.
async fn concurrent_calls(session: &Session, n: usize, flags: &[&str]) {
    let args = [CREATE_FAQ, flags].concat();
    let calls = (0..n).map(|_| session.run(&args));
    for out in futures_util::future::join_all(calls).await {
        exited(&out, 0);
    }
}

#[tokio::test]
async fn a_week_of_daily_refreshes_each_shared_by_three_processes() {
    let platform = platform().await;
    let session = Session::new(&platform, "refreshes");
    exited(&session.device_login(&platform, &[]).await, 0);
    for day in 1..=7 {
        platform.advance_clock(Duration::from_secs(86_400));
        session.expire(DEFAULT_PERSON_OPEN_ID).await;
        // A slow refresh: the other processes come while it is under way.
        platform.push_for(
            "get_user_access_token",
            Scripted::Delay(Duration::from_millis(300)),
        );
        concurrent_calls(&session, 3, &[]).await;
        assert_eq!(platform.refresh_requests(), day, "one refresh on day {day}");
        assert_eq!(platform.refreshes_refused(), 0);
        let login = session
            .store
            .load(&Session::key(DEFAULT_PERSON_OPEN_ID))
            .await
            .unwrap()
            .unwrap();
        assert!(!login.needs_authorization);
        assert!(login.access_token_time_left() > Duration::from_secs(7000));
    }
    // What the library logs (--verbose) while it refreshes shows no token either.
    session.expire(DEFAULT_PERSON_OPEN_ID).await;
    concurrent_calls(&session, 2, &["--verbose"]).await;
    assert_eq!(platform.refresh_requests(), 8);
    let (stdout, _) = exited(&session.run(&["whoami", "--json"]).await, 0);
    assert_eq!(json_lines(&stdout)[0]["needs_login"], false);
    session.assert_no_secret_shown();
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_the_person_to_log_in_again() {
    let platform = platform().await;
    let session = Session::new(&platform, "revoked");
    exited(&session.device_login(&platform, &[]).await, 0);
    session.expire(DEFAULT_PERSON_OPEN_ID).await;
    platform.revoke_refresh_tokens();
    let (stdout, stderr) = exited(&session.run(CREATE_FAQ).await, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(DEFAULT_PERSON_OPEN_ID) && stderr.contains("feishu-helpdesk login"),
        "{stderr}"
    );
    // Marked: later calls ask again without another refresh.
    let (_, stderr) = exited(&session.run(CREATE_FAQ).await, 2);
    assert!(stderr.contains("feishu-helpdesk login"), "{stderr}");
    assert_eq!(platform.refresh_requests(), 1);

    let (stdout, _) = exited(&session.run(&["whoami", "--json"]).await, 0);
    assert_eq!(json_lines(&stdout)[0]["needs_login"], true);
    let (stdout, _) = exited(&session.run(&["whoami"]).await, 0);
    assert!(stdout.contains("feishu-helpdesk login"), "{stdout}");

    // Logging in again replaces the marked login (what the library logs shows no token).
    exited(&session.device_login(&platform, &["--verbose"]).await, 0);
    exited(&session.run(CREATE_FAQ).await, 0);
    session.assert_no_secret_shown();
}

#[tokio::test]
async fn several_logins_need_user_and_a_given_token_wins() {
    let platform = platform().await;
    let session = Session::new(&platform, "several");
    exited(&session.device_login(&platform, &[]).await, 0);
    platform.add_person(SECOND_OPEN_ID, SECOND_NAME);
    platform.log_in_as(SECOND_OPEN_ID);
    let (stdout, _) = exited(&session.device_login(&platform, &["--json"]).await, 0);
    let second: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(second["open_id"], SECOND_OPEN_ID);
    assert_eq!(second["name"], SECOND_NAME);

    let (stdout, _) = exited(&session.run(&["whoami", "--json"]).await, 0);
    let ids: Vec<Value> = json_lines(&stdout)
        .into_iter()
        .map(|line| line["open_id"].clone())
        .collect();
    assert_eq!(ids, [DEFAULT_PERSON_OPEN_ID, SECOND_OPEN_ID]);

    for command in [CREATE_FAQ, &["logout"]] {
        let (_, stderr) = exited(&session.run(command).await, 2);
        // Both people, in the same order every time.
        assert!(
            stderr.contains(&format!("({DEFAULT_PERSON_OPEN_ID}, {SECOND_OPEN_ID})"))
                && stderr.contains("--user"),
            "{stderr}"
        );
    }
    let (stdout, _) = exited(&session.run(&["whoami", "--user", SECOND_OPEN_ID]).await, 0);
    assert!(
        stdout.contains(SECOND_NAME) && !stdout.contains(DEFAULT_PERSON_OPEN_ID),
        "{stdout}"
    );
    let (_, stderr) = exited(&session.run(&["whoami", "--user", "ou_nobody"]).await, 2);
    assert!(stderr.contains("no login of ou_nobody"), "{stderr}");
    let with_user = [CREATE_FAQ, &["--user", SECOND_OPEN_ID]].concat();
    exited(&session.run(&with_user).await, 0);
    let (_, stderr) = exited(
        &session
            .run(&[CREATE_FAQ, &["--user", "ou_nobody"]].concat())
            .await,
        2,
    );
    assert!(
        stderr.contains("ou_nobody") && stderr.contains("feishu-helpdesk login"),
        "{stderr}"
    );

    // A token given as is wins over the stored logins: no --user needed, and a wrong one is
    // the platform's refusal rather than a stored login's success.
    let faqs = |platform: &MockPlatform| {
        platform
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/open-apis/helpdesk/v1/faqs")
            .collect::<Vec<_>>()
    };
    let before = faqs(&platform).len();
    let given = [("FEISHU_USER_ACCESS_TOKEN", testing::USER_ACCESS_TOKEN)];
    let (stdout, stderr) = exited(&session.run_with(CREATE_FAQ, &given).await, 0);
    assert!(!format!("{stdout}{stderr}").contains(testing::USER_ACCESS_TOKEN));
    let sent = faqs(&platform);
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent.last().unwrap().header("authorization"), ["Bearer ***"]);
    assert_eq!(sent.last().unwrap().answered, 200);
    let wrong = [("FEISHU_USER_ACCESS_TOKEN", "u-given-wrong")];
    let (_, stderr) = exited(&session.run_with(&with_user, &wrong).await, 1);
    assert!(!stderr.contains("u-given-wrong"), "{stderr}");
    assert_eq!(platform.refresh_requests(), 0);

    let (stdout, _) = exited(&session.run(&["logout", "--user", SECOND_OPEN_ID]).await, 0);
    assert!(stdout.contains(SECOND_OPEN_ID), "{stdout}");
    exited(&session.run(CREATE_FAQ).await, 0);
    session.assert_no_secret_shown();
}

#[cfg(feature = "redis")]
#[tokio::test]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn logins_in_redis_are_refreshed_once_for_two_processes() {
    let redis_server = crate::support::redis_server::RedisServer::start();
    let platform = platform().await;
    let session = Session::with_redis(&platform, "redis", &redis_server.url);
    exited(&session.device_login(&platform, &[]).await, 0);
    let (stdout, _) = exited(&session.run(&["whoami", "--json"]).await, 0);
    assert_eq!(json_lines(&stdout)[0]["open_id"], DEFAULT_PERSON_OPEN_ID);
    let (stdout, _) = exited(&session.run(&["whoami"]).await, 0);
    assert!(stdout.contains(DEFAULT_PERSON_OPEN_ID), "{stdout}");

    session.expire(DEFAULT_PERSON_OPEN_ID).await;
    platform.push_for(
        "get_user_access_token",
        Scripted::Delay(Duration::from_millis(300)),
    );
    concurrent_calls(&session, 2, &[]).await;
    assert_eq!(platform.refresh_requests(), 1);
    assert_eq!(platform.refreshes_refused(), 0);
    // Nothing was written to the configuration folder.
    assert!(files_under(&session.config).is_empty());
    session.assert_no_secret_shown();
}

#[tokio::test]
async fn where_logins_are_kept_and_where_people_log_in() {
    let platform = platform().await;
    let mut session = Session::new(&platform, "places");
    session
        .env
        .retain(|(name, _)| *name != "FEISHU_HELPDESK_CONFIG_DIR");
    let (xdg, home) = (session.config.join("xdg"), session.config.join("home"));
    std::fs::create_dir_all(&home).unwrap();

    // Neither the configuration folder nor a home: nowhere to keep a login.
    let (_, stderr) = exited(&session.run(&["whoami"]).await, 2);
    assert!(stderr.contains("FEISHU_HELPDESK_CONFIG_DIR"), "{stderr}");

    // $HOME/.config/feishu-helpdesk.
    session.env.push(("HOME", home.to_str().unwrap().to_owned()));
    let in_home = home.join(".config/feishu-helpdesk/logins");
    session.store = Arc::new(FileLoginStore::new(&in_home));
    let (stdout, _) = exited(&session.device_login(&platform, &[]).await, 0);
    assert!(stdout.contains(in_home.to_str().unwrap()), "{stdout}");
    assert!(in_home
        .join(testing::APP_ID)
        .join(format!("{DEFAULT_PERSON_OPEN_ID}.json"))
        .is_file());
    exited(&session.run(&["whoami"]).await, 0);

    // $XDG_CONFIG_HOME/feishu-helpdesk comes first: the login in the home is not seen there.
    session
        .env
        .push(("XDG_CONFIG_HOME", xdg.to_str().unwrap().to_owned()));
    exited(&session.run(&["whoami"]).await, 2);
    let in_xdg = xdg.join("feishu-helpdesk/logins");
    session.store = Arc::new(FileLoginStore::new(&in_xdg));
    exited(&session.device_login(&platform, &[]).await, 0);
    assert!(in_xdg.join(testing::APP_ID).is_dir());
    exited(&session.run(CREATE_FAQ).await, 0);

    // The person declines the device login: refused, nothing more stored.
    let out = session
        .device_login_answered(&platform, &[], |platform, code| {
            assert!(platform.deny_device_login(code));
        })
        .await;
    let (_, stderr) = exited(&out, 1);
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(!stderr.contains("HTTP status: 0"), "{stderr}");

    // The accounts host, overridden: nobody listens there, so the login cannot start.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let (_, stderr) = exited(
        &session
            .run_with(&["login"], &[("FEISHU_ACCOUNTS_URL", &nowhere)])
            .await,
        3,
    );
    assert!(!stderr.is_empty());
    exited(&session.run(&["login", "--accounts-url", &nowhere]).await, 3);
    assert_eq!(platform.pending_device_logins(), Vec::<String>::new());
    session.assert_no_secret_shown();
}

#[tokio::test]
async fn a_token_the_platform_expired_early_is_refreshed_once_for_three_processes() {
    let platform = platform().await;
    let session = Session::new(&platform, "early");
    exited(&session.device_login(&platform, &[]).await, 0);
    // The stored login still looks fresh; the platform refuses its token all the same.
    platform.expire_user_tokens();
    platform.push_for(
        "get_user_access_token",
        Scripted::Delay(Duration::from_millis(300)),
    );
    concurrent_calls(&session, 3, &[]).await;
    assert_eq!(platform.refresh_requests(), 1);
    assert_eq!(platform.refreshes_refused(), 0);
    exited(&session.run(CREATE_FAQ).await, 0);
    assert_eq!(
        platform.refresh_requests(),
        1,
        "the refreshed login is used as is"
    );
    session.assert_no_secret_shown();
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn an_unreachable_redis_is_a_configuration_error_without_its_password() {
    let platform = platform().await;
    let mut session = Session::new(&platform, "redis-down");
    let url = format!("redis://:redis-pass-word@127.0.0.1:{}/", free_port());
    session.env.push(("FEISHU_REDIS_URL", url));
    // `login` too, before the person is asked to approve a login it could not keep.
    for command in [&["whoami"][..], &["logout"], CREATE_FAQ, &["login"]] {
        let out = tokio::time::timeout(Duration::from_secs(10), session.command(command, &[]).output())
            .await
            .unwrap_or_else(|_| panic!("{command:?} did not end"))
            .unwrap();
        let (_, stderr) = exited(&out, 2);
        assert!(!stderr.contains("redis-pass-word"), "{stderr}");
        assert!(!stderr.is_empty());
    }
    assert_eq!(platform.pending_device_logins(), Vec::<String>::new());
}
