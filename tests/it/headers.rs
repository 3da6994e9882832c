//! The exact headers of a helpdesk request. The stand-in (the `testing` kit) refuses a
//! request whose credentials or content type differ by a byte, so a successful call proves
//! them; the recorded header names prove that nothing else was sent.

use feishu_helpdesk::testing::{MockCredentials, MockPlatform};
use feishu_helpdesk::{Client, EventType};

/// Every header a helpdesk request carries; anything else is stray.
/// No `User-Agent`: six headers keep reqwest's copy of them within glibc's per-thread cache
/// (see `http_client.rs`).
const EXPECTED_HEADERS: [&str; 6] = [
    "accept",
    "authorization",
    "content-length",
    "content-type",
    "host",
    "x-lark-helpdesk-authorization",
];

/// The reference page's example token, and a helpdesk whose header value was computed
/// independently: `printf '%s' '7180000000000000001:ht-example' | base64`.
fn reference_platform() -> MockCredentials {
    MockCredentials {
        tenant_access_token: Some("t-7f1bcd13fc57d46bac21793a18e560".into()),
        helpdesk_token: "ht-example".into(),
        ..MockCredentials::default()
    }
}

fn reference_client(platform: &MockPlatform) -> Client {
    Client::builder()
        .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(platform.base_url())
        .build()
        .unwrap()
}

fn header_names(request: &feishu_helpdesk::testing::RecordedRequest) -> Vec<&str> {
    let mut names: Vec<&str> = request.headers.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn both_operations_send_exactly_the_contract_headers() {
    let platform = MockPlatform::start_with(reference_platform()).await;
    let client = reference_client(&platform);

    let receipt = client
        .subscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();
    client
        .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();

    assert_eq!(receipt.log_id.as_deref(), Some(feishu_helpdesk::testing::LOG_ID));
    let requests = platform.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.answered, 200, "{request:?}");
        assert_eq!(header_names(request), EXPECTED_HEADERS, "{request:?}");
        assert_eq!(
            request.header("content-type"),
            ["application/json; charset=utf-8"]
        );
        assert_eq!(request.header("accept"), ["application/json"]);
    }
}

#[tokio::test]
async fn a_helpdesk_header_off_by_one_byte_is_refused() {
    let platform = MockPlatform::start_with(reference_platform()).await;
    let client = Client::builder()
        .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
        .helpdesk_credentials("7180000000000000001", "ht-examplf")
        .base_url(platform.base_url())
        .build()
        .unwrap();

    let err = client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap_err();

    assert_eq!((err.code(), err.http_status()), (Some(154003), Some(403)));
}

#[tokio::test]
async fn helpdesk_header_is_standard_padded_base64_of_id_colon_token() {
    // Literal values, computed independently of the library's encoder (and of the kit's,
    // which uses the same crate): `printf '%s' '6834:ht-?>~' | base64` is `NjgzNDpodC0/Pn4=`,
    // a value that padding and the URL-safe alphabet would both change.
    let server = httpmock::MockServer::start_async().await;
    let exact = server
        .mock_async(|when, then| {
            when.header("x-lark-helpdesk-authorization", "NjgzNDpodC0/Pn4=")
                .header("authorization", "Bearer t-7f1bcd13fc57d46bac21793a18e560");
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    let client = Client::builder()
        .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
        .helpdesk_credentials("6834", "ht-?>~")
        .base_url(server.base_url())
        .build()
        .unwrap();

    client.unsubscribe(&[EventType::TICKET_UPDATED]).await.unwrap();

    exact.assert_async().await;
}

#[tokio::test]
async fn clones_share_the_credentials_and_base_url() {
    let platform = MockPlatform::start_with(reference_platform()).await;
    let client = reference_client(&platform);
    let clone = client.clone();
    drop(client);

    let handle = tokio::spawn(async move { clone.unsubscribe(&[EventType::TICKET_MESSAGE_CREATED]).await });
    handle.await.unwrap().unwrap();

    assert_eq!(platform.requests().len(), 1);
}

#[tokio::test]
async fn generated_builders_carry_the_same_headers() {
    use feishu_helpdesk::generated::types;
    use feishu_helpdesk::prelude::*;

    let platform = MockPlatform::start_with(reference_platform()).await;
    let client = reference_client(&platform);
    let body = types::EventsRequest {
        events: vec![types::Event {
            type_: "helpdesk.ticket".try_into().unwrap(),
            subtype: "ticket.updated_v1".try_into().unwrap(),
        }],
    };

    let data = client.api().subscribe_events().body(body).send().await.unwrap();

    assert!(data.is_empty(), "{data:?}");
    assert_eq!(header_names(&platform.requests()[0]), EXPECTED_HEADERS);
    platform.assert_subscribed(&[EventType::TICKET_UPDATED]);
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<feishu_helpdesk::Client>();
}

#[tokio::test]
async fn a_base_url_with_a_path_prefixes_every_operation() {
    // A proxy that serves the platform under `/feishu/`.
    let server = httpmock::MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST)
                .path("/feishu/open-apis/auth/v3/tenant_access_token/internal");
            then.status(200)
                .body(r#"{"code":0,"msg":"ok","tenant_access_token":"t-abc","expire":7200}"#);
        })
        .await;
    let unsubscribe = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST)
                .path("/feishu/open-apis/helpdesk/v1/events/unsubscribe")
                .header("authorization", "Bearer t-abc");
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    let client = Client::builder()
        .app_credentials("cli_a1b2c3d4e5f6a7b8", "dskLLdkasdjlasdKK")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(format!("{}/feishu/", server.base_url()))
        .build()
        .unwrap();

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    token.assert_async().await;
    unsubscribe.assert_async().await;
}
