//! HTTPS by default, plain HTTP only to loopback unless allowed, certificate validation
//! never turned off, and no redirect that could carry the credentials elsewhere.

use crate::support::*;
use feishu_helpdesk::{Client, EventType};

fn builder() -> feishu_helpdesk::ClientBuilder {
    Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
}

#[test]
fn https_is_the_default_and_plain_http_needs_loopback_or_consent() {
    assert!(builder().build().unwrap().base_url().starts_with("https://"));
    assert!(builder().base_url("http://open.feishu.cn").build().is_err());
    assert!(builder().base_url("http://10.0.0.1").build().is_err());
    assert!(builder().base_url("http://127.0.0.1:1").build().is_ok());
    assert!(builder()
        .base_url("http://10.0.0.1")
        .allow_insecure_http(true)
        .build()
        .is_ok());
}

#[test]
fn the_library_never_turns_certificate_validation_off() {
    for (_, path, text) in crate::support::source_files() {
        for forbidden in [
            "danger_accept_invalid_certs",
            "danger_accept_invalid_hostnames",
            "tls_danger",
        ] {
            assert!(!text.contains(forbidden), "{} uses {forbidden}", path.display());
        }
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_carries_no_credentials() {
    let stand_in = StandIn::start().await;
    let elsewhere = StandIn::start().await;
    // The other host answers anything, and counts what carries a credential.
    let with_credentials = elsewhere
        .server
        .mock_async(|when, then| {
            when.is_true(|req| {
                let headers = req.headers();
                headers.contains_key("authorization") || headers.contains_key("x-lark-helpdesk-authorization")
            });
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    let any = elsewhere
        .server
        .mock_async(|_, then| {
            then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
        })
        .await;
    for status in [301, 302, 303, 307, 308] {
        let location = format!(
            "{}{UNSUBSCRIBE_PATH}",
            elsewhere.base_url().replace("127.0.0.1", "localhost")
        );
        let redirect = stand_in
            .server
            .mock_async(|_, then| {
                then.status(status).header("location", location);
            })
            .await;

        let err = stand_in
            .client()
            .unsubscribe(&[EventType::TICKET_CREATED])
            .await
            .unwrap_err();

        assert_eq!(err.http_status(), Some(status));
        assert!(!err.is_retryable());
        redirect.delete_async().await;
    }
    assert_eq!(with_credentials.calls_async().await, 0);
    assert_eq!(any.calls_async().await, 0);
}

/// Under the default features reqwest brings no crypto provider: the client's TLS is the
/// crate's own (rustls with ring). It must still speak TLS, name the host, and offer HTTP/2
/// and HTTP/1.1 as reqwest's own set-up does.
#[tokio::test]
async fn the_client_speaks_tls_naming_the_host_and_offering_h2_and_http1() {
    use tokio::io::AsyncReadExt as _;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hello = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut hello = vec![0u8; 4096];
        let read = socket.read(&mut hello).await.unwrap();
        hello.truncate(read);
        hello
    });
    let client = builder()
        .base_url(format!("https://localhost:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = client
        .unsubscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap_err();
    let hello = hello.await.unwrap();
    let has = |needle: &[u8]| hello.windows(needle.len()).any(|w| w == needle);
    assert_eq!(hello.first(), Some(&0x16), "not a TLS handshake: {hello:?}");
    assert!(has(b"localhost"), "no server name");
    assert!(has(b"\x02h2\x08http/1.1"), "ALPN does not offer h2 then http/1.1");
    assert!(matches!(err, feishu_helpdesk::Error::Transport { .. }), "{err:?}");
}

#[test]
fn a_client_of_the_user_s_own_starts_from_the_crate_s_tls() {
    let http = feishu_helpdesk::http_client_builder().unwrap().build().unwrap();
    assert!(builder().http_client(http).build().is_ok());
}
