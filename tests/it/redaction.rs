//! No secret ever shows in `Debug`, `Display` or an error.

use std::time::Duration;

use crate::support::*;
use feishu_helpdesk::{Client, EventType};

/// Every form in which a secret could leak.
fn secrets() -> [&'static str; 5] {
    [
        TENANT_ACCESS_TOKEN,
        APP_SECRET,
        "7f1bcd13fc57d46bac21793a18e560", // the token without its prefix
        HELPDESK_TOKEN,
        HELPDESK_HEADER,
    ]
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in secrets() {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

fn all_forms(value: &(impl std::fmt::Debug + ?Sized)) -> String {
    format!("{value:?}\n{value:#?}")
}

fn error_forms(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{err}\n{err:#}\n{err:?}\n{err:#?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    text
}

#[test]
fn builder_and_client_debug_hide_every_secret() {
    let builder = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN);
    assert_no_secret("ClientBuilder", &all_forms(&builder));

    let client = builder.build().unwrap();
    let shown = all_forms(&client);
    assert_no_secret("Client", &shown);
    assert!(
        shown.contains(HELPDESK_ID) && shown.contains("open.feishu.cn"),
        "{shown}"
    );
    assert_no_secret("generated Client", &all_forms(client.api()));
}

#[tokio::test]
async fn errors_of_every_kind_hide_every_secret() {
    let stand_in = StandIn::start().await;
    let client = stand_in.client();
    let mut errors = Vec::new();

    for (status, body) in [
        (400, r#"{"code":154000,"msg":"Bad request"}"#),
        (200, r#"{"code":99991663,"msg":"Invalid access token"}"#),
        (502, "<html>Bad Gateway</html>"),
        (500, "not json"),
    ] {
        let mock = stand_in
            .answer(UNSUBSCRIBE_PATH, status, "text/plain", body)
            .await;
        errors.push(
            client
                .unsubscribe(&[EventType::TICKET_CREATED])
                .await
                .unwrap_err(),
        );
        mock.delete_async().await;
    }
    errors.push(client.unsubscribe(&[]).await.unwrap_err());

    let slow = stand_in
        .server
        .mock_async(|_, then| {
            then.status(200).delay(Duration::from_secs(3));
        })
        .await;
    let impatient = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    errors.push(
        impatient
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap_err(),
    );
    slow.delete_async().await;

    let unreachable = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(unreachable_base_url())
        .build()
        .unwrap();
    errors.push(
        unreachable
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap_err(),
    );

    for token in ["t-bad token", "t-\r\nx"] {
        errors.push(
            Client::builder()
                .tenant_access_token(token)
                .helpdesk_credentials("1", "h")
                .build()
                .unwrap_err(),
        );
    }
    errors.push(
        Client::builder()
            .tenant_access_token(TENANT_ACCESS_TOKEN)
            .helpdesk_credentials("71:80", HELPDESK_TOKEN)
            .build()
            .unwrap_err(),
    );

    assert_eq!(errors.len(), 10);
    for err in &errors {
        assert_no_secret("an error", &error_forms(err));
        assert!(!error_forms(err).contains("t-bad"), "{err:?}");
    }
}

#[tokio::test]
async fn a_client_holding_a_fetched_token_hides_it() {
    use feishu_helpdesk::testing::{self, MockPlatform};

    let platform = MockPlatform::start().await;
    let builder = platform.client_builder();
    let client = builder.clone().build().unwrap();

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    let shown = format!(
        "{}\n{}\n{:?}",
        all_forms(&builder),
        all_forms(&client),
        platform.requests()
    );
    // The stand-in issues `t-mock-1`; the secrets are the kit's.
    for secret in [
        "t-mock-1",
        testing::APP_SECRET,
        testing::HELPDESK_TOKEN,
        "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1tb2Nr",
    ] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    assert!(
        shown.contains(testing::APP_ID) && shown.contains("tokens: 1"),
        "{shown}"
    );
}

#[cfg(feature = "long-connection")]
#[tokio::test]
async fn long_connection_errors_of_every_kind_hide_every_secret() {
    use feishu_helpdesk::events::{LongConnection, LongConnectionBuilder, LongConnectionError};
    use feishu_helpdesk::testing::{self, EndpointFault, HandshakeRefusal, MockPlatform};

    fn builder(base_url: &str, (app_id, app_secret): (&str, &str)) -> LongConnectionBuilder {
        LongConnection::builder()
            .app_credentials(app_id, app_secret)
            .base_url(base_url)
            .reconnect_count(Some(0))
            .connect_timeout(Duration::from_millis(500))
    }
    async fn ended(builder: LongConnectionBuilder) -> LongConnectionError {
        let connection = builder.build().unwrap();
        tokio::time::timeout(
            Duration::from_secs(5),
            connection.run(|_| async { Ok::<(), String>(()) }),
        )
        .await
        .expect("run ends")
        .unwrap_err()
    }

    let mut errors = Vec::new();
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    // Refused by the endpoint; by the handshake; a connection that failed and is not restored.
    stand_in.fail_endpoint(EndpointFault::BadCredentials, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::Banned, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::ServerError, 1);
    for _ in 0..3 {
        errors.push(
            ended(builder(
                platform.base_url(),
                (testing::APP_ID, testing::APP_SECRET),
            ))
            .await,
        );
    }
    // The endpoint unreachable: the call's transport error.
    errors.push(ended(builder(&unreachable_base_url(), (APP_ID, APP_SECRET))).await);
    // A socket that cannot be opened, to a URL whose query holds the connection's credentials;
    // and a URL the settings refuse.
    let stand_in = StandIn::start().await;
    for url in [
        format!(
            "{}/ws?access_key=secret-key&ticket=secret-ticket",
            unreachable_base_url()
        ),
        "ws://example.com/ws?access_key=secret-key&ticket=secret-ticket".to_owned(),
    ] {
        let url = url.replace("http://", "ws://");
        let endpoint = stand_in
            .server
            .mock_async(|when, then| {
                when.path("/callback/ws/endpoint");
                then.status(200)
                    .json_body(serde_json::json!({"code": 0, "data": {"URL": url}}));
            })
            .await;
        errors.push(ended(builder(&stand_in.base_url(), (APP_ID, APP_SECRET))).await);
        endpoint.delete_async().await;
    }

    let kinds: Vec<&str> = errors
        .iter()
        .map(|err| match err {
            LongConnectionError::Refused { .. } => "refused",
            LongConnectionError::ReconnectsExhausted { last, .. } => match **last {
                LongConnectionError::Failed { .. } => "failed",
                LongConnectionError::Call { .. } => "call",
                _ => "other",
            },
            LongConnectionError::Call { .. } => "settings",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["refused", "refused", "failed", "call", "failed", "settings"],
        "{errors:?}"
    );
    for err in &errors {
        let shown = error_forms(err);
        assert_no_secret("a long connection error", &shown);
        for secret in [testing::APP_SECRET, "secret-key", "secret-ticket"] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
    }
}
