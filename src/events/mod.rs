//! Receiving the helpdesk events an app subscribed to: checked, decrypted, typed, and handed
//! to your handler exactly once.
//!
//! - `receiver`: [`Receiver`], the framework-agnostic core (an `http::HeaderMap` and the raw
//!   body in, an `http::Response` out), and its builder;
//! - `crypto`: the signature and AES-256-CBC decryption;
//! - `event`: [`HelpdeskEvent`] and [`EventHeader`], with the payload types generated from
//!   `openapi/helpdesk.yaml`;
//! - `dedupe`: [`DedupeStore`], [`MemoryDedupeStore`] (and `RedisDedupeStore` with feature
//!   `redis`);
//! - `delivery`: the exactly-once hand-over to the handler, shared by both ways in, and its
//!   settings, [`DeliveryOptions`];
//! - `long_connection` (feature `long-connection`): `LongConnection`, events over a
//!   WebSocket the app opens itself, without a public URL, and `LongConnectionError`;
//! - `axum` (feature `axum`): `Receiver::into_service`, the receiver as an axum route;
//! - `serve` (feature `axum`): `serve`, an axum router served to the internet with timeouts
//!   and a connection cap against slow and idle clients.

#[cfg(feature = "axum")]
mod axum;
mod crypto;
mod dedupe;
mod delivery;
mod event;
#[cfg(feature = "long-connection")]
pub(crate) mod long_connection;
mod receiver;
#[cfg(feature = "redis")]
mod redis_dedupe;
#[cfg(feature = "axum")]
mod serve;

pub use dedupe::{Claim, DedupeStore, MemoryDedupeStore};
pub use delivery::{DeliveryOptions, DEFAULT_CLAIM_LEASE, DEFAULT_DONE_TTL, DEFAULT_HANDLER_DEADLINE};
pub use event::{EventHeader, HelpdeskEvent};
#[cfg(feature = "long-connection")]
#[cfg_attr(docsrs, doc(cfg(feature = "long-connection")))]
pub use long_connection::{
    LongConnection, LongConnectionBuilder, LongConnectionError, ShutdownHandle, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_PONG_TIMEOUT, DEFAULT_SHUTDOWN_GRACE,
};
pub use receiver::{Receiver, ReceiverBuilder, MAX_EVENT_BODY_BYTES};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_dedupe::RedisDedupeStore;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use serve::{
    bind, raise_file_limit, serve, Serve, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, LISTEN_BACKLOG, MAX_HEAD_BYTES,
};
