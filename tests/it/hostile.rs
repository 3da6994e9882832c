//! Hostile input, property-tested: arbitrary credentials, event names, base URLs, response
//! bodies and header values. The builder and the calls either work or return a typed
//! error; nothing panics, and no secret shows in what they return.

use crate::support::faulty::RawServer;
use crate::support::*;
use feishu_helpdesk::{Client, Error, EventType};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Any string: printable, control, non-ASCII, empty.
fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[ -~]{0,40}",
        Just(String::new()),
        Just(":".to_owned()),
        Just("\r\n".to_owned()),
    ]
}

/// Whether `secret` could show in output only by leaking (it is long enough to be
/// distinctive and is not part of a value that is shown by design).
fn distinctive(secret: &str, shown_by_design: &[&str]) -> bool {
    secret.len() >= 8 && !shown_by_design.iter().any(|v| v.contains(secret))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_builder_never_panics_nor_leaks(
        token in any_string(),
        app_id in any_string(),
        app_secret in any_string(),
        helpdesk_id in any_string(),
        helpdesk_token in any_string(),
        base_url in prop_oneof![any_string(), "https?://[a-z0-9.:\\[\\]@/?#%-]{0,30}"],
        use_app in any::<bool>(),
    ) {
        let builder = Client::builder().helpdesk_credentials(helpdesk_id.clone(), helpdesk_token.clone()).base_url(base_url.clone());
        let builder = if use_app { builder.app_credentials(app_id.clone(), app_secret.clone()) } else { builder.tenant_access_token(token.clone()) };
        let shown = format!("{builder:?}");
        let outcome = match builder.build() {
            Ok(client) => format!("{client:?}"),
            Err(err @ Error::InvalidInput { .. }) => format!("{err} {err:?}"),
            Err(other) => panic!("a builder error that is not InvalidInput: {other:?}"),
        };
        let by_design = [app_id.as_str(), helpdesk_id.as_str(), base_url.as_str()];
        for secret in [&token, &app_secret, &helpdesk_token] {
            if distinctive(secret, &by_design) {
                prop_assert!(!shown.contains(secret.as_str()) && !outcome.contains(secret.as_str()));
            }
        }
    }
}

#[test]
fn arbitrary_event_names_are_sent_or_refused() {
    let rt = runtime();
    let stand_in = rt.block_on(StandIn::start());
    rt.block_on(stand_in.server.mock_async(|_, then| {
        then.status(200).body(r#"{"code":0,"msg":"success","data":{}}"#);
    }));
    let client = stand_in.client();
    proptest!(ProptestConfig::with_cases(64), |(event_type in any_string(), subtype in any_string())| {
        let events = [EventType::new(event_type.clone(), subtype.clone())];
        match rt.block_on(client.unsubscribe(&events)) {
            Ok(_) => prop_assert!(!event_type.is_empty() && !subtype.is_empty()),
            Err(Error::InvalidInput { field: "events", .. }) => prop_assert!(event_type.is_empty() || subtype.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    });
}

#[test]
fn arbitrary_answers_end_in_a_receipt_or_a_typed_error() {
    let rt = runtime();
    let server = rt.block_on(RawServer::start());
    let client = Client::builder()
        .tenant_access_token(TENANT_ACCESS_TOKEN)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(server.base_url.as_str())
        .timeout(std::time::Duration::from_secs(2))
        .max_retries(0)
        .build()
        .unwrap();
    let status = prop_oneof![
        Just(200u16),
        Just(400),
        Just(403),
        Just(429),
        Just(500),
        Just(502),
        100u16..=999
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        Just(br#"{"code":0,"msg":"success","data":{}}"#.to_vec()),
        "\\{\"code\":-?[0-9]{1,12},\"msg\":\".{0,8}\"\\}".prop_map(String::into_bytes),
    ];
    // Half valid header values (so that the body gets read), half arbitrary bytes.
    let header_value = prop_oneof![
        "[ -~]{0,40}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..64),
    ];
    proptest!(ProptestConfig::with_cases(128), |(status in status, body in body, header_value in header_value, raw in any::<bool>())| {
        let mut answer = format!("HTTP/1.1 {status} X\r\nx-tt-logid: ").into_bytes();
        answer.extend_from_slice(&header_value);
        if raw {
            // The body without any framing: the client reads until the connection closes.
            answer.extend_from_slice(b"\r\n\r\n");
        } else {
            answer.extend_from_slice(format!("\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
        }
        answer.extend_from_slice(&body);
        server.answer_with(answer);
        match rt.block_on(client.unsubscribe(&[EventType::TICKET_CREATED])) {
            Ok(receipt) => prop_assert_eq!(receipt.http_status, 200),
            Err(Error::Internal { message, .. }) => prop_assert!(false, "internal error: {}", message),
            Err(err) => {
                let shown = format!("{err} {err:?}");
                prop_assert!(!shown.contains(TENANT_ACCESS_TOKEN) && !shown.contains(HELPDESK_HEADER));
            }
        }
    });
}
