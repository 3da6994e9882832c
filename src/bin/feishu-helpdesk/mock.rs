//! `mock`: the testing kit's stand-in of the platform as a process, for the tests of a
//! client in any language: the helpdesk operations, the token endpoint, a person's login and
//! the control interface under `/__mock/`, until Ctrl-C or SIGTERM.

use std::io::Write as _;

use feishu_helpdesk::testing::{self, EventPusher, MockCredentials, MockPlatform};
use serde_json::json;

use crate::failure::Failure;
use crate::listen::stopped;
use crate::output::note;

/// The flags of `mock`. The app id and the helpdesk id are the global `--app-id` and
/// `--helpdesk-id`, read from the command line only.
#[derive(clap::Args)]
pub(crate) struct MockArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port; 0 takes a free one (the line printed on start names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The app secret the stand-in accepts.
    #[arg(long, default_value = testing::APP_SECRET)]
    app_secret: String,
    /// The helpdesk token the stand-in accepts.
    #[arg(long, default_value = testing::HELPDESK_TOKEN)]
    helpdesk_token: String,
    /// A tenant access token the stand-in accepts as is, beside the ones its token endpoint
    /// issues.
    #[arg(long, default_value = testing::TENANT_ACCESS_TOKEN)]
    tenant_access_token: String,
    /// The user access token the operations that act for a person accept, beside the ones
    /// a login issues.
    #[arg(long, default_value = testing::USER_ACCESS_TOKEN)]
    user_access_token: String,
    /// Where customers' messages are pushed as `ticket_message.created_v1` events (the app's
    /// request URL), when the event is subscribed.
    #[arg(long, value_name = "URL")]
    push_to: Option<String>,
    /// The verification token inside each push.
    #[arg(long, default_value = "v-mock", requires = "push_to")]
    verification_token: String,
    /// The Encrypt Key pushes are encrypted and signed with [default: none, in the clear].
    #[arg(long, requires = "push_to")]
    encrypt_key: Option<String>,
    /// The platform's retry schedule of a failed push (15 s, 5 min, 1 h, 6 h) times this.
    #[arg(long, default_value_t = 0.001, value_name = "FACTOR")]
    retry_scale: f64,
    /// The seconds a device login asks its client to wait between polls.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    device_poll_interval: u64,
}

/// The ids given on the command line: the environment's FEISHU_APP_ID and FEISHU_HELPDESK_ID
/// are a real app's, not the stand-in's.
pub(crate) struct Ids {
    pub(crate) app_id: Option<String>,
    pub(crate) helpdesk_id: Option<String>,
}

/// `mock`: starts the stand-in, prints where it is and what it accepts, serves until stopped.
pub(crate) async fn run(args: &MockArgs, ids: Ids, as_json: bool) -> Result<(), Failure> {
    let credentials = MockCredentials {
        app_id: ids.app_id.unwrap_or_else(|| testing::APP_ID.to_owned()),
        app_secret: args.app_secret.clone(),
        tenant_access_token: Some(args.tenant_access_token.clone()),
        helpdesk_id: ids.helpdesk_id.unwrap_or_else(|| testing::HELPDESK_ID.to_owned()),
        helpdesk_token: args.helpdesk_token.clone(),
        user_access_token: args.user_access_token.clone(),
        device_poll_interval: args.device_poll_interval,
        ..MockCredentials::default()
    };
    let pusher = match &args.push_to {
        Some(url) => Some((push_url(url)?, pusher(args)?)),
        None => None,
    };
    let address = tokio::net::lookup_host((args.host.as_str(), args.port))
        .await
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| Failure::Config(format!("cannot resolve the host {}", args.host)))?;
    let platform = MockPlatform::start_on(address, credentials.clone())
        .await
        .map_err(|e| Failure::Config(format!("cannot listen on {address}: {e}")))?;
    if let Some((url, pusher)) = pusher {
        platform.deliver_events_to(url, pusher);
    }
    let base_url = platform.base_url();
    let started = [
        ("base_url", base_url.to_owned()),
        ("control_url", format!("{base_url}/__mock")),
        ("app_id", credentials.app_id),
        ("app_secret", credentials.app_secret),
        ("tenant_access_token", args.tenant_access_token.clone()),
        ("helpdesk_id", credentials.helpdesk_id),
        ("helpdesk_token", credentials.helpdesk_token),
        ("user_access_token", credentials.user_access_token),
    ];
    let text = if as_json {
        let fields = started
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value)));
        format!("{}\n", serde_json::Value::Object(fields.collect()))
    } else {
        started
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect()
    };
    // Flushed at once: whoever started the process waits for this to learn the port.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Config(format!("cannot write to stdout: {e}")))?;
    drop(stdout);
    stopped().await;
    drop(platform);
    note("stopped");
    Ok(())
}

fn push_url(url: &str) -> Result<String, Failure> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url.to_owned()),
        _ => Err(Failure::Config(format!(
            "--push-to takes an http:// or https:// URL, not {url:?}"
        ))),
    }
}

fn pusher(args: &MockArgs) -> Result<EventPusher, Failure> {
    if !(args.retry_scale.is_finite() && args.retry_scale >= 0.0) {
        return Err(Failure::Config(
            "--retry-scale takes a factor of 0 or more".into(),
        ));
    }
    let mut pusher = EventPusher::new(&args.verification_token).retry_scale(args.retry_scale);
    if let Some(key) = &args.encrypt_key {
        pusher = pusher.encrypt_key(key);
    }
    Ok(pusher)
}
