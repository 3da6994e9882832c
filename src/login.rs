//! Logging a person in, both ways the platform offers, and keeping the login: the device
//! flow ([`DeviceLogin`]: a code the person enters on a page, no redirect URL to register)
//! and the authorization-code flow with PKCE ([`BrowserLogin`]: the person's browser sent to
//! the platform and back to a redirect URL the app registered). Either ends with the
//! person's identity read from `user_info` and their login in the client's
//! [`LoginStore`]. The refresh of a stored login ([`AccountsRefresher`]) goes through the
//! same accounts endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;
use tokio::time::Instant;

use crate::accounts::{Accounts, DeviceCode, IssuedTokens};
use crate::error::{Attempts, Error};
use crate::login_store::{LoginKey, LoginStore, UserLogin};
use crate::retry::{RetryPolicy, MAX_BACKOFF};
use crate::secret::Secret;
use crate::token_cache::BoxFuture;
use crate::user_tokens::Refresher;

/// The scopes a login asks for unless the client was given others: the helpdesk's.
pub const DEFAULT_LOGIN_SCOPES: &[&str] = &["helpdesk:all"];

/// The scope without which the platform issues no refresh token; always asked for.
const OFFLINE_ACCESS: &str = "offline_access";

/// What a login without a refresh token lacks, in the app's settings.
const NO_REFRESH_TOKEN: &str = "the platform issued no refresh token, so the login would end with its access token \
     in about 2 hours: in the developer console, add the `offline_access` scope to the app's permissions, turn on \
     the security setting that lets the app refresh user_access_token, and publish a new version of the app";

/// The accounts codes that say the endpoint refused without acting: sending again may work.
const TRY_AGAIN: [i64; 2] = [20050, 20072];

/// What a login needs from the client: the accounts endpoint, the store, the scopes.
pub(crate) struct LoginContext {
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) store: Arc<dyn LoginStore>,
    pub(crate) app_id: String,
    /// The accounts host, for the authorization URL.
    pub(crate) accounts_url: String,
    /// Space-separated, `offline_access` included.
    pub(crate) scope: String,
}

impl LoginContext {
    /// `scopes` with `offline_access`, space-separated, each once.
    pub(crate) fn scope_of(scopes: &[String]) -> String {
        let mut all: Vec<&str> = Vec::new();
        for scope in scopes.iter().map(String::as_str).chain([OFFLINE_ACCESS]) {
            if !scope.is_empty() && !all.contains(&scope) {
                all.push(scope);
            }
        }
        all.join(" ")
    }

    /// Starts a device login.
    pub(crate) async fn device_login(self: &Arc<Self>) -> Result<DeviceLogin, Error> {
        let code = self.accounts.start_device_authorization(&self.scope).await?;
        Ok(DeviceLogin {
            context: Arc::clone(self),
            code,
        })
    }

    /// Starts a browser login that comes back to `redirect_uri`.
    pub(crate) fn browser_login(self: &Arc<Self>, redirect_uri: &str) -> Result<BrowserLogin, Error> {
        let redirect = reqwest::Url::parse(redirect_uri)
            .map_err(|e| Error::invalid_input_because("redirect_uri", "is not a URL", e))?;
        if !matches!(redirect.scheme(), "http" | "https") {
            return Err(Error::invalid_input(
                "redirect_uri",
                "must be an http or https URL",
            ));
        }
        let verifier = random_text(32)?;
        let state = random_text(16)?;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let mut url = reqwest::Url::parse(&format!("{}/open-apis/authen/v1/authorize", self.accounts_url))
            .map_err(|e| Error::invalid_input_because("accounts_url", "is not a URL", e))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.app_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(BrowserLogin {
            context: Arc::clone(self),
            url: url.into(),
            redirect_uri: redirect_uri.to_owned(),
            state,
            verifier: Secret::new(verifier),
        })
    }

    /// The login of the person the platform issued `tokens` for, stored over any earlier
    /// login of theirs to this app.
    async fn complete(&self, tokens: IssuedTokens) -> Result<UserLogin, Error> {
        if tokens.refresh_token.is_none() {
            return Err(refusal("no_refresh_token", NO_REFRESH_TOKEN));
        }
        let person = self.accounts.user_info(&tokens.access_token).await?;
        let key = LoginKey::new(self.app_id.clone(), person.open_id)?;
        let granted = UserLogin::granted(
            &key,
            person.name,
            tokens.scope,
            tokens.access_token,
            tokens.expires_in,
            tokens.refresh_token,
            tokens.refresh_token_expires_in,
        );
        // A new login replaces the person's earlier one, whatever its revision.
        loop {
            let current = self.store.load(&key).await?.map(|login| login.revision);
            let mut login = granted.clone();
            login.revision = current.map_or(1, |revision| revision + 1);
            if self.store.compare_and_swap(&key, current, Some(&login)).await? {
                tracing::info!(person = %key, "logged in");
                return Ok(login);
            }
        }
    }
}

/// People's logins to one app: logging a person in, the logins stored, logging out. From
/// [`Client::logins`](crate::Client::logins), or
/// [`ClientBuilder::build_logins`](crate::ClientBuilder::build_logins) without the
/// helpdesk's credentials. Cheap to clone.
///
/// Each login is stored in the client's [`LoginStore`] under the app and the person's
/// `open_id` (read from `user_info`), replacing an earlier login of theirs;
/// [`Client::for_user`](crate::Client::for_user) then acts for them.
#[derive(Clone)]
pub struct Logins {
    context: Arc<LoginContext>,
}

impl Logins {
    pub(crate) fn new(context: Arc<LoginContext>) -> Self {
        Self { context }
    }

    /// Starts logging a person in with the device flow: no redirect URL to register. Show
    /// the person the [`DeviceLogin`]'s verification URL and user code, then await its
    /// [`finish`](DeviceLogin::finish).
    ///
    /// The login asks for the client's [`login_scopes`](crate::ClientBuilder::login_scopes)
    /// and `offline_access`, without which the platform issues no refresh token (an answer
    /// without one is [`Error::LoginRefused`] with `no_refresh_token`, saying which settings
    /// of the app are missing).
    pub async fn device_login(&self) -> Result<DeviceLogin, Error> {
        self.context.device_login().await
    }

    /// Starts logging a person in with the authorization-code flow and PKCE: send their
    /// browser to the [`BrowserLogin`]'s authorization URL; the platform sends it back to
    /// `redirect_uri` (which must be listed among the app's redirect URLs, or the platform
    /// shows error 20029), and [`finish`](BrowserLogin::finish) with that redirect checks its
    /// `state`, exchanges the code with the PKCE verifier, stores the login and returns it.
    ///
    /// Fails with [`Error::InvalidInput`] if `redirect_uri` is not an http(s) URL.
    pub fn browser_login(&self, redirect_uri: &str) -> Result<BrowserLogin, Error> {
        self.context.browser_login(redirect_uri)
    }

    /// The logins stored for this app (their tokens are never shown).
    pub async fn list(&self) -> Result<Vec<UserLogin>, Error> {
        self.context.store.list(&self.context.app_id).await
    }

    /// The login stored for the person `open_id`, if any.
    pub async fn get(&self, open_id: &str) -> Result<Option<UserLogin>, Error> {
        let key = LoginKey::new(self.context.app_id.clone(), open_id)?;
        self.context.store.load(&key).await
    }

    /// Removes the person's login from the store; `false` if none was stored. Their tokens
    /// stay valid at the platform until they expire.
    pub async fn logout(&self, open_id: &str) -> Result<bool, Error> {
        let key = LoginKey::new(self.context.app_id.clone(), open_id)?;
        let store = &self.context.store;
        loop {
            let Some(current) = store.load(&key).await? else {
                return Ok(false);
            };
            if store.compare_and_swap(&key, Some(current.revision), None).await? {
                return Ok(true);
            }
        }
    }

    /// The app id the logins are to.
    pub fn app_id(&self) -> &str {
        &self.context.app_id
    }
}

impl fmt::Debug for Logins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logins")
            .field("app_id", &self.context.app_id)
            .field("store", &self.context.store)
            .field("scope", &self.context.scope)
            .finish_non_exhaustive()
    }
}

/// A device login in progress: show the person [`verification_uri`](Self::verification_uri)
/// and [`user_code`](Self::user_code) (or the complete URL), then await
/// [`finish`](Self::finish), which polls until they approve, decline, or the code expires.
pub struct DeviceLogin {
    context: Arc<LoginContext>,
    code: DeviceCode,
}

impl DeviceLogin {
    /// The code the person enters on the verification page.
    pub fn user_code(&self) -> &str {
        &self.code.user_code
    }

    /// The page where the person enters the code and approves.
    pub fn verification_uri(&self) -> &str {
        &self.code.verification_uri
    }

    /// The page with the code already filled in, if the platform gave one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.code.verification_uri_complete.as_deref()
    }

    /// How long the person has to approve.
    pub fn expires_in(&self) -> Duration {
        self.code.expires_in
    }

    /// Waits for the person: polls the token endpoint every `interval` the platform asked
    /// for (5 seconds more after each `slow_down`), until they approve (the login is read,
    /// stored and returned), decline ([`Error::LoginRefused`] with `access_denied`) or the
    /// code expires (`expired_token`). Failures of the platform that leave the code usable
    /// (20050, 20072, 5xx, no connection) are polled through.
    pub async fn finish(self) -> Result<UserLogin, Error> {
        let deadline = Instant::now() + self.code.expires_in;
        let mut interval = self.code.interval.max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(interval).await;
            if Instant::now() >= deadline {
                return Err(refusal(
                    "expired_token",
                    "the person did not approve the device login before its code expired",
                ));
            }
            match self.context.accounts.poll_device(&self.code.device_code).await {
                Ok(tokens) => return self.context.complete(tokens).await,
                Err(Error::LoginRefused { error, .. }) if error == "authorization_pending" => {}
                Err(Error::LoginRefused { error, .. }) if error == "slow_down" => {
                    interval += Duration::from_secs(5);
                }
                Err(err) if not_acted_on(&err) => {
                    tracing::warn!(error = %err, "polling the device login failed; polling again");
                }
                Err(err) => return Err(err),
            }
        }
    }
}

impl fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceLogin")
            .field("app_id", &self.context.app_id)
            .field("user_code", &self.code.user_code)
            .field("verification_uri", &self.code.verification_uri)
            .field("expires_in", &self.code.expires_in)
            .finish_non_exhaustive()
    }
}

/// A browser login in progress: send the person's browser to
/// [`authorization_url`](Self::authorization_url); the platform sends it back to the
/// redirect URL with a code, which [`finish`](Self::finish) checks (the `state`) and
/// exchanges (with the PKCE verifier) for the login.
pub struct BrowserLogin {
    context: Arc<LoginContext>,
    url: String,
    redirect_uri: String,
    state: String,
    verifier: Secret,
}

impl BrowserLogin {
    /// Where to send the person's browser.
    pub fn authorization_url(&self) -> &str {
        &self.url
    }

    /// The redirect URL the platform will send the browser back to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `state` the redirect must carry back (random, single use).
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Finishes the login with the URL (or only its query) the browser came back with:
    /// `?code=...&state=...`, or `?error=access_denied&state=...` when the person declined.
    ///
    /// Fails with [`Error::InvalidInput`] (`state`) when the state is not this login's (a
    /// forged or stale redirect; nothing is sent), [`Error::LoginRefused`] when the person
    /// declined or the platform refused the code.
    pub async fn finish(self, redirect: &str) -> Result<UserLogin, Error> {
        let query = match redirect.split_once('?') {
            Some((_, query)) => query,
            None => redirect,
        };
        let query = query.split('#').next().unwrap_or_default();
        let mut code = None;
        let mut state = None;
        let mut error = None;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        // Compared in constant time: the state guards against a forged redirect.
        let state_matches = state.as_deref().is_some_and(|state| {
            use subtle::ConstantTimeEq as _;
            bool::from(state.as_bytes().ct_eq(self.state.as_bytes()))
        });
        if !state_matches {
            return Err(Error::invalid_input(
                "state",
                "the redirect does not carry this login's state (a stale or forged redirect)",
            ));
        }
        if let Some(error) = error {
            let description = match error.as_str() {
                "access_denied" => "the person declined to authorize the app",
                _ => "the platform refused the authorization",
            };
            return Err(refusal(&error, description));
        }
        let code = code.ok_or_else(|| Error::invalid_input("code", "the redirect carries no code"))?;
        let tokens = self
            .context
            .accounts
            .exchange_code(&code, &self.redirect_uri, self.verifier.expose())
            .await?;
        self.context.complete(tokens).await
    }
}

impl fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("app_id", &self.context.app_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Refreshes stored logins through the accounts endpoint, sending a refresh again only when
/// the endpoint surely did not act on it (a refresh token is single use: a refresh it
/// carried out and whose answer was lost cannot be repeated).
pub(crate) struct AccountsRefresher {
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) retry: RetryPolicy,
}

impl Refresher for AccountsRefresher {
    fn refresh<'a>(&'a self, login: &'a UserLogin) -> BoxFuture<'a, Result<UserLogin, Error>> {
        Box::pin(async move {
            let refresh_token = login.refresh_token().ok_or_else(|| Error::Internal {
                message: "a login without a refresh token was refreshed".into(),
            })?;
            let mut retries = 0;
            loop {
                match self.accounts.refresh(refresh_token).await {
                    Ok(tokens) => {
                        let scope = Some(tokens.scope).filter(|scope| !scope.is_empty());
                        return Ok(login.refreshed(
                            tokens.access_token,
                            tokens.expires_in,
                            tokens.refresh_token,
                            tokens.refresh_token_expires_in,
                            scope,
                        ));
                    }
                    Err(err) if retries < self.retry.max_retries && not_acted_on(&err) => {
                        let delay = self
                            .retry
                            .initial_backoff
                            .saturating_mul(1 << retries.min(16))
                            .min(MAX_BACKOFF);
                        tracing::warn!(person = %login.key(), error = %err, delay_ms = delay.as_millis() as u64, "refreshing the user access token failed; trying again");
                        retries += 1;
                        tokio::time::sleep(delay).await;
                    }
                    Err(err) => {
                        let outcome_unknown = err.is_outcome_unknown();
                        return Err(err.after(Attempts {
                            sent: retries + 1,
                            outcome_unknown,
                        }));
                    }
                }
            }
        })
    }
}

/// Whether the accounts endpoint surely did not act on a request that failed so: it said
/// so (20050, 20072, or an error answer on a 5xx), or the connection was never made.
fn not_acted_on(err: &Error) -> bool {
    match err {
        Error::LoginRefused {
            code: Some(code),
            http_status,
            ..
        } => TRY_AGAIN.contains(code) || http_status.is_some_and(|status| status >= 500),
        Error::Transport { source, .. } => source.is_connect(),
        _ => false,
    }
}

/// A refusal the library reports for the platform (no answer carried it).
fn refusal(error: &str, description: &str) -> Error {
    Error::LoginRefused {
        code: None,
        error: error.to_owned(),
        description: description.to_owned(),
        http_status: None,
        log_id: None,
        attempts: Attempts::ONE,
    }
}

/// `bytes` random bytes from the system's generator, as base64url text: the PKCE verifier
/// (32 bytes: 43 characters of `[A-Za-z0-9-_]`) and the state.
fn random_text(bytes: usize) -> Result<String, Error> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| Error::Internal {
        message: format!("the system's random generator failed: {e}"),
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_access_is_always_asked_for_once() {
        assert_eq!(
            LoginContext::scope_of(&["helpdesk:all".into()]),
            "helpdesk:all offline_access"
        );
        assert_eq!(
            LoginContext::scope_of(&["offline_access".into(), "helpdesk:all".into(), "".into()]),
            "offline_access helpdesk:all"
        );
    }

    #[test]
    fn the_verifier_is_43_unreserved_characters_and_random() {
        let a = random_text(32).unwrap();
        let b = random_text(32).unwrap();
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }
}
