//! Unsubscribes from the "ticket message created" helpdesk event.
//!
//! With no credentials in the environment it starts a local stand-in for the platform
//! that checks headers and body exactly as the reference page says, and calls it through
//! the real client. With `FEISHU_TENANT_ACCESS_TOKEN`, `FEISHU_HELPDESK_ID` and
//! `FEISHU_HELPDESK_TOKEN` set (and optionally `FEISHU_BASE_URL`, for example
//! `https://open.larksuite.com` for Lark) it calls the real platform.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use feishu_helpdesk::{Client, Event};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events = [Event::TICKET_MESSAGE_CREATED];
    match real_platform_credentials() {
        Some((token, helpdesk_id, helpdesk_token, base_url)) => {
            let client = Client::builder()
                .tenant_access_token(token)
                .helpdesk_credentials(helpdesk_id, helpdesk_token)
                .base_url(base_url)
                .build()?;
            println!("Calling the platform: {client:?}");
            report(client.unsubscribe(&events).await)
        }
        None => {
            let stand_in = support::StandIn::start().await;
            let mock = stand_in
                .expect_events(
                    support::UNSUBSCRIBE_PATH,
                    serde_json::json!([{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}]),
                )
                .await;
            println!(
                "No FEISHU_* credentials set: calling a local stand-in at {}",
                stand_in.base_url()
            );
            let client = stand_in.client();
            println!("Client: {client:?}");
            let result = client.unsubscribe(&events).await;
            for request in stand_in.received() {
                println!("\nThe stand-in received (secrets masked):");
                println!("  {} {}", request.method, request.path);
                for (name, value) in &request.headers {
                    println!("  {name}: {}", masked(name, value));
                }
                println!("  body: {}", request.body);
            }
            let outcome = report(result);
            mock.assert_calls_async(1).await;
            outcome
        }
    }
}

fn real_platform_credentials() -> Option<(String, String, String, String)> {
    let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    Some((
        var("FEISHU_TENANT_ACCESS_TOKEN")?,
        var("FEISHU_HELPDESK_ID")?,
        var("FEISHU_HELPDESK_TOKEN")?,
        var("FEISHU_BASE_URL").unwrap_or_else(|| feishu_helpdesk::FEISHU_BASE_URL.to_owned()),
    ))
}

fn masked(name: &str, value: &str) -> String {
    match name {
        "authorization" => format!("Bearer *** ({} bytes)", value.len()),
        feishu_helpdesk::HELPDESK_AUTHORIZATION => {
            format!(
                "*** (base64 of helpdesk_id:helpdesk_token, {} bytes)",
                value.len()
            )
        }
        _ => value.to_owned(),
    }
}

fn report(
    result: Result<feishu_helpdesk::Receipt, feishu_helpdesk::Error>,
) -> Result<(), Box<dyn std::error::Error>> {
    match result {
        Ok(receipt) => {
            println!(
                "\nUnsubscribed: code 0, log id {}",
                receipt.log_id.as_deref().unwrap_or("(none)")
            );
            Ok(())
        }
        Err(err) => {
            println!(
                "\nFailed: {err} (code {:?}, HTTP {:?}, log id {:?}, retryable: {})",
                err.code(),
                err.http_status(),
                err.log_id(),
                err.is_retryable()
            );
            Err(err.into())
        }
    }
}
