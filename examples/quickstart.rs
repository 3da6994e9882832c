//! Unsubscribes from the "ticket message created" helpdesk event.
//!
//! With no credentials in the environment it starts a local stand-in for the platform
//! that checks headers and bodies exactly as the reference pages say, and calls it through
//! the real client, which obtains its tenant access token from app credentials. With
//! `FEISHU_APP_ID` and `FEISHU_APP_SECRET` (or a ready `FEISHU_TENANT_ACCESS_TOKEN`),
//! `FEISHU_HELPDESK_ID` and `FEISHU_HELPDESK_TOKEN` set (and optionally `FEISHU_BASE_URL`,
//! for example `https://open.larksuite.com` for Lark) it calls the real platform.
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
    if let Some(builder) = real_platform()? {
        let client = builder.build()?;
        println!("Calling the platform: {client:?}");
        return report(client.unsubscribe(&events).await);
    }

    let stand_in = support::StandIn::start().await;
    let tokens = stand_in.serve_tokens().await;
    let helpdesk = stand_in
        .expect_events(
            support::UNSUBSCRIBE_PATH,
            serde_json::json!([{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}]),
        )
        .await;
    println!(
        "No FEISHU_* credentials set: calling a local stand-in at {}",
        stand_in.base_url()
    );
    // The app-credential flow: the client obtains the tenant access token itself.
    let client = Client::builder()
        .app_credentials(support::APP_ID, support::APP_SECRET)
        .helpdesk_credentials(support::HELPDESK_ID, support::HELPDESK_TOKEN)
        .base_url(stand_in.base_url())
        .build()?;
    println!("Client: {client:?}");
    let result = client.unsubscribe(&events).await;
    for request in stand_in.received() {
        println!("\nThe stand-in received (secrets masked):");
        println!("  {} {}", request.method, request.path);
        for (name, value) in &request.headers {
            println!("  {name}: {}", masked(name, value));
        }
        let body = request.body.replace(support::APP_SECRET, "***");
        println!("  body: {body}");
    }
    let outcome = report(result);
    tokens.assert_calls_async(1).await;
    helpdesk.assert_calls_async(1).await;
    outcome
}

/// A builder for the real platform when the environment names one, with app credentials
/// (`FEISHU_APP_ID`, `FEISHU_APP_SECRET`) or a tenant access token
/// (`FEISHU_TENANT_ACCESS_TOKEN`), and the helpdesk credentials.
fn real_platform() -> Result<Option<feishu_helpdesk::ClientBuilder>, String> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let builder = Client::builder();
    let builder = match (
        var("FEISHU_APP_ID"),
        var("FEISHU_APP_SECRET"),
        var("FEISHU_TENANT_ACCESS_TOKEN"),
    ) {
        (Some(app_id), Some(app_secret), _) => builder.app_credentials(app_id, app_secret),
        (_, _, Some(token)) => builder.tenant_access_token(token),
        _ => return Ok(None),
    };
    let (Some(helpdesk_id), Some(helpdesk_token)) = (var("FEISHU_HELPDESK_ID"), var("FEISHU_HELPDESK_TOKEN"))
    else {
        return Err("set FEISHU_HELPDESK_ID and FEISHU_HELPDESK_TOKEN too".into());
    };
    let base_url = var("FEISHU_BASE_URL").unwrap_or_else(|| feishu_helpdesk::FEISHU_BASE_URL.to_owned());
    Ok(Some(
        builder
            .helpdesk_credentials(helpdesk_id, helpdesk_token)
            .base_url(base_url),
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
