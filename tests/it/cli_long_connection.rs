//! `feishu-helpdesk listen --long-connection`, run for real against the kit's stand-in of the
//! long connection: events printed as `listen` prints them, with the app credentials only;
//! exit 2 when the platform refuses the app, 3 when the connection cannot be restored.

use std::process::{Command, Stdio};
use std::time::Duration;

use feishu_helpdesk::testing::{self, ClientConfig, HandshakeRefusal, MockPlatform, PushEvent};

use super::cli::{run, text, BIN};

#[tokio::test]
async fn events_are_printed_as_json_lines_and_sigterm_stops_it() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut child = Command::new(BIN)
        .args(["listen", "--long-connection"])
        .env_clear()
        .env("FEISHU_BASE_URL", platform.base_url())
        .env("FEISHU_APP_ID", testing::APP_ID)
        .env("FEISHU_APP_SECRET", testing::APP_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    assert!(stand_in.wait_for_live(1, Duration::from_secs(10)).await);

    let event = PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "42"}),
    );
    assert!(stand_in.push(&event).await.delivered);
    // A duplicate is acknowledged and not printed.
    assert_eq!(stand_in.push_once(&event).await.code, Some(200));

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = log.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(
        !log.contains(testing::APP_SECRET) && !log.contains("access_key") && !log.contains("ticket="),
        "{log}"
    );
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event_id"], event.event_id.as_str());
    assert_eq!(lines[0]["event_type"], "helpdesk.ticket.created_v1");
    assert_eq!(lines[0]["event"]["ticket_id"], "42");
    assert!(
        stand_in
            .wait_until(Duration::from_secs(5), |s| !s.closes().is_empty())
            .await,
        "the socket was closed with a close frame"
    );
}

#[tokio::test]
async fn refused_credentials_exit_2_and_a_connection_not_restored_exits_3() {
    let platform = MockPlatform::start().await;
    let base_url = platform.base_url().to_owned();
    let out = run(
        &["listen", "--long-connection"],
        &[
            ("FEISHU_BASE_URL", base_url.as_str()),
            ("FEISHU_APP_ID", testing::APP_ID),
            ("FEISHU_APP_SECRET", "not-the-secret"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("refused"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("not-the-secret"));

    // The platform allows no reconnect: once the connection is lost, the command gives up.
    let stand_in = platform.long_connection();
    stand_in.set_client_config(ClientConfig {
        reconnect_count: 0,
        reconnect_interval: 1,
        reconnect_nonce: 0,
        ping_interval: 120,
    });
    let listening = tokio::spawn(async move {
        run(
            &["listen", "--long-connection"],
            &[
                ("FEISHU_BASE_URL", base_url.as_str()),
                ("FEISHU_APP_ID", testing::APP_ID),
                ("FEISHU_APP_SECRET", testing::APP_SECRET),
            ],
        )
        .await
    });
    assert!(stand_in.wait_for_live(1, Duration::from_secs(10)).await);
    stand_in.refuse_handshakes(HandshakeRefusal::AuthFailed, 10);
    stand_in.drop_connections();
    let out = tokio::time::timeout(Duration::from_secs(10), listening)
        .await
        .expect("the command ended")
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not restored"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_app_credentials_are_required() {
    let out = run(
        &["listen", "--long-connection"],
        &[("FEISHU_APP_ID", testing::APP_ID)],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("FEISHU_APP_SECRET"),
        "{}",
        text(&out.stderr)
    );
}
