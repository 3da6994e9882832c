#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod body;
mod client;
mod error;
mod event;
mod hooks;
mod response;
mod retry;
mod secret;
mod token;

#[cfg(feature = "redis")]
mod redis_cache;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_cache::RedisTokenCache;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// The client progenitor generates from `openapi/helpdesk.yaml` at build time, reached
/// through [`Client::generated`]. Its request hook adds the same credentials, content
/// type and timeout as the wrapper's calls.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub use auth::HELPDESK_AUTHORIZATION;
pub use body::MAX_BODY_BYTES;
pub use client::{Client, ClientBuilder, DEFAULT_TIMEOUT, FEISHU_BASE_URL, LARK_BASE_URL};
pub use error::Error;
pub use event::Event;
pub use response::Receipt;
pub use retry::{DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_RETRIES, MAX_BACKOFF, MAX_RATE_LIMIT_WAIT};
pub use token::{
    BoxFuture, CachedToken, FetchLock, MemoryTokenCache, TokenCache, DEFAULT_REFRESH_MARGIN,
    MAX_REFRESH_MARGIN,
};
