//! The `feishu-helpdesk` binary (feature `cli`), run for real against the testing kit: every
//! command, every exit code, a missing variable, and `listen` fed by the kit's pusher.

use std::process::{Command, Output, Stdio};

use feishu_helpdesk::testing::{self, EventPusher, MockPlatform, PushEvent};
use feishu_helpdesk::EventType;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_feishu-helpdesk");

/// Runs the binary with only the given environment (off the runtime, which serves the kit).
pub(crate) async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

pub(crate) fn app_env(platform: &MockPlatform) -> Vec<(&'static str, String)> {
    vec![
        ("FEISHU_BASE_URL", platform.base_url().to_owned()),
        ("FEISHU_APP_ID", testing::APP_ID.to_owned()),
        ("FEISHU_APP_SECRET", testing::APP_SECRET.to_owned()),
        ("FEISHU_HELPDESK_ID", testing::HELPDESK_ID.to_owned()),
        ("FEISHU_HELPDESK_TOKEN", testing::HELPDESK_TOKEN.to_owned()),
    ]
}

pub(crate) fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn subscribe_and_unsubscribe_by_any_name_then_the_defaults() {
    let platform = MockPlatform::start().await;
    let env = app_env(&platform);
    let out = run(
        &[
            "subscribe",
            "helpdesk.ticket/ticket.created_v1",
            "helpdesk.ticket.updated_v1",
            "ticket_message.created_v1",
        ],
        &borrowed(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("subscribed helpdesk.ticket_message/ticket_message.created_v1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("log id: {}", testing::LOG_ID)),
        "{stdout}"
    );
    platform.assert_subscribed(&[
        EventType::TICKET_CREATED,
        EventType::TICKET_UPDATED,
        EventType::TICKET_MESSAGE_CREATED,
    ]);

    let out = run(&["unsubscribe", "ticket.updated_v1", "--json"], &borrowed(&env)).await;
    assert_eq!(out.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["result"], "unsubscribed");
    assert_eq!(answer["events"][0]["subtype"], "ticket.updated_v1");
    platform.assert_subscribed(&[EventType::TICKET_CREATED, EventType::TICKET_MESSAGE_CREATED]);

    // No event named: the three ticket events.
    assert_eq!(
        run(&["unsubscribe"], &borrowed(&env)).await.status.code(),
        Some(0)
    );
    platform.assert_subscribed(&[]);
}

#[tokio::test]
async fn events_and_check_print_no_secret() {
    let out = run(&["events"], &[]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 4);
    assert!(text(&out.stdout).contains("helpdesk.notification/notification.approve_v1"));

    let platform = MockPlatform::start().await;
    let env = app_env(&platform);
    let out = run(&["check", "--json"], &borrowed(&env)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["app_id"], testing::APP_ID);
    assert!(answer["token_seconds_left"].as_u64().unwrap() > 7000);
    assert_eq!(answer["base_url"], platform.base_url());
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !all.contains(testing::APP_SECRET) && !all.contains("t-mock"),
        "{all}"
    );
    assert_eq!(platform.token_fetches(), 1);
    assert_eq!(
        platform.requests().len(),
        1,
        "check calls nothing but the token endpoint"
    );
}

#[tokio::test]
async fn exit_codes_say_who_failed() {
    let platform = MockPlatform::start().await;
    // 1: the platform refused (a wrong helpdesk token: 403, code 154003).
    let mut env = app_env(&platform);
    env[4].1 = "ht-wrong".into();
    let out = run(&["subscribe"], &borrowed(&env)).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for expected in ["HTTP status: 403", "code: 154003", testing::LOG_ID] {
        assert!(stderr.contains(expected), "{expected} missing from {stderr}");
    }
    assert!(!stderr.contains("ht-wrong"), "{stderr}");

    // 2: a missing variable, a bad event name, an unknown flag.
    let env = app_env(&platform);
    let without_token: Vec<_> = borrowed(&env)
        .into_iter()
        .filter(|(k, _)| *k != "FEISHU_HELPDESK_TOKEN")
        .collect();
    let out = run(&["subscribe"], &without_token).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("FEISHU_HELPDESK_TOKEN is not set"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        run(&["subscribe", "nonsense"], &borrowed(&env))
            .await
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["subscribe", "--no-such-flag"], &borrowed(&env))
            .await
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["listen"], &[]).await.status.code(),
        Some(2),
        "no verification token"
    );

    // 3: nobody listening, after retries.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{port}");
    let out = run(&["subscribe", "--base-url", &unreachable], &borrowed(&env)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[tokio::test]
async fn listen_prints_each_event_as_a_json_line_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["listen", "--addr", "127.0.0.1:0", "--path", "/events"])
        .env_clear()
        .env("FEISHU_VERIFICATION_TOKEN", "v-cli-token")
        .env("FEISHU_ENCRYPT_KEY", "cli-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut stderr = std::io::BufReader::new(stderr);
    let url = tokio::task::spawn_blocking(move || {
        use std::io::BufRead as _;
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").expect(&line).to_owned();
        // Keep draining stderr (the refusal's warning goes there) until the process ends.
        let drain = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        (url, drain)
    })
    .await
    .unwrap();
    let (url, stderr) = url;

    let pusher = EventPusher::new("v-cli-token").encrypt_key("cli-key");
    let event = PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "42"}),
    );
    assert!(pusher.deliver(&url, &event).await.delivered);
    // A duplicate is acknowledged and not printed; a forged push is refused.
    assert_eq!(
        pusher.push_once(&url, &event, testing::Fault::None).await.status,
        Some(200)
    );
    assert_eq!(
        pusher
            .push_once(&url, &event.renewed(), testing::Fault::WrongToken)
            .await
            .status,
        Some(401)
    );

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = stderr.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains("refused a push") && log.contains("stopped"), "{log}");
    assert!(!log.contains("cli-key") && !log.contains("v-cli-token"), "{log}");
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event_id"], event.event_id.as_str());
    assert_eq!(lines[0]["event_type"], "helpdesk.ticket.created_v1");
    assert_eq!(lines[0]["tenant_key"], "736588c9260f175d");
    assert_eq!(lines[0]["event"]["ticket_id"], "42");
    assert!(lines[0]["create_time"].as_i64().unwrap() > 1_700_000_000_000);
}

/// The binary (and `feishu-helpdesk mock`, the same program) allocates with mimalloc, which
/// says so on stderr when `MIMALLOC_VERBOSE` asks it to; glibc's malloc would say nothing.
#[tokio::test]
async fn the_binary_allocates_with_mimalloc() {
    let out = run(&["--version"], &[("MIMALLOC_VERBOSE", "1")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("mimalloc: process init"), "{stderr}");
    // Without the variable, nothing of the allocator's reaches the terminal.
    let quiet = run(&["--version"], &[]).await;
    assert!(
        !text(&quiet.stderr).contains("mimalloc"),
        "{}",
        text(&quiet.stderr)
    );
}
