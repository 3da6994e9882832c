#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Where each behaviour lives, in the order a call runs through it (each module uses only
// those above it in this list):
//
// codes                      the platform's result codes the library acts on
// error, secret, body_limit  the calls' error type; secrets kept out of Debug; the answer-size bounds
// receipt                    the platform's acknowledgement of a successful call
// http_client                the library's own HTTP clients, built in one function: reqwest's
//                            TLS set-up, no redirects
// platform                   what a client and the long connection both take, checked once: the
//                            app's credentials; the base URL, plain http and the HTTP client
// credentials                the two header values: `Bearer <token>` and base64(id:token)
// token_cache                the public cache API: TokenCache, CachedToken, the in-memory cache
// single_flight              one caller does the work, the others waiting share its outcome
// token_manager              token reuse, one fetch for all callers, renewal after a rejection
// login_store                people's logins: UserLogin, the LoginStore API (compare-and-swap,
//                            a refresh lock), the in-memory store
// login_files                the login store in a folder: a JSON file per login, file locks
// user_tokens                people's user access tokens from stored logins: reused while fresh,
//                            refreshed once across callers and processes, rotation stored first
// retry                      the one decision after a failed attempt: renew the token, retry
//                            after a delay, or fail (and whether the outcome is unknown)
// client_state               what every request of a client shares (credentials, retry policy, URLs)
// operation                  the operation table's types: what each operation takes, how it pages
// download                   Download: the bytes of a download, bounded, as they arrive
// pages                      the page streams: every item of a paged operation, page by page
// generated_glue             what the generated code calls: the answers' decoding, the path
//                            parameters' encoding, the envelope, the seam to the call machinery
// generated                  progenitor's client, its builders' `send` run through `Dispatch`
// subscription               what one subscribes to: EventType, the table of the known events
//                            (EventType::KNOWN), the subscription request body
// attempt                    one attempt: its request with the credentials its operation takes
//                            (both headers), sent and bounded; what was seen of it (log id,
//                            rate-limit reset, token used); its answer mapped to data, a
//                            download or an Error
// token_endpoint             obtaining a token from the platform (the manager's seam)
// accounts                   the accounts host's endpoints: the device login, the code
//                            exchange, the refresh, who the person is
// login                      logging a person in (device flow; code flow with PKCE), the login
//                            stored; the refresher of stored logins
// hooks                      progenitor's hooks, for the token endpoint's and the accounts'
//                            requests only
// call                       one call of any operation: the loop of attempts (token renewal,
//                            retries that never repeat a side effect), its tracing span
// client                     Client and its builder: the configuration checks, user views
// raw                        any operation called by name, parameters as text, JSON in and out
// redis_connection           optional: one shared Redis connection with timeouts
// events                     receiving pushed events: checks, decryption, types, exactly once;
//                            served to the internet against slow and idle clients (feature
//                            `axum`); and over the long connection (feature `long-connection`),
//                            which has an error type of its own
// redis_cache, testing       optional: the Redis token cache, the stand-in for users' tests
// redis_logins               optional: the login store on Redis, shared by replicas

mod accounts;
mod attempt;
mod body_limit;
mod call;
mod client;
mod client_state;
mod codes;
mod credentials;
mod download;
mod error;
pub mod events;
pub mod generated;
mod generated_glue;
mod hooks;
mod http_client;
mod login;
mod login_files;
mod login_store;
mod operation;
mod pages;
mod platform;
mod raw;
mod receipt;
mod retry;
mod secret;
mod single_flight;
mod subscription;
mod token_cache;
mod token_endpoint;
mod token_manager;
mod user_tokens;

#[cfg(feature = "redis")]
mod redis_cache;
#[cfg(feature = "redis")]
mod redis_connection;
#[cfg(feature = "redis")]
mod redis_logins;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_cache::RedisTokenCache;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_logins::RedisLoginStore;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use body_limit::{MAX_BODY_BYTES, MAX_DOWNLOAD_BYTES};
pub use client::{Client, ClientBuilder, DEFAULT_TIMEOUT};
pub use credentials::HELPDESK_AUTHORIZATION;
pub use download::Download;
pub use error::{Attempts, Error};
pub use login::{BrowserLogin, DeviceLogin, Logins, DEFAULT_LOGIN_SCOPES};
pub use login_files::FileLoginStore;
pub use login_store::{LoginKey, LoginStore, MemoryLoginStore, RefreshLock, UserLogin};
pub use subscription::{EventType, KnownEvent};

/// The old name of [`EventType`].
#[deprecated(since = "0.3.0", note = "renamed EventType")]
pub type Event = EventType;
pub use operation::{Operation, Paging, TokenKind};
pub use platform::{FEISHU_ACCOUNTS_URL, FEISHU_BASE_URL, LARK_ACCOUNTS_URL, LARK_BASE_URL};
pub use raw::{RawAnswer, RawCall};
pub use receipt::Receipt;

/// The extension traits that put every operation on [`Client::api`], one trait per
/// resource (the spec's tags): `use feishu_helpdesk::prelude::*;`.
pub mod prelude {
    pub use crate::generated::prelude::*;
}
pub use http_client::http_client_builder;
pub use retry::{DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_RETRIES, MAX_BACKOFF, MAX_RATE_LIMIT_WAIT};
pub use token_cache::{BoxFuture, CachedToken, FetchLock, MemoryTokenCache, TokenCache};
pub use token_manager::{DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN};

/// Every operation of `openapi/helpdesk.yaml`, sorted by id: method, path, resource, the
/// token it takes, whether it is safe to send again, whether it answers bytes, how it pages.
pub fn operations() -> &'static [Operation] {
    generated::OPERATIONS
}
