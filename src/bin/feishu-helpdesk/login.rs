//! `login`, `logout` and `whoami`: a person's login to the app, obtained with the device flow
//! (or in the browser, through a one-shot loopback redirect), kept in the login store, and
//! shown without its tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use feishu_helpdesk::{Logins, UserLogin};
use serde_json::json;
use tokio::sync::oneshot;

use crate::config::{env, login_builder, login_store_name};
use crate::failure::Failure;
use crate::output::note;
use crate::Cli;

/// The path of the loopback redirect URL of a browser login.
const CALLBACK: &str = "/callback";

/// The arguments of `login`.
#[derive(clap::Args)]
pub(crate) struct LoginArgs {
    /// Log in in the browser (authorization code with PKCE) instead of the device flow: the
    /// platform sends the browser back to http://127.0.0.1:<port>/callback, which must be
    /// listed among the app's redirect URLs.
    #[arg(long)]
    browser: bool,
    /// The port of the browser login's redirect URL.
    #[arg(long, default_value_t = 8765, requires = "browser")]
    redirect_port: u16,
}

/// `login`: logs a person in and stores the login.
pub(crate) async fn login(cli: &Cli, args: &LoginArgs) -> Result<(), Failure> {
    let logins = login_builder(cli)?.build_logins()?;
    // The store is reached before the person is asked to approve: a login it cannot keep
    // would be lost.
    logins.list().await?;
    let login = if args.browser {
        browser(&logins, args.redirect_port).await?
    } else {
        device(&logins, cli.json).await?
    };
    if cli.json {
        println!("{}", describe(&login));
    } else {
        println!(
            "Logged in as {} ({}) to app {}; the login is kept in {}.",
            login.name,
            login.open_id,
            login.app_id,
            login_store_name()
        );
    }
    Ok(())
}

async fn device(logins: &Logins, as_json: bool) -> Result<UserLogin, Failure> {
    let pending = logins.device_login().await?;
    let minutes = pending.expires_in().as_secs().div_ceil(60);
    if as_json {
        note(
            &json!({
                "verification_uri": pending.verification_uri(),
                "verification_uri_complete": pending.verification_uri_complete(),
                "user_code": pending.user_code(),
                "expires_in": pending.expires_in().as_secs(),
            })
            .to_string(),
        );
    } else {
        match pending.verification_uri_complete() {
            Some(url) => note(&format!("Open {url} to approve (code {}).", pending.user_code())),
            None => note(&format!(
                "Open {} and enter the code {}.",
                pending.verification_uri(),
                pending.user_code()
            )),
        }
        note(&format!("Waiting for approval (at most {minutes} min)..."));
    }
    Ok(pending.finish().await?)
}

async fn browser(logins: &Logins, port: u16) -> Result<UserLogin, Failure> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Failure::Config(format!("cannot listen on 127.0.0.1:{port} for the redirect: {e}")))?;
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK}");
    let pending = logins.browser_login(&redirect_uri)?;
    note(&format!(
        "Open this page to log in:\n{}",
        pending.authorization_url()
    ));
    note(&format!(
        "Waiting for the browser to come back to {redirect_uri}..."
    ));
    let redirect = one_redirect(listener).await?;
    let finished = pending.finish(&redirect.query).await;
    // The page says how the login ended: a forged state or a refused code is no login.
    redirect.answer(finished.is_ok()).await;
    Ok(finished?)
}

/// The browser's request to the redirect URL, waiting for the page that answers it.
struct Redirect {
    /// The query the browser came back with.
    query: String,
    /// Whether the login succeeded, for the page.
    outcome: oneshot::Sender<bool>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Redirect {
    /// Answers the browser with the login's outcome, then stops the server.
    async fn answer(self, logged_in: bool) {
        let _ = self.outcome.send(logged_in);
        let _ = self.stop.send(());
        // The page has been answered; the server winds down with its connection.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.server).await;
    }
}

/// Serves the loopback redirect once: the query of the first request to the callback path,
/// answered, once the login ends, with a page that says how it ended and tells the person
/// to go back to the terminal.
async fn one_redirect(listener: tokio::net::TcpListener) -> Result<Redirect, Failure> {
    let (sender, receiver) = oneshot::channel::<(String, oneshot::Sender<bool>)>();
    let sender = std::sync::Arc::new(std::sync::Mutex::new(Some(sender)));
    let app = axum::Router::new().route(
        CALLBACK,
        axum::routing::get(move |uri: axum::http::Uri| {
            let sender = sender.clone();
            async move {
                let query = uri.query().unwrap_or_default().to_owned();
                let first = sender.lock().unwrap_or_else(|p| p.into_inner()).take();
                let logged_in = match first {
                    Some(sender) => {
                        let (outcome, answered) = oneshot::channel();
                        let _ = sender.send((query, outcome));
                        answered.await.unwrap_or(false)
                    }
                    // The login has its redirect already: this one is not used.
                    None => false,
                };
                axum::response::Html(if logged_in {
                    "<p>Logged in. You can close this window and go back to the terminal.</p>"
                } else {
                    "<p>The login was not completed (the terminal says why). You can close this window.</p>"
                })
            }
        }),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let (query, outcome) = receiver
        .await
        .map_err(|_| Failure::Config("the redirect server stopped before the browser came back".into()))?;
    Ok(Redirect {
        query,
        outcome,
        stop,
        server,
    })
}

/// `logout`: removes the person's stored login.
pub(crate) async fn logout(cli: &Cli, user: Option<&str>) -> Result<(), Failure> {
    let logins = login_builder(cli)?.build_logins()?;
    let open_id = chosen(&logins, user).await?;
    let removed = logins.logout(&open_id).await?;
    if cli.json {
        println!("{}", json!({"open_id": open_id, "removed": removed}));
    } else if removed {
        println!("Logged out {open_id} from app {}.", logins.app_id());
    } else {
        println!("No login of {open_id} to app {} was stored.", logins.app_id());
    }
    Ok(())
}

/// `whoami`: the stored logins (or `user`'s), without their tokens.
pub(crate) async fn whoami(cli: &Cli, user: Option<&str>) -> Result<(), Failure> {
    let logins = login_builder(cli)?.build_logins()?;
    let mut all = match user {
        Some(open_id) => logins.get(open_id).await?.into_iter().collect(),
        None => logins.list().await?,
    };
    all.sort_by(|a, b| a.open_id.cmp(&b.open_id));
    if all.is_empty() {
        let whose = user.map_or_else(String::new, |open_id| format!("of {open_id} "));
        return Err(Failure::Config(format!(
            "no login {whose}to app {} is stored: run `feishu-helpdesk login`",
            logins.app_id()
        )));
    }
    for login in &all {
        if cli.json {
            println!("{}", describe(login));
        } else {
            print_login(login);
        }
    }
    Ok(())
}

/// The open id of the login a command acts on: the one given, or the only one stored.
pub(crate) async fn chosen(logins: &Logins, user: Option<&str>) -> Result<String, Failure> {
    if let Some(open_id) = user {
        return Ok(open_id.to_owned());
    }
    let stored = logins.list().await?;
    match stored.as_slice() {
        [] => Err(Failure::Config(format!(
            "no login to app {} is stored: run `feishu-helpdesk login` (or set FEISHU_USER_ACCESS_TOKEN)",
            logins.app_id()
        ))),
        [only] => Ok(only.open_id.clone()),
        several => {
            let mut ids: Vec<&str> = several.iter().map(|login| login.open_id.as_str()).collect();
            // The store lists in no particular order; the message is the same every time.
            ids.sort_unstable();
            Err(Failure::Config(format!(
                "several logins to app {} are stored ({}): choose one with --user",
                logins.app_id(),
                ids.join(", ")
            )))
        }
    }
}

/// A login as one JSON object, without its tokens.
fn describe(login: &UserLogin) -> serde_json::Value {
    let now = SystemTime::now();
    let seconds_left = |at: SystemTime| at.duration_since(now).map_or(0, |left| left.as_secs());
    json!({
        "app_id": login.app_id,
        "open_id": login.open_id,
        "name": login.name,
        "scopes": login.scope.split_whitespace().collect::<Vec<_>>(),
        "access_token_expires_at": rfc3339(login.access_token_expires_at()),
        "access_token_seconds_left": seconds_left(login.access_token_expires_at()),
        "refresh_token_expires_at": login.refresh_token_expires_at().map(rfc3339),
        "refresh_token_seconds_left": login.refresh_token_expires_at().map(seconds_left),
        "granted_at": rfc3339(UNIX_EPOCH + Duration::from_millis(login.granted_at_ms)),
        "needs_login": login.needs_authorization,
    })
}

fn print_login(login: &UserLogin) {
    let now = SystemTime::now();
    let left = |at: SystemTime| match at.duration_since(now) {
        Ok(left) => format!("in {}", human(left)),
        Err(_) => "expired".to_owned(),
    };
    println!("{} ({}), app {}", login.name, login.open_id, login.app_id);
    println!("  scopes:                {}", login.scope);
    println!(
        "  access token expires:  {} ({})",
        rfc3339(login.access_token_expires_at()),
        left(login.access_token_expires_at())
    );
    match login.refresh_token_expires_at() {
        Some(at) => println!("  refresh token expires: {} ({})", rfc3339(at), left(at)),
        None => println!("  refresh token:         none (the login ends with its access token)"),
    }
    if login.needs_authorization {
        println!("  status:                must log in again (run `feishu-helpdesk login`)");
    }
}

/// `1h 59m`, `6d 23h`, `42s`.
fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {}s", seconds / 60, seconds % 60),
        3600..86400 => format!("{}h {}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d {}h", seconds / 86400, seconds % 86400 / 3600),
    }
}

/// `2026-12-04T19:55:14Z`: UTC, to the second.
fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86400, seconds % 86400);
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Whether a user access token is given as is (which wins over a stored login).
pub(crate) fn fixed_user_token() -> Option<String> {
    env("FEISHU_USER_ACCESS_TOKEN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_796_413_514)),
            "2026-12-04T19:45:14Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(human(Duration::from_secs(7140)), "1h 59m");
        assert_eq!(human(Duration::from_secs(604_800)), "7d 0h");
    }
}
