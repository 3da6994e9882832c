//! No secret ever shows in `Debug`, `Display` or an error.

use std::time::Duration;

use crate::support::*;
use feishu_helpdesk::{Client, Error, Event};

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

fn error_forms(err: &Error) -> String {
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
        errors.push(client.unsubscribe(&[Event::TICKET_CREATED]).await.unwrap_err());
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
    errors.push(impatient.unsubscribe(&[Event::TICKET_CREATED]).await.unwrap_err());
    slow.delete_async().await;

    let unreachable = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(unreachable_base_url())
        .build()
        .unwrap();
    errors.push(
        unreachable
            .unsubscribe(&[Event::TICKET_CREATED])
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

    client.unsubscribe(&[Event::TICKET_CREATED]).await.unwrap();

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
