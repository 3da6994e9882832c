//! A person's login, refreshed, failing for now and for good, with every tracing event
//! captured: the log says what happened and names the person, never a token or secret.
//!
//! In the `traced` binary: it captures all tracing output, which a concurrent test without
//! a subscriber could hide (callsite interest is cached process-wide).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::generated::types;
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{self, MockCredentials, MockPlatform, Scripted, DEFAULT_PERSON_OPEN_ID};
use feishu_helpdesk::{Client, LoginKey, LoginStore, MemoryLoginStore};

use crate::support::Captured;

async fn expire_stored_token(store: &dyn LoginStore, key: &LoginKey) {
    let mut login = store.load(key).await.unwrap().unwrap();
    let read = login.revision;
    login.access_token_expires_at_ms =
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    login.revision += 1;
    assert!(store
        .compare_and_swap(key, Some(read), Some(&login))
        .await
        .unwrap());
}

async fn create_faq(client: &Client) -> Result<types::CreateFaqData, feishu_helpdesk::Error> {
    client
        .api()
        .create_faq()
        .body(types::CreateFaqRequest { faq: None })
        .send()
        .await
}

#[tokio::test]
async fn the_login_log_names_the_person_and_never_a_token() {
    let captured = Captured::default();
    let _guard = captured.install();
    let platform = MockPlatform::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await;
    let store = Arc::new(MemoryLoginStore::default());
    let client = platform
        .client_builder()
        .login_store(store.clone())
        .build()
        .unwrap();
    let key = LoginKey::new(testing::APP_ID, DEFAULT_PERSON_OPEN_ID).unwrap();

    let pending = client.logins().unwrap().device_login().await.unwrap();
    let finished = tokio::spawn(pending.finish());
    while platform.approve_device_logins() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    finished.await.unwrap().unwrap();
    let mut secrets = vec![testing::APP_SECRET.to_owned()];
    let mut remember = |login: serde_json::Value| {
        for field in ["access_token", "refresh_token"] {
            secrets.push(login[field].as_str().unwrap().to_owned());
        }
    };
    remember(serde_json::to_value(store.load(&key).await.unwrap()).unwrap());

    // A transient refresh failure, retried, then the refresh: a second client reads the
    // aged login (the first keeps the token it has).
    expire_stored_token(store.as_ref(), &key).await;
    platform.push_for(
        "get_user_access_token",
        Scripted::Error {
            http_status: 503,
            code: 20072,
            msg: "temporarily unavailable".into(),
        },
    );
    let second = platform
        .client_builder()
        .login_store(store.clone())
        .build()
        .unwrap();
    create_faq(&second.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap();
    remember(serde_json::to_value(store.load(&key).await.unwrap()).unwrap());

    // The refresh token revoked: the login ends.
    expire_stored_token(store.as_ref(), &key).await;
    platform.revoke_refresh_tokens();
    let third = platform
        .client_builder()
        .login_store(store.clone())
        .build()
        .unwrap();
    create_faq(&third.for_user(DEFAULT_PERSON_OPEN_ID).unwrap())
        .await
        .unwrap_err();

    let log = captured.text();
    assert!(log.contains("logged in"), "{log}");
    assert!(
        log.contains("trying again"),
        "the transient failure is logged: {log}"
    );
    assert!(log.contains("log in again"), "the final failure is logged: {log}");
    assert!(log.contains(DEFAULT_PERSON_OPEN_ID), "the person is named: {log}");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "the log shows a secret");
    }
}
