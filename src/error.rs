//! The one error type of the library.

use std::borrow::Cow;
use std::sync::Arc;

/// A shared error kept as the [`source`](std::error::Error::source) of an [`Error`].
type SharedError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// The result code the platform uses for rate limiting.
pub(crate) const RATE_LIMITED: i64 = 99991400;

/// Everything that can go wrong when building a client or calling the platform.
///
/// `Display` says what happened in one line and does not repeat the underlying cause,
/// which is reachable through [`source`](std::error::Error::source). No variant ever
/// holds a token or secret. Cheap to clone: callers that waited on one token fetch all
/// receive its error.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input was refused before anything was sent.
    #[error("invalid {field}: {reason}")]
    #[non_exhaustive]
    InvalidInput {
        /// The builder setting or argument that is wrong, such as `base_url` or `events`.
        field: &'static str,
        /// What is wrong with it.
        reason: Cow<'static, str>,
        /// The underlying parse error, if any.
        #[source]
        source: Option<SharedError>,
    },

    /// The platform answered with a non-zero `code`, on HTTP 200 or an error status.
    #[error("the platform answered code {code} (HTTP {http_status}): {msg}")]
    #[non_exhaustive]
    Api {
        /// The platform's result code, such as 154000.
        code: i64,
        /// The platform's description of the error.
        msg: String,
        /// The HTTP status of the answer.
        http_status: u16,
        /// The platform's log id for the request (`X-Tt-Logid`).
        log_id: Option<String>,
    },

    /// The answer was not the platform's JSON envelope (an HTML page from a gateway, an
    /// empty body, a status the API does not document).
    #[error("unexpected answer with HTTP {http_status}")]
    #[non_exhaustive]
    UnexpectedResponse {
        /// The HTTP status of the answer.
        http_status: u16,
        /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
        log_id: Option<String>,
        /// The start of the body (at most [`Error::BODY_EXCERPT_LIMIT`] bytes, lossily
        /// decoded as UTF-8).
        body_excerpt: String,
        /// Why the body could not be decoded, when it was expected to be the envelope.
        #[source]
        source: Option<Arc<serde_json::Error>>,
    },

    /// The answer's body was larger than [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES); the
    /// rest was not read.
    #[error("the answer's body (HTTP {http_status}) is larger than {limit} bytes")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The HTTP status of the answer.
        http_status: u16,
        /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
        log_id: Option<String>,
        /// The limit that was passed.
        limit: usize,
    },

    /// The request or its answer did not complete within the configured timeout.
    #[error("the request timed out")]
    #[non_exhaustive]
    Timeout {
        /// The transport error.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// The request could not be sent, or its answer could not be received.
    #[error("the request failed in transport")]
    #[non_exhaustive]
    Transport {
        /// The HTTP status, when the connection failed while reading the body.
        http_status: Option<u16>,
        /// The transport error.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// The platform refused to issue a tenant access token for the app's credentials.
    #[error("the platform refused a tenant access token for app {app_id}: code {code} (HTTP {http_status}): {msg}")]
    #[non_exhaustive]
    TokenRefused {
        /// The app id whose credentials were refused (never the secret).
        app_id: String,
        /// The platform's result code, such as 10014 for a wrong app secret.
        code: i64,
        /// The platform's description of the error.
        msg: String,
        /// The HTTP status of the answer.
        http_status: u16,
        /// The platform's log id for the request (`X-Tt-Logid`).
        log_id: Option<String>,
    },

    /// The call failed on every attempt; `last` is the error of the last one. The
    /// accessors ([`code`](Error::code), [`http_status`](Error::http_status),
    /// [`log_id`](Error::log_id), [`is_retryable`](Error::is_retryable)) answer for it.
    #[error("the call failed after {attempts} attempts")]
    #[non_exhaustive]
    AfterRetries {
        /// How many requests were sent.
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },

    /// The operation acts for a person and takes a user access token, and the client had
    /// none; nothing was sent. Call it through [`Client::as_user`](crate::Client::as_user).
    #[error("{operation} acts for a person: it needs a user access token (call it through Client::as_user)")]
    #[non_exhaustive]
    UserTokenRequired {
        /// The operation, such as `update_ticket`.
        operation: &'static str,
    },

    /// A request that creates or changes something failed in a way that leaves open
    /// whether the platform carried it out (a timeout, a connection lost after the request
    /// was written, a server-side failure). It was not sent again, so that nothing is done
    /// twice: check the platform's state before repeating it.
    #[error("the outcome of {operation} is unknown: the platform may have carried it out")]
    #[non_exhaustive]
    OutcomeUnknown {
        /// The operation, such as `create_ticket_message`.
        operation: &'static str,
        /// The failure.
        #[source]
        source: Box<Error>,
    },

    /// The platform refused the long connection in a way that retrying cannot mend: the app
    /// credentials were refused, the app is banned (403), or it has as many connections as
    /// the platform allows (1000040350). Nothing was retried.
    #[error("the platform refused the long connection: {msg}")]
    #[non_exhaustive]
    ConnectionRefused {
        /// The platform's code: the endpoint's `code`, or the handshake's auth error code.
        code: Option<i64>,
        /// The HTTP status (or the handshake's `Handshake-Status`), when there was one.
        http_status: Option<u16>,
        /// What the platform said, or what was refused.
        msg: String,
    },

    /// The long connection failed (its endpoint, handshake or socket); it is retried.
    #[error("the long connection failed: {reason}")]
    #[non_exhaustive]
    Connection {
        /// What failed.
        reason: Cow<'static, str>,
        /// The underlying error, if any.
        #[source]
        source: Option<SharedError>,
    },

    /// The long connection was lost and every reconnect the settings allow failed; `last` is
    /// the failure of the last one.
    #[error("the long connection was not restored after {attempts} reconnects")]
    #[non_exhaustive]
    ReconnectsExhausted {
        /// How many reconnects were tried.
        attempts: u32,
        /// The failure of the last one.
        #[source]
        last: Box<Error>,
    },

    /// The library could not build or process the request: a bug, please report it.
    #[error("internal error: {message}")]
    #[non_exhaustive]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// How much of an unexpected body [`Error::UnexpectedResponse`] keeps.
    pub const BODY_EXCERPT_LIMIT: usize = 512;

    pub(crate) fn invalid_input(field: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn invalid_input_because(
        field: &'static str,
        reason: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::InvalidInput {
            field,
            reason: reason.into(),
            source: Some(Arc::new(source)),
        }
    }

    #[cfg(feature = "long-connection")]
    pub(crate) fn connection(reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Connection {
            reason: reason.into(),
            source: None,
        }
    }

    #[cfg(feature = "long-connection")]
    pub(crate) fn connection_because(
        reason: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Connection {
            reason: reason.into(),
            source: Some(Arc::new(source)),
        }
    }

    pub(crate) fn transport(source: reqwest::Error, http_status: Option<u16>) -> Self {
        if source.is_timeout() {
            Error::Timeout {
                source: Arc::new(source),
            }
        } else {
            Error::Transport {
                http_status: http_status.or_else(|| source.status().map(|s| s.as_u16())),
                source: Arc::new(source),
            }
        }
    }

    /// How many requests the call sent: more than one after retries, else one (or zero
    /// for input refused before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::AfterRetries { attempts, .. } => *attempts,
            Error::InvalidInput { .. } | Error::UserTokenRequired { .. } => 0,
            _ => 1,
        }
    }

    /// The error itself or, after retries, the error of the last attempt (for
    /// [`Error::OutcomeUnknown`], the failure it wraps).
    pub fn last(&self) -> &Error {
        match self {
            Error::AfterRetries { last, .. } => last.last(),
            Error::OutcomeUnknown { source, .. } => source.last(),
            other => other,
        }
    }

    /// Whether this is, or wraps, [`Error::OutcomeUnknown`]: the platform may have carried
    /// the request out.
    pub fn is_outcome_unknown(&self) -> bool {
        match self {
            Error::OutcomeUnknown { .. } => true,
            Error::AfterRetries { last, .. } => last.is_outcome_unknown(),
            _ => false,
        }
    }

    /// The platform's result code, for [`Error::Api`] and [`Error::TokenRefused`].
    pub fn code(&self) -> Option<i64> {
        match self.last() {
            Error::Api { code, .. } | Error::TokenRefused { code, .. } => Some(*code),
            Error::ConnectionRefused { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status of the platform's answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self.last() {
            Error::Api { http_status, .. }
            | Error::TokenRefused { http_status, .. }
            | Error::ResponseTooLarge { http_status, .. }
            | Error::UnexpectedResponse { http_status, .. } => Some(*http_status),
            Error::Transport { http_status, .. } | Error::ConnectionRefused { http_status, .. } => {
                *http_status
            }
            _ => None,
        }
    }

    /// The platform's log id for the request (the `X-Tt-Logid` header), to quote when
    /// asking the platform for support.
    pub fn log_id(&self) -> Option<&str> {
        match self.last() {
            Error::Api { log_id, .. }
            | Error::TokenRefused { log_id, .. }
            | Error::ResponseTooLarge { log_id, .. }
            | Error::UnexpectedResponse { log_id, .. } => log_id.as_deref(),
            _ => None,
        }
    }

    /// Whether the same request may succeed if sent again: timeouts, transport failures,
    /// rate limiting, and server-side (5xx) failures. Input and business errors (such as
    /// 154000 and 154003) are not retryable.
    pub fn is_retryable(&self) -> bool {
        // Sending a request whose outcome is unknown again could do it twice.
        if self.is_outcome_unknown() {
            return false;
        }
        match self.last() {
            Error::Timeout { .. } | Error::Transport { .. } | Error::Connection { .. } => true,
            Error::Api {
                code, http_status, ..
            }
            | Error::TokenRefused {
                code, http_status, ..
            } => *code == RATE_LIMITED || is_retryable_status(*http_status),
            Error::UnexpectedResponse { http_status, .. } => is_retryable_status(*http_status),
            Error::InvalidInput { .. }
            | Error::ResponseTooLarge { .. }
            | Error::Internal { .. }
            | Error::UserTokenRequired { .. }
            | Error::OutcomeUnknown { .. }
            | Error::AfterRetries { .. }
            | Error::ConnectionRefused { .. }
            | Error::ReconnectsExhausted { .. } => false,
        }
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status)
}
