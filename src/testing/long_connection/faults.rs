//! Faults on demand: the endpoint's answers in place of the URL, the refusals of the WebSocket
//! handshake, and the messages injected for a client to skip.

use std::time::Duration;

#[cfg(doc)]
use super::MockLongConnection;

/// An answer of the endpoint (`POST /callback/ws/endpoint`) in place of the URL, queued
/// with [`MockLongConnection::fail_endpoint`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointFault {
    /// `{"code":1,"msg":"system busy"}`: the client should try again later.
    SystemBusy,
    /// `{"code":1000040343,"msg":"internal error"}`: the client should try again later.
    InternalError,
    /// `{"code":10014,"msg":"app secret invalid"}` (whatever the credentials): the client must
    /// not retry.
    BadCredentials,
    /// Another code and message, on HTTP 200.
    Code {
        /// The platform code.
        code: i64,
        /// The message.
        msg: String,
    },
    /// A gateway's HTML page with this HTTP status (such as 502).
    HttpStatus(u16),
    /// `{"code":0,"msg":"ok","data":{}}`: success without a URL.
    MissingUrl,
    /// The normal answer after this delay.
    Delay(Duration),
}

/// A refusal of the WebSocket handshake, queued with [`MockLongConnection::refuse_handshakes`].
/// The answer's status line carries the same status as `Handshake-Status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeRefusal {
    /// `Handshake-Status: 403`: the app is banned; the client must not retry.
    Banned,
    /// `Handshake-Status: 514` and `Handshake-Autherrcode: 1000040350`: too many
    /// connections; the client must not retry.
    TooManyConnections,
    /// `Handshake-Status: 514` with another auth code
    /// ([`MockLongConnection::AUTH_FAILED`]): the client may retry.
    AuthFailed,
    /// A plain HTTP 500 without the handshake headers: the client may retry.
    ServerError,
}

/// What [`MockLongConnection::inject`] sends to every live connection, for a client to skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Injected {
    /// A data frame of type `card` (the old card callbacks), which the official clients drop
    /// without acknowledging.
    Card,
    /// A data frame of a type no client knows (`type: x-unknown`), with a `message_id`.
    UnknownType,
    /// A frame whose method is neither control nor data (method 7).
    UnknownMethod,
    /// A ping control frame from the server (method 0, `type: ping`).
    ServerPing,
    /// A text WebSocket message.
    Text,
    /// A binary WebSocket message that is not a protobuf frame.
    Undecodable,
}
