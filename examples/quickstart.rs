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

use feishu_helpdesk::testing::MockPlatform;
use feishu_helpdesk::{Client, EventType};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events = [EventType::TICKET_MESSAGE_CREATED];
    if let Some(builder) = real_platform()? {
        let client = builder.build()?;
        println!("Calling the platform: {client:?}");
        return report(client.unsubscribe(&events).await);
    }

    // The stand-in of the `testing` kit: it refuses anything that breaks the contract.
    let platform = MockPlatform::start().await;
    println!(
        "No FEISHU_* credentials set: calling a local stand-in at {}",
        platform.base_url()
    );
    // The app-credential flow: the client obtains the tenant access token itself.
    let client = platform.client_builder().build()?;
    println!("Client: {client:?}");
    let result = client.unsubscribe(&events).await;
    for request in platform.requests() {
        println!(
            "\nThe stand-in received (secrets masked), answered HTTP {}:",
            request.answered
        );
        println!("  {} {}", request.method, request.path);
        for (name, value) in &request.headers {
            println!("  {name}: {value}");
        }
        println!("  body: {}", request.body);
    }
    let outcome = report(result);
    assert_eq!(platform.token_fetches(), 1);
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
