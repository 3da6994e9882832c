//! The tool's configuration: the environment, the platform's base URL and the `Client` they make.

use feishu_helpdesk::{Client, FEISHU_BASE_URL, LARK_BASE_URL};

use crate::failure::Failure;
use crate::Cli;

/// The variable's value; set but empty counts as unset.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The setting's value, or a configuration failure naming `what` is missing.
pub(crate) fn required(value: Option<String>, what: &str) -> Result<String, Failure> {
    value.ok_or_else(|| Failure::Config(format!("{what} is not set")))
}

/// `--base-url` (or FEISHU_BASE_URL) first, then `--lark`, else Feishu.
pub(crate) fn base_url(cli: &Cli) -> String {
    match (&cli.base_url, cli.lark) {
        (Some(url), _) => url.clone(),
        (None, true) => LARK_BASE_URL.to_owned(),
        (None, false) => FEISHU_BASE_URL.to_owned(),
    }
}

/// The client of the helpdesk operations: the app's credentials (or a tenant token given as
/// is) and the helpdesk's.
pub(crate) fn client(cli: &Cli) -> Result<Client, Failure> {
    let mut builder = Client::builder().base_url(base_url(cli));
    builder = match (env("FEISHU_TENANT_ACCESS_TOKEN"), &cli.app_id) {
        (Some(token), None) => builder.tenant_access_token(token),
        (_, Some(app_id)) => {
            builder.app_credentials(app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?)
        }
        (None, None) => {
            return Err(Failure::Config(
                "FEISHU_APP_ID (with FEISHU_APP_SECRET) or FEISHU_TENANT_ACCESS_TOKEN is not set".into(),
            ))
        }
    };
    let helpdesk_id = required(cli.helpdesk_id.clone(), "FEISHU_HELPDESK_ID (or --helpdesk-id)")?;
    let helpdesk_token = required(env("FEISHU_HELPDESK_TOKEN"), "FEISHU_HELPDESK_TOKEN")?;
    Ok(builder
        .helpdesk_credentials(helpdesk_id, helpdesk_token)
        .build()?)
}
