//! The tool's configuration: the environment, the platform's base URL and the `Client` they make.

use std::sync::Arc;

use feishu_helpdesk::{
    Client, ClientBuilder, FileLoginStore, LoginStore, RedisLoginStore, FEISHU_BASE_URL, LARK_BASE_URL,
};

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

/// Where people's logins are kept: Redis with FEISHU_REDIS_URL (shared by machines), else
/// files in the configuration directory (FEISHU_HELPDESK_CONFIG_DIR, or
/// `$XDG_CONFIG_HOME/feishu-helpdesk`).
pub(crate) fn login_store() -> Result<Arc<dyn LoginStore>, Failure> {
    if let Some(url) = env("FEISHU_REDIS_URL") {
        return Ok(Arc::new(RedisLoginStore::new(&url)?));
    }
    let dir = FileLoginStore::default_dir().ok_or_else(|| {
        Failure::Config("no configuration directory: set FEISHU_HELPDESK_CONFIG_DIR (or HOME)".into())
    })?;
    Ok(Arc::new(FileLoginStore::new(dir)))
}

/// Where the logins are kept, in words (never the Redis URL, which may hold a password).
pub(crate) fn login_store_name() -> String {
    if env("FEISHU_REDIS_URL").is_some() {
        return "Redis (FEISHU_REDIS_URL)".into();
    }
    FileLoginStore::default_dir().map_or_else(
        || "the configuration directory".into(),
        |dir| dir.display().to_string(),
    )
}

/// The settings shared by every command that calls the platform: the base URL and the
/// accounts URL.
fn platform_builder(cli: &Cli) -> ClientBuilder {
    let mut builder = Client::builder().base_url(base_url(cli));
    if let Some(url) = &cli.accounts_url {
        builder = builder.accounts_url(url);
    }
    builder
}

/// What logging people in takes: the app's credentials, the platform and the login store.
pub(crate) fn login_builder(cli: &Cli) -> Result<ClientBuilder, Failure> {
    let app_id = required(cli.app_id.clone(), "FEISHU_APP_ID (or --app-id)")?;
    let app_secret = required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?;
    Ok(platform_builder(cli)
        .login_store(login_store()?)
        .app_credentials(app_id, app_secret))
}

/// The client of the helpdesk operations: the app's credentials (or a tenant token given as
/// is) and the helpdesk's; with `logins`, the login store, for the operations that act for a
/// stored person.
pub(crate) fn client(cli: &Cli, logins: bool) -> Result<Client, Failure> {
    let mut builder = platform_builder(cli);
    if logins {
        builder = builder.login_store(login_store()?);
    }
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
