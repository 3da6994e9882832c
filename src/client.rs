//! The client and its builder: one call's loop of attempts (retries, token renewal after a
//! rejection, its tracing span), and the checks of the configuration.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::accounts::Accounts;
use crate::client_state::{ClientState, Credentials, TokenSource, UserSource};
use crate::credentials::{bearer, helpdesk_authorization};
use crate::error::Error;
use crate::generated::{self, ClientHelpdeskEventsExt as _};
use crate::login::{AccountsRefresher, LoginContext, Logins, DEFAULT_LOGIN_SCOPES};
use crate::login_store::{LoginStore, MemoryLoginStore};
use crate::platform::{AppCredentials, Empty, Platform, PlatformSettings};
use crate::receipt::Receipt;
use crate::retry::{RetryPolicy, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_RETRIES};
use crate::secret::Secret;
use crate::subscription::{request_body, EventType};
use crate::token_cache::{MemoryTokenCache, TokenCache};
use crate::token_endpoint::PlatformTokenEndpoint;
use crate::token_manager::{TokenManager, DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN};
use crate::user_tokens::UserTokens;

/// How long a call may take, from sending to the end of the answer, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for the helpdesk API: every operation through [`api`](Client::api), with both
/// credentials, token renewal, retries and typed errors.
///
/// Cheap to clone: clones share one connection pool and one set of credentials.
/// `Debug` shows the base URL, helpdesk id and timeout, never a token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    generated: generated::Client,
    /// The manager of app-credential tokens, to forget a token the platform rejected.
    tokens: Option<Arc<TokenManager>>,
    /// With app credentials: logging people in, and their stored logins' tokens.
    users: Option<Users>,
    helpdesk_id: String,
    timeout: Duration,
}

/// What acting for stored people takes: the login flows and the people's tokens.
#[derive(Clone)]
struct Users {
    login: Arc<LoginContext>,
    tokens: Arc<UserTokens>,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Unsubscribes from helpdesk events (`POST /open-apis/helpdesk/v1/events/unsubscribe`).
    ///
    /// An empty list, or an event with an empty type or subtype, is refused with
    /// [`Error::InvalidInput`] before anything is sent.
    pub async fn unsubscribe(&self, events: &[EventType]) -> Result<Receipt, Error> {
        let body = request_body(events)?;
        let (_, receipt) = self
            .api()
            .unsubscribe_events()
            .body(body)
            .send_with_receipt()
            .await?;
        Ok(receipt)
    }

    /// Subscribes to helpdesk events (`POST /open-apis/helpdesk/v1/events/subscribe`).
    ///
    /// Validated as [`Client::unsubscribe`] is; the same as the `subscribe_events` builder's
    /// `send_with_receipt` with the checked body.
    pub async fn subscribe(&self, events: &[EventType]) -> Result<Receipt, Error> {
        let body = request_body(events)?;
        let (_, receipt) = self
            .api()
            .subscribe_events()
            .body(body)
            .send_with_receipt()
            .await?;
        Ok(receipt)
    }

    /// Every operation of the helpdesk API, as builders: name the parameters, then
    /// `.send().await`. The builders come from the extension traits of
    /// [`prelude`](crate::prelude), one per resource (`ClientTicketsExt`, `ClientFaqsExt`,
    /// ...). Each `send` runs with this client's credentials, token renewal, retries and
    /// tracing, and gives the answer's `data` or an [`Error`]. `.send_with_receipt()` gives
    /// the call's [`Receipt`] beside the data (its HTTP status and the `X-Tt-Logid` log id,
    /// to quote to the platform's support about a call that went through).
    ///
    /// ```no_run
    /// use feishu_helpdesk::generated::types;
    /// use feishu_helpdesk::prelude::*; // one extension trait per resource: ClientTicketsExt, ...
    /// use futures_util::TryStreamExt as _;
    ///
    /// # async fn run(client: feishu_helpdesk::Client, user_access_token: String) -> Result<(), feishu_helpdesk::Error> {
    /// // A read: path and query parameters by name; `data` comes back typed.
    /// let data = client.api().get_ticket().ticket_id("6948728206392295444").send().await?;
    /// let ticket = data.ticket.unwrap_or_default();
    /// println!("ticket {:?}, status {:?}", ticket.ticket_id, ticket.status);
    ///
    /// // A write: the body as its generated type, or field by field with `body_map`.
    /// let sent = client
    ///     .api()
    ///     .create_ticket_message()
    ///     .ticket_id("6948728206392295444")
    ///     .body_map(|body| body.msg_type("text").content(r#"{"text":"We are on it."}"#))
    ///     .send()
    ///     .await?;
    /// println!("message {:?}", sent.message_id);
    ///
    /// // The log id of a call that succeeded, beside its data.
    /// let (data, receipt) = client.api().get_ticket().ticket_id("6948728206392295444").send_with_receipt().await?;
    /// println!("{:?}: log id {:?}", data.ticket.map(|t| t.status), receipt.log_id);
    ///
    /// // Many optional parameters, each by name; array parameters go as repeated keys.
    /// let page = client.api().list_tickets().status_list(vec![1, 2]).page(1).page_size(50).send().await?;
    /// println!("{} tickets", page.total.unwrap_or_default());
    ///
    /// // Every item of a paged operation as a stream, one page (one call) at a time.
    /// let faqs: Vec<types::Faq> = client.api().list_faqs().page_size(100).stream().try_collect().await?;
    /// println!("{} FAQs", faqs.len());
    ///
    /// // An operation that acts for a person, on a view of the client with the user's token.
    /// client
    ///     .as_user(user_access_token)?
    ///     .api()
    ///     .update_ticket()
    ///     .ticket_id("6948728206392295444")
    ///     .body_map(|body| body.status(50))
    ///     .send()
    ///     .await?;
    ///
    /// // Bytes: a stream with its content type, bounded in size.
    /// let image = client.api().get_ticket_image().ticket_id("6948728206392295444").msg_id("6949088236610273307").send().await?;
    /// let content_type = image.content_type.clone();
    /// println!("{content_type:?}, {} bytes", image.bytes().await?.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # What every `send` does
    ///
    /// The same for all 50:
    ///
    /// - **Both credentials.** `Authorization: Bearer <token>` and `X-Lark-Helpdesk-Authorization`,
    ///   on every request. 24 operations act for a person and take a *user* access token (obtained
    ///   by your app through the platform's login): call them on
    ///   [`client.as_user(token)?`](Self::as_user), a cheap view of the client that sends the
    ///   user's token to those operations (and to `get_notification`, which takes either) and
    ///   the tenant token to the rest. Without a view, they fail before anything is sent with
    ///   [`Error::UserTokenRequired`], naming the operation. The user token is never printed.
    /// - **Errors.** A non-zero `code` is [`Error::Api`] with the code, message, HTTP status and log
    ///   id, on HTTP 200 as on an error status.
    /// - **Token renewal and retries.** With app credentials, a rejected tenant token is replaced
    ///   and the call sent once more. Reads (GET) and the two subscription operations are retried;
    ///   an operation that creates or changes something (sending a message, creating a FAQ,
    ///   updating a ticket...) is never sent twice unless the platform surely did not act on it
    ///   (see [Retries](crate#retries)).
    /// - **Tracing.** One span per call, named by the operation (see [Tracing](crate#tracing)).
    /// - **Pages.** The five paged operations (`list_faqs`, `search_faqs` with a page token;
    ///   `list_ticket_customized_fields` with `next_page_token`; `list_tickets` and
    ///   `list_ticket_messages` with page numbers and `total`) have `.stream()` beside `.send()`:
    ///   a `futures::Stream` of items that fetches the next page when the previous one's items have
    ///   been taken, each page a call with all of the above.
    /// - **Downloads.** `get_ticket_image` and `get_faq_image` give a [`Download`](crate::Download):
    ///   the content type and length, and the bytes as a stream (`into_stream()`) or in one buffer
    ///   (`bytes()`), at most [`MAX_DOWNLOAD_BYTES`](crate::MAX_DOWNLOAD_BYTES) (32 MiB). An answer
    ///   that is the JSON envelope instead is an [`Error`].
    /// - **Oddities, handled.** Array query parameters go as repeated keys
    ///   (`status_list=1&status_list=2`), as the platform reads them. `list_ticket_customized_fields`
    ///   is a GET with a JSON body (`{"visible": true}`), modelled as the platform takes it: the body
    ///   is always sent, `{}` when nothing is set.
    ///
    /// The builders are progenitor's, generated from the spec: each operation keeps its spec name
    /// (also its name in the command line and in clients generated from the spec in other
    /// languages), the docs group them by resource (`ClientTicketsExt`, `ClientFaqsExt`...), and
    /// parameters are named, so `list_tickets`' 17 optional filters are never a row of `None`s. An
    /// operation added to the spec arrives with all of the above on the next build.
    ///
    /// To call an operation named at run time, with its parameters as text and JSON in and
    /// out, see [`Client::raw`]; [`operations`](crate::operations) describes every operation.
    pub fn api(&self) -> &generated::Client {
        &self.inner.generated
    }

    /// A view of this client that acts for a person: the operations that take a user
    /// access token (such as `update_ticket`, `create_faq`) send `Bearer <user_access_token>`
    /// in `Authorization`; the others keep the tenant token. The helpdesk header goes along
    /// as always. Without a view, a user-token operation fails with
    /// [`Error::UserTokenRequired`] before anything is sent.
    ///
    /// The view shares the connection pool, the tenant token and the settings; making one
    /// is cheap. The token is never printed (`Debug` masks it).
    ///
    /// To have the library log the person in and keep their token alive (refreshed ahead of
    /// expiry, once across processes), see [`for_user`](Self::for_user).
    ///
    /// Fails with [`Error::InvalidInput`] if the token is empty or cannot be a header value.
    pub fn as_user(&self, user_access_token: impl Into<String>) -> Result<Client, Error> {
        let token = Secret::new(user_access_token);
        if token.expose().is_empty() {
            return Err(Error::invalid_input("user_access_token", "is empty"));
        }
        let user = bearer(&token)
            .map_err(|_| Error::invalid_input("user_access_token", "is not a valid header value"))?;
        let user = UserSource::Fixed(user);
        Ok(self.with_user(user))
    }

    /// A view of this client that acts for a person whose login is stored (see
    /// [`Client::logins`] and [`ClientBuilder::login_store`]): like [`as_user`](Self::as_user), with the person's
    /// user access token taken from the store and kept alive.
    ///
    /// - The token is refreshed [`token_refresh_margin`](ClientBuilder::token_refresh_margin)
    ///   before it expires (5 minutes unless set), once for all the concurrent calls of the
    ///   process, and once for all the processes and machines sharing the store (under its
    ///   refresh lock). A refresh rotates the refresh token: the new one is stored before
    ///   the new access token is used, and no two refreshers ever use one refresh token.
    /// - A refresh that fails for now (the accounts endpoint's 20050 or 20072, a 5xx, no
    ///   connection) keeps the login: it is retried (only when the endpoint surely did not
    ///   act on it), and the current token is used while it lasts.
    /// - A refresh that fails for good (the refresh token revoked, already used, expired,
    ///   or the app may no longer refresh: 20024, 20026, 20037, 20064, 20073, 20074...)
    ///   marks the login as needing a new authorization, and the call fails with
    ///   [`Error::LoginRequired`] naming the person, as it does when no login is stored.
    /// - A user token the platform rejects on an operation is refreshed and the call sent
    ///   once more, as a tenant token is.
    ///
    /// Needs app credentials (the refresh takes the app secret). Fails with
    /// [`Error::InvalidInput`] when the client has none, or when `open_id` is not one; the
    /// login itself is read on the first call that needs it.
    pub fn for_user(&self, open_id: &str) -> Result<Client, Error> {
        let users = self.users("for_user")?;
        let person = users.tokens.person(open_id)?;
        Ok(self.with_user(UserSource::Stored(person)))
    }

    /// People's logins to this client's app: logging a person in (the device flow, or the
    /// browser with PKCE), the stored logins, logging out. See [`Logins`].
    ///
    /// Needs app credentials: fails with [`Error::InvalidInput`] without them.
    pub fn logins(&self) -> Result<Logins, Error> {
        Ok(Logins::new(Arc::clone(&self.users("logins")?.login)))
    }

    fn users(&self, what: &'static str) -> Result<&Users, Error> {
        self.inner.users.as_ref().ok_or_else(|| {
            Error::invalid_input(
                "app_credentials",
                format!("are required for {what}: logins are refreshed with the app secret"),
            )
        })
    }

    /// A view of this client that sends `user`'s token to the operations acting for a person.
    fn with_user(&self, user: UserSource) -> Client {
        let mut state = self.inner.generated.inner.clone();
        if let Some(credentials) = &mut state.credentials {
            credentials.user = Some(user);
        }
        let generated = generated::Client::new_with_client(
            progenitor_client::ClientInfo::baseurl(self.api()),
            progenitor_client::ClientInfo::client(self.api()).clone(),
            state,
        );
        Client {
            inner: Arc::new(Inner {
                generated,
                tokens: self.inner.tokens.clone(),
                users: self.inner.users.clone(),
                helpdesk_id: self.inner.helpdesk_id.clone(),
                timeout: self.inner.timeout,
            }),
        }
    }

    /// With app credentials, obtains a tenant access token (or reuses the one cached) and
    /// returns how long it has left; with a token you manage, `None`, and nothing is sent.
    /// A way to check the app credentials without calling a helpdesk operation.
    pub async fn token_lifetime(&self) -> Result<Option<Duration>, Error> {
        let Some(manager) = &self.inner.tokens else {
            return Ok(None);
        };
        let token = match manager.fresh() {
            Some(token) => token,
            None => manager.token().await?,
        };
        Ok(Some(token.time_left()))
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(self.api())
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("helpdesk_id", &self.inner.helpdesk_id)
            .field("timeout", &self.inner.timeout)
            .field("tokens", &self.inner.tokens)
            .field("retry", &self.inner.generated.inner.retry)
            .finish()
    }
}

/// Configures a [`Client`]; every setter consumes and returns the builder.
///
/// ```
/// # fn main() -> Result<(), feishu_helpdesk::Error> {
/// let client = feishu_helpdesk::Client::builder()
///     .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
///     .helpdesk_credentials("7180000000000000001", "ht-example")
///     .base_url(feishu_helpdesk::LARK_BASE_URL)
///     .build()?;
/// assert_eq!(client.base_url(), "https://open.larksuite.com");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    tenant_access_token: Option<Secret>,
    app: Option<AppCredentials>,
    token_cache: Option<Arc<dyn TokenCache>>,
    token_refresh_margin: Option<Duration>,
    login_store: Option<Arc<dyn LoginStore>>,
    login_scopes: Option<Vec<String>>,
    max_retries: Option<u32>,
    initial_backoff: Option<Duration>,
    helpdesk: Option<(String, Secret)>,
    platform: PlatformSettings,
    timeout: Option<Duration>,
}

impl ClientBuilder {
    /// A tenant access token (`t-...`) that the caller manages, sent as
    /// `Authorization: Bearer <token>`. Set this or
    /// [`app_credentials`](Self::app_credentials).
    pub fn tenant_access_token(mut self, token: impl Into<String>) -> Self {
        self.tenant_access_token = Some(Secret::new(token));
        self
    }

    /// The app id and app secret of a custom app (自建应用): the client obtains the tenant
    /// access token itself, caches it, refreshes it ahead of expiry, and replaces it when
    /// the platform rejects it. Set this or [`tenant_access_token`](Self::tenant_access_token).
    ///
    /// With app credentials the client:
    ///
    /// - obtains the token from `POST /open-apis/auth/v3/tenant_access_token/internal` (modelled in
    ///   the spec too, tag `auth`) and caches it until
    ///   [`token_refresh_margin`](Self::token_refresh_margin) before it expires (default 5
    ///   minutes, at most 30: the platform hands back the same token until fewer than 30
    ///   minutes remain);
    /// - fetches **once** for all concurrent callers that find no valid token (500 concurrent cold
    ///   calls make one token request); a failed fetch is not cached, and every caller that waited
    ///   on it gets its error;
    /// - when the platform rejects the token (codes 99991661, 99991663, 99991664, 99991671, on HTTP
    ///   200, 400 or 401), drops it, fetches a new one and sends the call once more. With a fixed
    ///   token there is nothing to renew, and the error is returned;
    /// - reports refused app credentials as [`Error::TokenRefused`], naming the app id, never the
    ///   secret; an unreachable token endpoint is a `Transport` error.
    ///
    /// The cache is in memory and per client (clones share it; two apps never mix); to share
    /// tokens between clients or processes, give a [`TokenCache`] to
    /// [`token_cache`](Self::token_cache).
    pub fn app_credentials(mut self, app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        self.app = Some(AppCredentials::new(app_id, app_secret));
        self
    }

    /// Where tokens obtained from app credentials are kept: an in-memory cache of this
    /// client (shared by its clones) unless set.
    pub fn token_cache(mut self, cache: Arc<dyn TokenCache>) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// Where people's logins are kept (see [`Client::for_user`]): an in-memory store of this
    /// client (shared by its clones) unless set. A [`FileLoginStore`](crate::FileLoginStore)
    /// shares logins between the processes of one machine, a `RedisLoginStore` (feature
    /// `redis`) between machines; each refreshes a login once for all of them.
    pub fn login_store(mut self, store: Arc<dyn LoginStore>) -> Self {
        self.login_store = Some(store);
        self
    }

    /// The scopes a login asks for ([`DEFAULT_LOGIN_SCOPES`](crate::DEFAULT_LOGIN_SCOPES),
    /// the helpdesk's, unless set). `offline_access` is always added: without it the
    /// platform issues no refresh token.
    pub fn login_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.login_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Where people log in and their tokens are issued: `https://accounts.feishu.cn` beside
    /// Feishu's base URL, `https://accounts.larksuite.com` beside Lark's, and the base URL
    /// itself beside any other (a proxy or a stand-in serves both), unless set. Checked as
    /// [`base_url`](Self::base_url) is.
    pub fn accounts_url(mut self, accounts_url: impl Into<String>) -> Self {
        self.platform.accounts_url = Some(accounts_url.into());
        self
    }

    /// How long before its expiry a cached token is replaced
    /// ([`DEFAULT_REFRESH_MARGIN`](crate::DEFAULT_REFRESH_MARGIN) unless set; at most
    /// [`MAX_REFRESH_MARGIN`](crate::MAX_REFRESH_MARGIN)).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = Some(margin);
        self
    }

    /// The helpdesk id and helpdesk token, sent as
    /// `X-Lark-Helpdesk-Authorization: base64(helpdesk_id:helpdesk_token)`. Required.
    pub fn helpdesk_credentials(
        mut self,
        helpdesk_id: impl Into<String>,
        helpdesk_token: impl Into<String>,
    ) -> Self {
        self.helpdesk = Some((helpdesk_id.into(), Secret::new(helpdesk_token)));
        self
    }

    /// How many times a failed call is sent again ([`DEFAULT_MAX_RETRIES`](crate::DEFAULT_MAX_RETRIES)
    /// unless set; 0 turns retries off). Only transport failures, timeouts, server-side
    /// (5xx) failures and rate limiting are retried; both helpdesk operations are
    /// idempotent. A rate-limited call waits what `x-ogw-ratelimit-reset` says (at most
    /// [`MAX_RATE_LIMIT_WAIT`](crate::MAX_RATE_LIMIT_WAIT)); others back off exponentially
    /// with jitter.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// The first backoff delay, doubled with each retry up to
    /// [`MAX_BACKOFF`](crate::MAX_BACKOFF) ([`DEFAULT_INITIAL_BACKOFF`](crate::DEFAULT_INITIAL_BACKOFF)
    /// unless set).
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = Some(delay);
        self
    }

    /// Where the platform is: [`FEISHU_BASE_URL`](crate::FEISHU_BASE_URL) (the default) or
    /// [`LARK_BASE_URL`](crate::LARK_BASE_URL), or a proxy or test server. Must be
    /// `https://`, except to a loopback address or when
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.platform.base_url = Some(base_url.into());
        self
    }

    /// How long one call may take, from sending to the end of the answer
    /// ([`DEFAULT_TIMEOUT`] unless set). Applies to a client given through
    /// [`http_client`](Self::http_client) too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Allows a plain `http://` base URL to a host that is not loopback. The credentials
    /// then travel unencrypted; meant for trusted internal proxies only.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.platform.allow_insecure_http = allow;
        self
    }

    /// Uses this `reqwest::Client` (its connection pool, proxy and TLS settings) instead
    /// of the library's own. The library's own follows no redirects, so that the
    /// credentials never go to another host; a client given here keeps its own policy.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.platform.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// Fails with [`Error::InvalidInput`] naming the setting that is missing or wrong.
    pub fn build(self) -> Result<Client, Error> {
        // The platform first (its base URL is the first setting checked); the library's own
        // HTTP client gets the timeout, which is checked below, before the client is used.
        let platform = self.platform.build(self.timeout.unwrap_or(DEFAULT_TIMEOUT))?;
        let tenant = self.checked_tenant()?;
        let (helpdesk_id, helpdesk) = self.checked_helpdesk()?;
        let timeout = self.checked_timeout()?;
        let state = self.state_without_credentials(timeout, &platform);
        let base_url_text = platform.base_url_text();
        let http = platform.http.clone();
        let (tenant, tokens, users) = match tenant {
            TenantSetting::Fixed(value) => (TokenSource::Fixed(value), None, None),
            TenantSetting::App(app) => {
                let users = self.users(&app, &platform, &state, timeout);
                let manager = token_manager(app, &base_url_text, &http, &state);
                (TokenSource::App(manager.clone()), Some(manager), Some(users))
            }
        };
        let state = state.with_credentials(Credentials {
            tenant,
            helpdesk,
            user: None,
        });
        Ok(Client {
            inner: Arc::new(Inner {
                generated: generated::Client::new_with_client(&base_url_text, http, state),
                tokens,
                users,
                helpdesk_id,
                timeout,
            }),
        })
    }

    /// Builds only what logging people in takes ([`Logins`]): the app credentials, the
    /// platform's settings, the [`login_store`](Self::login_store) and
    /// [`login_scopes`](Self::login_scopes); not the helpdesk's. For a login step (such as
    /// the command line's `login`) that runs before, or apart from, the helpdesk calls.
    ///
    /// Fails with [`Error::InvalidInput`] naming the setting that is missing or wrong.
    pub fn build_logins(self) -> Result<Logins, Error> {
        let timeout = self.checked_timeout()?;
        let platform = self.platform.build(timeout)?;
        let app = self.checked_app("to log people in")?;
        let state = self.state_without_credentials(timeout, &platform);
        Ok(Logins::new(self.users(&app, &platform, &state, timeout).login))
    }

    /// Checks the app credentials without building a client: obtains a tenant access token
    /// (or reuses the one in the [`token_cache`](Self::token_cache)) and returns how long it
    /// has left. Needs only [`app_credentials`](Self::app_credentials) and the platform
    /// settings, not the helpdesk's: a way to check an app's set-up before the helpdesk is.
    ///
    /// Fails with [`Error::InvalidInput`] when no app credentials are set, and with the
    /// token endpoint's refusal ([`Error::TokenRefused`]) when the platform refuses them.
    pub async fn check_app_credentials(self) -> Result<Duration, Error> {
        let timeout = self.checked_timeout()?;
        let platform = self.platform.build(timeout)?;
        let app = self.checked_app("to check them")?;
        let state = self.state_without_credentials(timeout, &platform);
        let manager = token_manager(app, &platform.base_url_text(), &platform.http, &state);
        Ok(manager.token().await?.time_left())
    }

    /// The app credentials, checked; an error saying they are required `purpose` when they
    /// are not set.
    fn checked_app(&self, purpose: &'static str) -> Result<AppSetting, Error> {
        let missing = || Error::invalid_input("app_credentials", format!("are required {purpose}"));
        if self.app.is_none() {
            return Err(missing());
        }
        // With app credentials set, the tenant setting is theirs (or an error if a token is
        // set too).
        match self.checked_tenant()? {
            TenantSetting::App(app) => Ok(app),
            TenantSetting::Fixed(_) => Err(missing()),
        }
    }

    /// Logging people in and their tokens, for an app: the accounts endpoint (on the accounts
    /// host, and `user_info` on the base URL, through clients without credentials), the
    /// login store, the scopes.
    fn users(&self, app: &AppSetting, platform: &Platform, state: &ClientState, timeout: Duration) -> Users {
        let accounts_url = platform.accounts_url_text();
        let accounts_state = self.state_at(timeout, platform, platform.accounts_url.clone());
        let accounts = Arc::new(Accounts::new(
            generated::Client::new_with_client(&accounts_url, platform.http.clone(), accounts_state),
            generated::Client::new_with_client(
                &platform.base_url_text(),
                platform.http.clone(),
                state.clone(),
            ),
            app.app.app_id.clone(),
            app.app.app_secret.clone(),
        ));
        let store = self
            .login_store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryLoginStore::default()));
        let scopes = self
            .login_scopes
            .clone()
            .unwrap_or_else(|| DEFAULT_LOGIN_SCOPES.iter().map(|s| (*s).to_owned()).collect());
        let login = Arc::new(LoginContext {
            accounts: Arc::clone(&accounts),
            store: Arc::clone(&store),
            app_id: app.app.app_id.clone(),
            accounts_url,
            scope: LoginContext::scope_of(&scopes),
        });
        let refresher = AccountsRefresher {
            accounts,
            retry: state.retry,
        };
        let tokens = UserTokens::new(
            app.app.app_id.clone(),
            store,
            Box::new(refresher),
            app.refresh_margin,
        );
        Users { login, tokens }
    }

    /// What every request of a client with these settings shares, before its credentials:
    /// the timeout, the retry policy, the base URL and the operations' URLs joined to it.
    fn state_without_credentials(&self, timeout: Duration, platform: &Platform) -> ClientState {
        self.state_at(timeout, platform, platform.base_url.clone())
    }

    /// [`state_without_credentials`](Self::state_without_credentials) for requests to
    /// `base_url`.
    fn state_at(&self, timeout: Duration, platform: &Platform, base_url: reqwest::Url) -> ClientState {
        let retry = RetryPolicy {
            max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            initial_backoff: self.initial_backoff.unwrap_or(DEFAULT_INITIAL_BACKOFF),
        };
        ClientState::new(
            None,
            timeout,
            platform.http_client_given,
            retry,
            base_url,
            generated::STATIC_PATHS,
        )
    }

    fn checked_timeout(&self) -> Result<Duration, Error> {
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::invalid_input("timeout", "must be greater than zero"));
        }
        Ok(timeout)
    }

    /// The helpdesk id, and the helpdesk header built from it and the helpdesk token.
    fn checked_helpdesk(&self) -> Result<(String, HeaderValue), Error> {
        let (helpdesk_id, helpdesk_token) = self
            .helpdesk
            .as_ref()
            .ok_or_else(|| Error::invalid_input("helpdesk_credentials", "are required"))?;
        Ok((
            helpdesk_id.clone(),
            helpdesk_authorization(helpdesk_id, helpdesk_token)?,
        ))
    }

    /// The tenant token setting: a fixed token, or app credentials with their cache.
    fn checked_tenant(&self) -> Result<TenantSetting, Error> {
        match (&self.tenant_access_token, &self.app) {
            (Some(token), None) => Ok(TenantSetting::Fixed(bearer(token)?)),
            (None, Some(app)) => {
                let app = app.clone().checked().map_err(|empty| match empty {
                    Empty::AppId => Error::invalid_input("app_id", "is empty"),
                    Empty::AppSecret => Error::invalid_input("app_secret", "is empty"),
                })?;
                let refresh_margin = self.token_refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN);
                if refresh_margin > MAX_REFRESH_MARGIN {
                    return Err(Error::invalid_input(
                        "token_refresh_margin",
                        "must be at most 30 minutes",
                    ));
                }
                Ok(TenantSetting::App(AppSetting {
                    app,
                    cache: self
                        .token_cache
                        .clone()
                        .unwrap_or_else(|| Arc::new(MemoryTokenCache::default())),
                    refresh_margin,
                }))
            }
            (None, None) => Err(Error::invalid_input(
                "tenant_access_token",
                "is required (or set app_credentials)",
            )),
            (Some(_), Some(_)) => Err(Error::invalid_input(
                "tenant_access_token",
                "and app_credentials are both set; set one",
            )),
        }
    }
}

/// Where the tenant token will come from, once checked.
enum TenantSetting {
    Fixed(HeaderValue),
    App(AppSetting),
}

struct AppSetting {
    app: AppCredentials,
    cache: Arc<dyn TokenCache>,
    refresh_margin: Duration,
}

/// The manager of `app`'s tenant tokens, which come through a generated client of their
/// own, without credentials.
fn token_manager(
    app: AppSetting,
    base_url: &str,
    http: &reqwest::Client,
    state: &ClientState,
) -> Arc<TokenManager> {
    let endpoint = PlatformTokenEndpoint::new(generated::Client::new_with_client(
        base_url,
        http.clone(),
        state.clone(),
    ));
    Arc::new(TokenManager::new(
        app.app.app_id,
        app.app.app_secret,
        base_url,
        app.cache,
        app.refresh_margin,
        Box::new(endpoint),
    ))
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("tenant_access_token", &self.tenant_access_token)
            .field("app_id", &self.app.as_ref().map(|app| &app.app_id))
            .field("app_secret", &self.app.as_ref().map(|app| &app.app_secret))
            .field("token_cache", &self.token_cache)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("login_store", &self.login_store)
            .field("login_scopes", &self.login_scopes)
            .field("accounts_url", &self.platform.accounts_url)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("helpdesk_id", &self.helpdesk.as_ref().map(|(id, _)| id))
            .field("helpdesk_token", &self.helpdesk.as_ref().map(|(_, token)| token))
            .field("base_url", &self.platform.base_url)
            .field("timeout", &self.timeout)
            .field("allow_insecure_http", &self.platform.allow_insecure_http)
            .field("http_client", &self.platform.http_client.is_some())
            .finish()
    }
}
