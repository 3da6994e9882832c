//! The platform's result codes that the library acts on, in one place: the retry decision
//! (`crate::retry`) and the long connection read them from here.

/// The result code of a request refused for the rate limit (on HTTP 400 or 429); the answer's
/// `x-ogw-ratelimit-reset` says when to send it again.
pub(crate) const RATE_LIMITED: i64 = 99991400;

/// The result codes with which the platform rejects a tenant access token as invalid or
/// expired: the request was not acted on, and a new token mends it.
pub(crate) const INVALID_TENANT_TOKEN: [i64; 4] = [99991661, 99991663, 99991664, 99991671];

/// The result codes with which the platform rejects a user access token as invalid or
/// expired: the request was not acted on, and a refreshed token mends it.
pub(crate) const INVALID_USER_TOKEN: [i64; 2] = [99991668, 99991677];

/// The long connection's endpoint is busy: retrying may mend it.
#[cfg(feature = "long-connection")]
pub(crate) const ENDPOINT_BUSY: i64 = 1;

/// The long connection's endpoint failed inside: retrying may mend it.
#[cfg(feature = "long-connection")]
pub(crate) const ENDPOINT_INTERNAL_ERROR: i64 = 1000040343;

/// The long connection's handshake refusal (`Handshake-Autherrcode`, status 514) for an app
/// that has as many connections as the platform allows: retrying cannot mend it.
#[cfg(feature = "long-connection")]
pub(crate) const TOO_MANY_CONNECTIONS: i64 = 1000040350;
