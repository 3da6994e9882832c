//! A local stand-in for the platform, for testing code that uses this library
//! (feature `testing`).
//!
//! [`MockPlatform`] listens on a free loopback port and serves the token endpoint and every
//! helpdesk operation of the spec. It enforces each operation's contract, as the platform
//! does: the method and path, the query parameters, the body against its schema, the two
//! credential headers byte for byte and the kind of token the operation takes, answering a
//! violation with the platform's error envelope (403/154003 for a wrong helpdesk header,
//! 401/99991663 for an unknown token, 400/154000 for a bad query or body, 400/99991668 for the
//! wrong kind of token) and a message that says what was wrong, so that a failing test points
//! at your bug. A request that meets the contract is answered from the spec's example, from
//! the `data` a test set for the operation ([`MockPlatform::answer`], such as
//! `platform.answer("get_ticket", json!({...}))`), or from the tickets the stand-in keeps
//! ([`MockPlatform::add_ticket`], [`MockPlatform::customer_writes`]: the answer loop of a
//! helpdesk bot, end to end; see [below](#a-helpdesk-bot-end-to-end)). It keeps the subscribed
//! events, counts token fetches, records every request (secrets masked), and plays scripted
//! answers (errors, rate limits, rejected tokens, delays, gateway pages) for the next calls
//! ([`MockPlatform::push`]), or the next calls of one operation ([`MockPlatform::push_for`]).
//! The scripted answers ([`Scripted`]): `Error { http_status, code, msg }`,
//! `RateLimited { reset_seconds }`, `InvalidToken`, `Delay(duration)`, `Html { http_status }`.
//! It plays a person's login as well (the device flow, the authorization-code flow with PKCE,
//! single-use refresh tokens): see [below](#a-persons-login).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use feishu_helpdesk::testing::{MockPlatform, Scripted};
//! use feishu_helpdesk::EventType;
//!
//! let platform = MockPlatform::start().await;
//! let client = platform.client_builder().build().unwrap();
//!
//! client.subscribe(&[EventType::TICKET_CREATED, EventType::TICKET_UPDATED]).await.unwrap();
//! client.unsubscribe(&[EventType::TICKET_UPDATED]).await.unwrap();
//! platform.assert_subscribed(&[EventType::TICKET_CREATED]);
//! assert_eq!(platform.token_fetches(), 1);
//!
//! // The next call is rate limited once, then goes through on the client's retry.
//! platform.push(Scripted::RateLimited { reset_seconds: 0 });
//! client.subscribe(&[EventType::TICKET_MESSAGE_CREATED]).await.unwrap();
//! assert_eq!(platform.requests().len(), 5); // a token fetch and four helpdesk calls
//! # }
//! ```
//!
//! # Pushing events
//!
//! The kit plays the platform's side of event delivery too. [`EventPusher`] pushes to any URL
//! (this crate's [`Receiver`](crate::events::Receiver), your axum app, another language's
//! server) exactly as the platform does: a 2.0 envelope with a fresh `event_id`, the
//! verification token inside, encrypted and signed when an Encrypt Key is set.
//! [`deliver`](EventPusher::deliver) retries anything but a 200 within 3 seconds on the
//! platform's schedule (15 s, 5 min, 1 h, 6 h) times [`retry_scale`](EventPusher::retry_scale),
//! and reports every attempt (status, latency, when it was sent) and whether the event ended
//! delivered. [`push_once`](EventPusher::push_once) takes a [`Fault`] (`TamperedSignature`,
//! `WrongToken`, `Oversized`), [`push_concurrently`](EventPusher::push_concurrently) sends one
//! event to several replicas at once, [`challenge`](EventPusher::challenge) runs the URL
//! verification, and [`request`](EventPusher::request) gives the headers and body of a push
//! (with a fault or none) to hand to [`Receiver::handle`](crate::events::Receiver::handle)
//! without HTTP. With [`platform.deliver_events_to(url, pusher)`](MockPlatform::deliver_events_to),
//! [`platform.emit(&event)`](MockPlatform::emit) pushes only what the client subscribed to.
//! Your receiver, tested end to end:
//!
//! ```
//! use feishu_helpdesk::testing::{EventPusher, MockPlatform, PushEvent};
//! use feishu_helpdesk::EventType;
//!
//! #[tokio::test]
//! async fn subscribed_events_reach_my_receiver() {
//!     let platform = MockPlatform::start().await;
//!     let url = start_my_receiver().await; // your axum app, on 127.0.0.1:0
//!     platform.deliver_events_to(&url, EventPusher::new("v-token").retry_scale(0.001));
//!     platform.client_builder().build().unwrap().subscribe(&[EventType::TICKET_CREATED]).await.unwrap();
//!
//!     let created = PushEvent::new("helpdesk.ticket.created_v1", serde_json::json!({"ticket_id": "1"}));
//!     let delivery = platform.emit(&created).await.expect("subscribed");
//!     assert!(delivery.delivered, "{:?}", delivery.attempts);
//!     let message = PushEvent::new("helpdesk.ticket_message.created_v1", serde_json::json!({}));
//!     assert!(platform.emit(&message).await.is_none()); // not subscribed: not pushed
//! }
//! # async fn start_my_receiver() -> String { unimplemented!() }
//! # fn main() {}
//! ```
//!
//! # A helpdesk bot, end to end
//!
//! The loop most helpdesk apps exist for (a customer writes in a ticket, the platform pushes
//! `ticket_message.created_v1`, the app looks the ticket up and replies in it) runs end to end
//! on the kit, which keeps tickets and their messages: [`add_ticket`](MockPlatform::add_ticket)
//! opens one, [`customer_writes`](MockPlatform::customer_writes) appends the customer's message
//! and pushes the event to your receiver, `get_ticket` returns the ticket,
//! `create_ticket_message` appends the app's reply and `list_ticket_messages` pages through the
//! history, which [`ticket_messages`](MockPlatform::ticket_messages) reads back.
//! `cargo run --example answer` plays it; your bot, tested:
//!
//! ```
//! use feishu_helpdesk::testing::{EventPusher, MockPlatform};
//! use feishu_helpdesk::EventType;
//!
//! #[tokio::test]
//! async fn my_bot_answers_in_the_ticket() {
//!     let platform = MockPlatform::start().await;
//!     let client = platform.client_builder().build().unwrap();
//!     let url = start_my_bot(client.clone()).await; // your receiver; it replies with create_ticket_message
//!     platform.deliver_events_to(&url, EventPusher::new("v-token").retry_scale(0.001));
//!     client.subscribe(&[EventType::TICKET_MESSAGE_CREATED]).await.unwrap();
//!     platform.add_ticket("6948728206392295444", "Alice");
//!
//!     let delivery = platform.customer_writes("6948728206392295444", "My expense claim is stuck").await.unwrap();
//!     assert!(delivery.delivered, "{:?}", delivery.attempts);
//!     let history = platform.ticket_messages("6948728206392295444");
//!     assert_eq!(history.len(), 2, "the customer's message, then the bot's reply: {history:?}");
//! }
//! # async fn start_my_bot(_: feishu_helpdesk::Client) -> String { unimplemented!() }
//! # fn main() {}
//! ```
//!
//! # A person's login
//!
//! The kit plays the accounts side too, on the same base URL: what a login client and the
//! operations that act for a person (a user access token) meet on the platform.
//!
//! - `POST /oauth/v1/device_authorization` (HTTP Basic `app_id:app_secret`, a form with
//!   `client_id` and `scope`) starts a device login: `device_code`, `user_code`,
//!   `verification_uri` (`<base_url>/device`), `verification_uri_complete`, `expires_in`
//!   (240) and `interval` ([`MockCredentials::device_poll_interval`]).
//! - `GET /open-apis/authen/v1/authorize` plays the browser at once: `302 Found` to
//!   `redirect_uri?code=…&state=…` for the person set with
//!   [`log_in_as`](MockPlatform::log_in_as), or `?error=access_denied&state=…` after
//!   [`deny_authorization(true)`](MockPlatform::deny_authorization). An unknown `client_id`
//!   is a 400 page with 20048, a redirect URL other than a loopback
//!   `http://127.0.0.1:<port>/callback` / `http://localhost:<port>/callback` or one added with
//!   [`allow_redirect_uri`](MockPlatform::allow_redirect_uri) a 400 page with 20029.
//! - `POST /oauth/v3/token` (a JSON or form body; the app's id and secret in it or as HTTP
//!   Basic, not both: 20070) takes three grants. The device code's poll answers
//!   `authorization_pending` until [`approve_device_login`](MockPlatform::approve_device_login),
//!   `slow_down` when polled faster than the interval, `access_denied`, `expired_token`, and
//!   `invalid_grant` (20065) once used. The authorization code lives 5 minutes (20004; age it
//!   with [`advance_clock`](MockPlatform::advance_clock)), is single use (20065), must come
//!   with the authorize request's `redirect_uri` (20071) and, after a `code_challenge`, a
//!   `code_verifier` of 43 to 128 characters of `[A-Za-z0-9-._~]` (20063) whose S256 matches
//!   (20049). A refresh token is single use: a refresh issues a new access token and refresh
//!   token, the old refresh token is refused with 20064 at once, and the old access token
//!   keeps working for [`REFRESH_GRACE`] (a minute, as on the platform). Unknown refresh
//!   token 20026, expired 20037. A refresh token comes only with the scope `offline_access`
//!   and while [`allow_refresh`](MockPlatform::allow_refresh) is on (off: none, and a refresh
//!   is refused with 20074). Errors are `{"code", "error", "error_description"}`, mostly on
//!   HTTP 400.
//! - `GET /open-apis/authen/v1/user_info` with the user token: the person, in the usual
//!   envelope.
//!
//! The device flow's pending, slow-down and denied answers carry codes of the kit's own
//! ([`AUTHORIZATION_PENDING`], [`SLOW_DOWN`], [`ACCESS_DENIED`]): the platform documents none,
//! and clients key on `error`. The operations that take a user token accept
//! [`MockCredentials::user_access_token`] and every access token the kit issued while it
//! works; an expired one is refused with [`USER_TOKEN_EXPIRED`] (99991677) and an unknown
//! `u-` token with [`USER_TOKEN_INVALID`] (99991668), both on HTTP 401: the codes of the
//! platform's generic error code list
//! (<https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code>), which
//! the platform's own command-line tool (`larksuite/cli`, `internal/output/lark_errors.go`)
//! renews a user token on. A tenant token where a user's is needed is a 400 with 99991668.
//! [`push_for`](MockPlatform::push_for) scripts faults for `get_user_access_token`,
//! `start_device_authorization` and `get_user_info` (a refresh that fails for a while, say),
//! answered in each endpoint's own shape; [`push`](MockPlatform::push) leaves them alone.
//! [`issue_user_login`](MockPlatform::issue_user_login) seeds a login without a flow, and
//! [`refresh_requests`](MockPlatform::refresh_requests),
//! [`refreshes_refused`](MockPlatform::refreshes_refused) and
//! [`user_tokens_issued`](MockPlatform::user_tokens_issued) count what happened. The recorded
//! requests mask `client_secret`, `code_verifier`, `refresh_token`, `device_code`, `code`,
//! `access_token` and the `Authorization` header.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use feishu_helpdesk::testing::{MockPlatform, APP_ID, APP_SECRET, DEFAULT_PERSON_OPEN_ID};
//! use serde_json::{json, Value};
//!
//! let platform = MockPlatform::start().await;
//! let (_, refresh_token) = platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
//! let refresh = || async {
//!     let answer = reqwest::Client::new()
//!         .post(format!("{}/oauth/v3/token", platform.base_url()))
//!         .json(&json!({
//!             "grant_type": "refresh_token",
//!             "refresh_token": refresh_token,
//!             "client_id": APP_ID,
//!             "client_secret": APP_SECRET,
//!         }))
//!         .send().await.unwrap();
//!     answer.json::<Value>().await.unwrap()
//! };
//! assert_eq!(refresh().await["code"], 0); // a new access token and refresh token
//! assert_eq!(refresh().await["code"], 20064); // single use: the old one died
//! assert_eq!((platform.refresh_requests(), platform.refreshes_refused()), (2, 1));
//! # }
//! ```
//!
//! # The long connection
//!
//! With feature `long-connection` too, the kit stands in for the long connection
//! (`platform.long_connection()`, a `MockLongConnection`, whose docs show a test of a
//! `LongConnection` against it).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::{Client, ClientBuilder, EventType};

mod accounts;
mod api;
mod control;
#[cfg(feature = "long-connection")]
mod long_connection;
mod push;

pub use accounts::{
    ACCESS_DENIED, AUTHORIZATION_PENDING, DEFAULT_PERSON_NAME, DEFAULT_PERSON_OPEN_ID, REFRESH_GRACE,
    SLOW_DOWN, USER_TOKEN_EXPIRED, USER_TOKEN_INVALID,
};
#[cfg(feature = "long-connection")]
#[cfg_attr(docsrs, doc(cfg(feature = "long-connection")))]
pub use long_connection::{
    Ack, ClientConfig, EndpointFault, HandshakeRefusal, Injected, LongConnectionAttempt,
    LongConnectionDelivery, MockLongConnection, OtherMessage, PongPayload, ReceivedClose, ReceivedPing,
    RecordedFrame, SentFrame,
};
pub use push::{Attempt, Delivery, EventPusher, Fault, PushEvent, DELIVERY_DEADLINE, RETRY_SCHEDULE};

/// The app id the stand-in accepts, unless configured otherwise.
pub const APP_ID: &str = "cli_mock0000000000";
/// The app secret the stand-in accepts, unless configured otherwise.
pub const APP_SECRET: &str = "mock-app-secret";
/// The helpdesk id the stand-in accepts, unless configured otherwise.
pub const HELPDESK_ID: &str = "7180000000000000001";
/// The helpdesk token the stand-in accepts, unless configured otherwise.
pub const HELPDESK_TOKEN: &str = "ht-mock";
/// The open id of the customer of the tickets added with `MockPlatform::add_ticket`.
pub const GUEST_OPEN_ID: &str = "ou_mock_guest";
/// A tenant access token to accept as is ([`MockCredentials::tenant_access_token`]), for a
/// client given a token rather than the app's credentials; `feishu-helpdesk mock` accepts
/// it unless told otherwise. (The default credentials accept only the tokens issued.)
pub const TENANT_ACCESS_TOKEN: &str = "t-mock";
/// The user access token the stand-in accepts, unless configured otherwise.
pub const USER_ACCESS_TOKEN: &str = "u-mock";
/// The log id on every answer of the stand-in.
pub const LOG_ID: &str = "20231125120000MOCK0000000000000";

const UNSUBSCRIBE: &str = "/open-apis/helpdesk/v1/events/unsubscribe";
const SUBSCRIBE: &str = "/open-apis/helpdesk/v1/events/subscribe";
const TOKEN: &str = "/open-apis/auth/v3/tenant_access_token/internal";
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The credentials the stand-in accepts.
#[derive(Clone)]
pub struct MockCredentials {
    /// The app id of the token endpoint.
    pub app_id: String,
    /// The app secret of the token endpoint.
    pub app_secret: String,
    /// A tenant access token accepted besides the ones the stand-in issues, if any.
    pub tenant_access_token: Option<String>,
    /// The helpdesk id.
    pub helpdesk_id: String,
    /// The helpdesk token.
    pub helpdesk_token: String,
    /// The user access token accepted by the operations that act for a person.
    pub user_access_token: String,
    /// The seconds of life of each issued token (`expire`).
    pub token_lifetime: u64,
    /// How long the token endpoint takes to answer (a slow endpoint widens the window in
    /// which concurrent callers find no token).
    pub token_delay: Duration,
    /// The seconds of life of each user access token a login or refresh issues
    /// (`expires_in`; the platform's is about 2 hours).
    pub user_token_lifetime: u64,
    /// The seconds of life of each refresh token issued (`refresh_token_expires_in`; the
    /// platform's is 7 days).
    pub refresh_token_lifetime: u64,
    /// The seconds a device login asks its client to wait between polls (`interval`; 0 lets a
    /// test poll at once).
    pub device_poll_interval: u64,
}

impl Default for MockCredentials {
    fn default() -> Self {
        Self {
            app_id: APP_ID.to_owned(),
            app_secret: APP_SECRET.to_owned(),
            tenant_access_token: None,
            helpdesk_id: HELPDESK_ID.to_owned(),
            helpdesk_token: HELPDESK_TOKEN.to_owned(),
            user_access_token: USER_ACCESS_TOKEN.to_owned(),
            token_lifetime: 7200,
            token_delay: Duration::ZERO,
            user_token_lifetime: 7200,
            refresh_token_lifetime: 604_800,
            device_poll_interval: 5,
        }
    }
}

impl std::fmt::Debug for MockCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockCredentials")
            .field("app_id", &self.app_id)
            .field("helpdesk_id", &self.helpdesk_id)
            .field("token_lifetime", &self.token_lifetime)
            .finish_non_exhaustive()
    }
}

/// An answer queued for the next helpdesk call, in place of the normal one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scripted {
    /// The platform's error envelope with this code and message, on this HTTP status.
    Error {
        /// The HTTP status.
        http_status: u16,
        /// The platform code.
        code: i64,
        /// The message.
        msg: String,
    },
    /// Rate limited: HTTP 429, code 99991400, `x-ogw-ratelimit-reset` set.
    RateLimited {
        /// The seconds in the reset header.
        reset_seconds: u64,
    },
    /// The tenant access token is rejected (HTTP 401, code 99991663); the stand-in also
    /// forgets every token it issued, as after an expiry.
    InvalidToken,
    /// The normal answer, after a delay (to exercise timeouts).
    Delay(Duration),
    /// A gateway's HTML page with this status (such as 502).
    Html {
        /// The HTTP status.
        http_status: u16,
    },
}

/// A request as the stand-in received it, with every secret masked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The path, such as `/open-apis/helpdesk/v1/events/subscribe`.
    pub path: String,
    /// The query string as sent, without the `?` (empty if none): repeated keys stay
    /// repeated, as in `status_list=1&status_list=2`.
    pub query: String,
    /// The headers in the order received, names lower-case; credentials masked.
    pub headers: Vec<(String, String)>,
    /// The body, the app secret masked, and on the login side the values of
    /// `client_secret`, `code_verifier`, `refresh_token`, `device_code`, `code` and
    /// `access_token`.
    pub body: String,
    /// The HTTP status of the answer.
    pub answered: u16,
}

impl RecordedRequest {
    /// The values of the header `name` (lower-case).
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Default)]
struct State {
    subscribed: BTreeSet<(String, String)>,
    issued: Vec<String>,
    token_fetches: usize,
    requests: Vec<RecordedRequest>,
    script: VecDeque<Scripted>,
    /// Answers queued for one operation, before the shared script.
    script_for: HashMap<String, VecDeque<Scripted>>,
    /// The `data` set for an operation, answered to every call of it.
    answers: HashMap<String, Value>,
    tickets: BTreeMap<String, api::TicketState>,
    events_to: Option<(String, EventPusher)>,
    accounts: accounts::Accounts,
}

struct Shared {
    credentials: MockCredentials,
    /// `http://127.0.0.1:<port>`, for the URLs the answers give.
    base_url: String,
    #[cfg(feature = "long-connection")]
    long_connection: long_connection::MockLongConnection,
    helpdesk_header: String,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update is a single step, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn add_ticket(&self, ticket_id: &str, guest_name: &str) {
        let now = api::now_millis();
        let ticket = json!({
            "ticket_id": ticket_id,
            "helpdesk_id": self.credentials.helpdesk_id,
            "guest": {"id": GUEST_OPEN_ID, "name": guest_name},
            "ticket_type": 2,
            "status": 1,
            "channel": 9,
            "solve": 1,
            "created_at": now,
            "updated_at": now,
        });
        self.state().tickets.insert(
            ticket_id.to_owned(),
            api::TicketState {
                ticket,
                messages: Vec::new(),
            },
        );
    }

    /// Appends the customer's `text` to the ticket; the event the platform pushes for it,
    /// or `None` if there is no such ticket.
    fn customer_message(&self, ticket_id: &str, text: &str) -> Option<PushEvent> {
        let mut state = self.state();
        let ticket = state.tickets.get_mut(ticket_id)?;
        let now = api::now_millis();
        let position = ticket.messages.len() + 1;
        let id = format!("{}", 6_000_000_000_000_000_000u64 + position as u64);
        let message_id = format!("om_mock_{id}");
        let content = json!({"content": text, "msg_type": "text"}).to_string();
        ticket.messages.push(json!({
            "id": id,
            "message_id": message_id,
            "message_type": "text",
            "content": content,
            "user_name": ticket.ticket["guest"]["name"],
            "user_id": GUEST_OPEN_ID,
            "created_at": now,
        }));
        let mut summary = ticket.ticket.clone();
        if let Some(summary) = summary.as_object_mut() {
            summary.remove("guest");
        }
        Some(PushEvent::new(
            "helpdesk.ticket_message.created_v1",
            json!({
                "ticket_message_id": id,
                "message_id": message_id,
                "msg_type": "text",
                "position": position.to_string(),
                "sender_id": {"open_id": GUEST_OPEN_ID},
                "sender_type": 2,
                "text": text,
                "ticket": summary,
                "chat_id": "oc_mock_chat",
                "content": {"content": text, "msg_type": "text"},
            }),
        ))
    }

    fn ticket_messages(&self, ticket_id: &str) -> Vec<Value> {
        self.state()
            .tickets
            .get(ticket_id)
            .map(|ticket| ticket.messages.clone())
            .unwrap_or_default()
    }

    async fn emit(&self, event: &PushEvent) -> Option<Delivery> {
        let (url, pusher) = {
            let state = self.state();
            let subscribed = state.subscribed.iter().any(|(event_type, subtype)| {
                let product = event_type.split('.').next().unwrap_or_default();
                event.event_type == format!("{product}.{subtype}")
            });
            if !subscribed {
                return None;
            }
            // Nowhere to deliver: nothing is pushed.
            state.events_to.clone()?
        };
        Some(pusher.deliver(&url, event).await)
    }

    fn reset(&self) {
        let mut state = self.state();
        // Where events go is the set-up of the run, not state a test leaves behind.
        let events_to = state.events_to.take();
        *state = State::default();
        state.events_to = events_to;
    }
}

/// The local stand-in of the platform. Stops when dropped.
pub struct MockPlatform {
    base_url: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for MockPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPlatform")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl MockPlatform {
    /// Starts a stand-in with the default [`MockCredentials`]. Must run inside a tokio
    /// runtime.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        Self::start_with(MockCredentials::default()).await
    }

    /// Starts a stand-in that accepts these credentials.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start_with(credentials: MockCredentials) -> Self {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(address, credentials)
            .await
            .expect("a loopback port for the mock platform")
    }

    /// Starts a stand-in that accepts these credentials on `address` (port 0: a free
    /// port), such as `0.0.0.0:8080` for a stand-in other machines or containers reach.
    /// [`base_url`](Self::base_url) names the address bound.
    ///
    /// # Errors
    ///
    /// If `address` cannot be bound.
    pub async fn start_on(
        address: std::net::SocketAddr,
        credentials: MockCredentials,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let helpdesk_header = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            credentials.helpdesk_id, credentials.helpdesk_token
        ));
        #[cfg(feature = "long-connection")]
        let long_connection = long_connection::MockLongConnection::start(&credentials).await;
        let base_url = format!("http://{address}");
        let shared = Arc::new(Shared {
            credentials,
            base_url: base_url.clone(),
            #[cfg(feature = "long-connection")]
            long_connection,
            helpdesk_header,
            state: Mutex::default(),
        });
        let serving = Arc::clone(&shared);
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&serving);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            base_url,
            shared,
            accept,
        })
    }

    /// The stand-in's base URL, `http://127.0.0.1:<port>` (or the address given to
    /// [`start_on`](Self::start_on)).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The stand-in of the long connection: the endpoint `POST /callback/ws/endpoint` on
    /// [`base_url`](Self::base_url), the WebSocket server its URLs point at, pushes over it
    /// and faults on demand.
    #[cfg(feature = "long-connection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "long-connection")))]
    pub fn long_connection(&self) -> &MockLongConnection {
        &self.shared.long_connection
    }

    /// A client builder pointed at the stand-in with its app and helpdesk credentials, and
    /// a short backoff so that scripted retries run fast.
    pub fn client_builder(&self) -> ClientBuilder {
        let credentials = &self.shared.credentials;
        Client::builder()
            .app_credentials(credentials.app_id.clone(), credentials.app_secret.clone())
            .helpdesk_credentials(
                credentials.helpdesk_id.clone(),
                credentials.helpdesk_token.clone(),
            )
            .base_url(self.base_url.clone())
            .initial_backoff(Duration::from_millis(1))
    }

    /// Queues an answer for the next helpdesk call (token requests and a person's login are
    /// not affected).
    pub fn push(&self, answer: Scripted) {
        self.shared.state().script.push_back(answer);
    }

    /// Queues an answer for the next call of `operation` (its spec name, such as
    /// `get_ticket`), ahead of the answers queued with [`push`](Self::push). The login side
    /// takes `get_user_access_token` (`POST /oauth/v3/token`), `start_device_authorization`
    /// and `get_user_info`, and answers in its own shape: `Scripted::Error { http_status: 503,
    /// code: 20072, msg }` is `{"code": 20072, "error": "temporarily_unavailable",
    /// "error_description": msg}` on HTTP 503.
    pub fn push_for(&self, operation: &str, answer: Scripted) {
        self.shared
            .state()
            .script_for
            .entry(operation.to_owned())
            .or_default()
            .push_back(answer);
    }

    /// Answers every call of `operation` (its spec name) that meets the contract with this
    /// `data`, instead of the spec's example or the tickets the stand-in keeps.
    pub fn answer(&self, operation: &str, data: Value) {
        self.shared.state().answers.insert(operation.to_owned(), data);
    }

    /// Adds a ticket opened by a customer named `guest_name`: `get_ticket` returns it,
    /// `create_ticket_message` appends to its messages, `list_ticket_messages` pages
    /// through them.
    pub fn add_ticket(&self, ticket_id: &str, guest_name: &str) {
        self.shared.add_ticket(ticket_id, guest_name);
    }

    /// The customer writes `text` in the ticket: the message joins the ticket's history and
    /// the platform pushes `helpdesk.ticket_message.created_v1` to where
    /// [`deliver_events_to`](Self::deliver_events_to) points, if the event is subscribed.
    /// Returns the delivery, or `None` if the ticket was not added or the event is not
    /// subscribed (the message is kept all the same).
    pub async fn customer_writes(&self, ticket_id: &str, text: &str) -> Option<Delivery> {
        let event = self.shared.customer_message(ticket_id, text)?;
        self.shared.emit(&event).await
    }

    /// The messages of a ticket added with [`add_ticket`](Self::add_ticket), in the order
    /// they were written (the customer's and the app's), as `list_ticket_messages` gives
    /// them.
    pub fn ticket_messages(&self, ticket_id: &str) -> Vec<Value> {
        self.shared.ticket_messages(ticket_id)
    }

    /// The events subscribed now.
    pub fn subscribed(&self) -> BTreeSet<EventType> {
        self.shared
            .state()
            .subscribed
            .iter()
            .map(|(event_type, subtype)| EventType::new(event_type.clone(), subtype.clone()))
            .collect()
    }

    /// Asserts that exactly `events` are subscribed.
    ///
    /// # Panics
    ///
    /// If the subscribed events differ, listing both sets.
    #[track_caller]
    pub fn assert_subscribed(&self, events: &[EventType]) {
        let expected: BTreeSet<EventType> = events.iter().cloned().collect();
        let actual = self.subscribed();
        assert_eq!(actual, expected, "the subscribed events differ");
    }

    /// How many tokens the token endpoint issued.
    pub fn token_fetches(&self) -> usize {
        self.shared.state().token_fetches
    }

    /// Every request received, oldest first, with secrets masked.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Forgets every token issued so far, as when they expire: the next helpdesk call with
    /// one of them is answered 99991663.
    pub fn expire_tokens(&self) {
        self.shared.state().issued.clear();
    }

    /// Where [`emit`](Self::emit) pushes events, and how: the app's request URL and a pusher
    /// with the app's verification token (and Encrypt Key).
    pub fn deliver_events_to(&self, url: impl Into<String>, pusher: EventPusher) {
        self.shared.state().events_to = Some((url.into(), pusher));
    }

    /// Pushes `event` to the URL set with [`deliver_events_to`](Self::deliver_events_to), with
    /// the platform's retries, if its type is subscribed now; `None` (nothing sent) if it is
    /// not, as on the platform, or if no URL was set. A subscribed `helpdesk.ticket` /
    /// `ticket.created_v1` is pushed as `helpdesk.ticket.created_v1`.
    pub async fn emit(&self, event: &PushEvent) -> Option<Delivery> {
        self.shared.emit(event).await
    }

    /// Back to a fresh start: forgets the tickets, the subscriptions, the scripted answers
    /// and the answers set for operations, the recorded requests, every token issued and the
    /// logins' state; keeps the credentials and where events are delivered
    /// ([`deliver_events_to`](Self::deliver_events_to)).
    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl Drop for MockPlatform {
    fn drop(&mut self) {
        self.accept.abort();
        #[cfg(feature = "long-connection")]
        self.shared.long_connection.stop();
    }
}

type Answer = hyper::Response<Full<Bytes>>;

async fn handle(
    shared: Arc<Shared>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<Answer, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().to_owned();
    // The test's own controls: neither the platform's nor recorded among its requests.
    if control::is_control(&path) {
        return Ok(control::handle(&shared, &parts.method, &path, &body).await);
    }
    // The long connection's endpoint: its own faults, not the helpdesk calls' script.
    #[cfg(feature = "long-connection")]
    if parts.method == http::Method::POST && path == MockLongConnection::ENDPOINT_PATH {
        let answer = shared.long_connection.endpoint(&body).await;
        let masked = long_connection::masked(&body);
        record(&shared, &parts, &path, &masked, answer.status().as_u16());
        return Ok(answer);
    }
    let accounts = accounts::route(&parts.method, &path);
    if let Some(route) = accounts {
        accounts::note(&shared, route, &parts, &body);
    }
    let scripted = if path == TOKEN {
        None
    } else if let Some(route) = accounts {
        // The accounts endpoints play only the answers queued for them, not the helpdesk
        // calls' shared script.
        let mut state = shared.state();
        route
            .operation()
            .and_then(|id| state.script_for.get_mut(id)?.pop_front())
    } else {
        let mut state = shared.state();
        let operation = api::match_operation(&parts.method, &path).map(|(op, _, _)| op.id);
        let own = operation.and_then(|id| state.script_for.get_mut(id)?.pop_front());
        own.or_else(|| state.script.pop_front())
    };
    if let Some(Scripted::Delay(delay)) = &scripted {
        tokio::time::sleep(*delay).await;
    }
    // An accounts endpoint answers a scripted fault in its own shape.
    let own_shape = match (accounts, &scripted) {
        (Some(route), Some(scripted)) => accounts::scripted(route, scripted),
        _ => None,
    };
    let answer = if let Some(answer) = own_shape {
        answer
    } else {
        match scripted {
            Some(Scripted::Error {
                http_status,
                code,
                msg,
            }) => envelope(http_status, code, &msg),
            Some(Scripted::RateLimited { reset_seconds }) => {
                let mut answer = envelope(429, 99991400, "request trigger frequency limit");
                if let Ok(value) = reset_seconds.to_string().parse() {
                    answer.headers_mut().insert("x-ogw-ratelimit-reset", value);
                }
                answer
            }
            Some(Scripted::InvalidToken) => {
                shared.state().issued.clear();
                invalid_token()
            }
            Some(Scripted::Html { http_status }) => {
                let page = format!("<html><body><h1>{http_status}</h1></body></html>");
                respond(http_status, "text/html", page)
            }
            Some(Scripted::Delay(_)) | None => contract(&shared, &parts, &path, &body),
        }
    };
    record(&shared, &parts, &path, &body, answer.status().as_u16());
    Ok(answer)
}

/// The platform's answer to a request, enforcing the contract.
fn contract(shared: &Shared, parts: &http::request::Parts, path: &str, body: &Bytes) -> Answer {
    if let Some(route) = accounts::route(&parts.method, path) {
        return accounts::answer(shared, route, parts, body);
    }
    let subscribe = match (&parts.method, path) {
        (&http::Method::POST, TOKEN) => return issue_token(shared, body),
        (&http::Method::POST, SUBSCRIBE) => true,
        (&http::Method::POST, UNSUBSCRIBE) => false,
        _ => return api::answer(shared, parts, path, body),
    };
    // The checks every operation has (both credentials, the token kind, the query), then
    // the subscription's own body.
    if let Some(refusal) = api::precheck(shared, parts, path) {
        return refusal;
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(events) = (header("content-type") == Some(JSON_UTF8))
        .then(|| events_of(body))
        .flatten()
    else {
        return envelope(
            400,
            154000,
            "Bad request, please check your request body: it must be {\"events\": [{\"type\": ..., \"subtype\": ...}]}, \
             at least one event, no empty name, no other field, sent as application/json; charset=utf-8",
        );
    };
    let mut state = shared.state();
    for event in events {
        if subscribe {
            state.subscribed.insert(event);
        } else {
            state.subscribed.remove(&event);
        }
    }
    envelope_with_data(200, 0, "success")
}

/// The events of a well-formed body: `{"events":[{"type":..,"subtype":..}, ..]}`, at least
/// one, no empty name, no other field.
fn events_of(body: &Bytes) -> Option<Vec<(String, String)>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object().filter(|o| o.len() == 1)?;
    let events = object.get("events")?.as_array().filter(|a| !a.is_empty())?;
    events
        .iter()
        .map(|event| {
            let event = event.as_object().filter(|o| o.len() == 2)?;
            let name = |key| {
                event
                    .get(key)?
                    .as_str()
                    .filter(|s: &&str| !s.is_empty())
                    .map(str::to_owned)
            };
            Some((name("type")?, name("subtype")?))
        })
        .collect()
}

fn issue_token(shared: &Shared, body: &Bytes) -> Answer {
    let credentials = &shared.credentials;
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if value["app_id"].as_str() != Some(credentials.app_id.as_str()) {
        return envelope(200, 10003, "app id invalid");
    }
    if value["app_secret"].as_str() != Some(credentials.app_secret.as_str()) {
        return envelope(200, 10014, "app secret invalid");
    }
    let mut state = shared.state();
    state.token_fetches += 1;
    let token = format!("t-mock-{}", state.token_fetches);
    state.issued.push(token.clone());
    let answer =
        json!({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": credentials.token_lifetime});
    respond(200, JSON_UTF8, answer.to_string())
}

fn invalid_token() -> Answer {
    envelope(
        401,
        99991663,
        "Invalid access token for authorization. Please make a request with token attached.",
    )
}

fn envelope(status: u16, code: i64, msg: &str) -> Answer {
    respond(status, JSON_UTF8, json!({"code": code, "msg": msg}).to_string())
}

fn envelope_with_data(status: u16, code: i64, msg: &str) -> Answer {
    respond(
        status,
        JSON_UTF8,
        json!({"code": code, "msg": msg, "data": {}}).to_string(),
    )
}

fn respond(status: u16, content_type: &'static str, body: String) -> Answer {
    let mut answer = hyper::Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = answer.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    headers.insert("x-tt-logid", http::HeaderValue::from_static(LOG_ID));
    answer
}

fn record(shared: &Shared, parts: &http::request::Parts, path: &str, body: &Bytes, answered: u16) {
    let credentials = &shared.credentials;
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = match name.as_str() {
                // The scheme stays visible: Basic (the accounts side) or Bearer.
                "authorization" if value.as_bytes().starts_with(b"Basic ") => "Basic ***".to_owned(),
                "authorization" => "Bearer ***".to_owned(),
                "x-lark-helpdesk-authorization" => "***".to_owned(),
                _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_owned(), shown)
        })
        .collect();
    let mut body = String::from_utf8_lossy(body).into_owned();
    if accounts::route(&parts.method, path).is_some() {
        body = accounts::masked(&body);
    }
    if !credentials.app_secret.is_empty() {
        body = body.replace(&credentials.app_secret, "***");
    }
    shared.state().requests.push(RecordedRequest {
        method: parts.method.to_string(),
        path: path.to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
        answered,
    });
}
