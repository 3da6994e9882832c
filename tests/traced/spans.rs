//! One span per call, with what happened, and nothing secret in any log line.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use feishu_helpdesk::{Client, EventType};
use httpmock::HttpMockResponse;

const ISSUED_TOKEN: &str = "t-issued0123456789abcdef";

#[tokio::test]
async fn a_call_has_one_span_with_its_outcome_and_no_secret() {
    let captured = Captured::default();
    let _guard = captured.install();

    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.path("/open-apis/auth/v3/tenant_access_token/internal");
            then.status(200).body(format!(
                r#"{{"code":0,"msg":"ok","tenant_access_token":"{ISSUED_TOKEN}","expire":7200}}"#
            ));
        })
        .await;
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    stand_in
        .server
        .mock_async(move |when, then| {
            when.path(UNSUBSCRIBE_PATH);
            then.respond_with(move |_| {
                let mut n = counter.lock().unwrap();
                *n += 1;
                let builder = HttpMockResponse::builder().header("x-tt-logid", LOG_ID);
                if *n == 1 {
                    builder.status(502).body("<html>Bad Gateway</html>").build()
                } else {
                    builder
                        .status(200)
                        .body(r#"{"code":0,"msg":"success","data":{}}"#)
                        .build()
                }
            });
        })
        .await;
    let client = Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .initial_backoff(Duration::from_millis(1))
        .build()
        .unwrap();

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    let _ = client.subscribe(&[]).await;

    let text = captured.text();
    let last = text
        .lines()
        .rev()
        .find(|line| line.contains("call succeeded"))
        .expect("a closing event");
    for field in [
        "feishu_helpdesk.call{",
        "operation=\"unsubscribe_events\"",
        "attempt=2",
        "http_status=502",
        "http_status=200",
        "code=0",
        &format!("log_id=\"{LOG_ID}\""),
        "elapsed_ms=",
    ] {
        assert!(last.contains(field), "{field} missing from {last}");
    }
    assert!(text.contains("retrying"), "{text}");
    for secret in [
        APP_SECRET,
        ISSUED_TOKEN,
        HELPDESK_TOKEN,
        HELPDESK_HEADER,
        "aXNzdWVk",
    ] {
        assert!(!text.contains(secret), "the log shows {secret}:\n{text}");
    }
}
