//! The long connection's tracing: a span per connection (its id, the reconnect count), a
//! warning with the reason for each reconnect, a span per event; never the app secret or the
//! connection's key and ticket (the WebSocket URL's query).

use std::time::Duration;

use feishu_helpdesk::events::{HelpdeskEvent, LongConnection};
use feishu_helpdesk::testing::{self, MockPlatform, PushEvent};

use crate::support::Captured;

#[tokio::test]
async fn connects_reconnects_and_events_are_traced_without_secrets() {
    let captured = Captured::default();
    let _guard = captured.install();
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = std::sync::Arc::new(
        LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .reconnect_jitter(Duration::from_millis(10))
            .build()
            .unwrap(),
    );
    let run = tokio::spawn({
        let connection = std::sync::Arc::clone(&connection);
        async move {
            connection
                .run(|_event: HelpdeskEvent| async { Ok::<(), String>(()) })
                .await
        }
    });
    assert!(stand_in.wait_for_live(1, Duration::from_secs(5)).await);
    let event = PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "7"}),
    );
    assert!(stand_in.push(&event).await.delivered);
    stand_in.drop_connections();
    assert!(
        stand_in
            .wait_until(Duration::from_secs(5), |s| s.handshakes() == 2
                && s.live_connections().len() == 1)
            .await
    );
    // Delivered: the client holds the new connection.
    assert!(stand_in.push(&event.renewed()).await.delivered);
    connection.shutdown_handle().shutdown();
    run.await.unwrap().unwrap();

    let text = captured.text();
    for expected in [
        "long_connection.connect{reconnect=0 device_id=",
        "long_connection.connect{reconnect=1 device_id=",
        "connected",
        "the long connection is down; reconnecting",
        "reconnecting reason=the long connection failed: ",
        "long_connection.event{message_id=",
        "acknowledged",
        "code=200",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    for secret in [testing::APP_SECRET, "access_key", "ticket="] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
}
