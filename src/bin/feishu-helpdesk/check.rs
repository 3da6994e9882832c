//! `check`: the app's credentials tried by obtaining a token, and nothing else.

use feishu_helpdesk::Client;
use serde_json::json;

use crate::config::{base_url, env, required};
use crate::failure::Failure;
use crate::Cli;

/// `check`: obtains a token and prints how long it has left, and from where.
pub(crate) async fn run(cli: &Cli) -> Result<(), Failure> {
    let app_id = required(cli.app_id.clone(), "FEISHU_APP_ID (or --app-id)")?;
    let base_url = base_url(cli);
    let lifetime = Client::builder()
        .base_url(&base_url)
        .app_credentials(&app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?)
        .check_app_credentials()
        .await?;
    if cli.json {
        println!(
            "{}",
            json!({"app_id": app_id, "token_seconds_left": lifetime.as_secs(), "base_url": base_url.trim_end_matches('/')})
        );
    } else {
        println!(
            "app {app_id}: token obtained, {} s left, from {}",
            lifetime.as_secs(),
            base_url.trim_end_matches('/')
        );
    }
    Ok(())
}
