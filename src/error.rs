//! The error type of the calls and of every builder (the long connection's `run` has its own,
//! `events::LongConnectionError`).

use std::borrow::Cow;
use std::sync::Arc;

/// A shared error kept as the [`source`](std::error::Error::source) of an [`Error`].
type SharedError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when building a client or calling the platform.
///
/// Each variant is what went wrong, also after retries or a token renewal: a `match` on
/// `Error::Api { code: 154003, .. }` catches a 154003 that followed a 503. What the call
/// had done by then (how many requests it sent, whether the platform may have carried out
/// the last one) is on the error too, in the [`Attempts`] of the variants that come from
/// sending a request, and through [`attempts`](Error::attempts) and
/// [`is_outcome_unknown`](Error::is_outcome_unknown).
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
    #[error("the platform answered code {code} (HTTP {http_status}): {msg}{attempts}")]
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
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The answer was not the platform's JSON envelope (an HTML page from a gateway, an
    /// empty body, a status the API does not document).
    #[error("unexpected answer with HTTP {http_status}{attempts}")]
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
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The answer's body was larger than [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES); the
    /// rest was not read.
    #[error("the answer's body (HTTP {http_status}) is larger than {limit} bytes{attempts}")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The HTTP status of the answer.
        http_status: u16,
        /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
        log_id: Option<String>,
        /// The limit that was passed.
        limit: usize,
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The request or its answer did not complete within the configured timeout.
    #[error("the request timed out{attempts}")]
    #[non_exhaustive]
    Timeout {
        /// The transport error.
        #[source]
        source: Arc<reqwest::Error>,
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The request could not be sent, or its answer could not be received.
    #[error("the request failed in transport{attempts}")]
    #[non_exhaustive]
    Transport {
        /// The HTTP status, when the connection failed while reading the body.
        http_status: Option<u16>,
        /// The transport error.
        #[source]
        source: Arc<reqwest::Error>,
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The platform refused to issue a tenant access token for the app's credentials.
    #[error("the platform refused a tenant access token for app {app_id}: code {code} (HTTP {http_status}): {msg}{attempts}")]
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
        /// How many requests the call sent, and whether the platform may have carried out
        /// the last one.
        attempts: Attempts,
    },

    /// The operation acts for a person and takes a user access token, and the client had
    /// none; nothing was sent. Call it through [`Client::as_user`](crate::Client::as_user).
    #[error("{operation} acts for a person: it needs a user access token (call it through Client::as_user)")]
    #[non_exhaustive]
    UserTokenRequired {
        /// The operation, such as `update_ticket`.
        operation: &'static str,
    },

    /// The person must log in again: their login is not stored, or its refresh failed for
    /// good (the refresh token was revoked, already used, expired, or belongs to another
    /// app; `code` is the accounts endpoint's). Nothing was sent for the operation. The
    /// command line answers `feishu-helpdesk login`; a service sends the person through a
    /// login flow again. Names the person, never a token.
    #[error("{open_id} must log in again to app {app_id}: {reason}")]
    #[non_exhaustive]
    LoginRequired {
        /// The app id.
        app_id: String,
        /// The person's `open_id`.
        open_id: String,
        /// The accounts endpoint's code that ended the login (such as 20064 for a revoked
        /// refresh token), if one did.
        code: Option<i64>,
        /// Why, in words.
        reason: String,
    },

    /// The accounts endpoint (login, token exchange, refresh) refused: a person declined, a
    /// code or device login expired, a setting of the app is missing, a parameter is wrong.
    /// `error` is the OAuth error (`access_denied`, `expired_token`, `invalid_grant`...),
    /// `code` the platform's (see the README's table).
    #[error("the login was refused: {error}{}: {description}{attempts}", refusal_details(*.code, *.http_status))]
    #[non_exhaustive]
    LoginRefused {
        /// The platform's code, such as 20074 (the app may not refresh tokens); `None` when
        /// the answer had none, or no answer carried the refusal (`no_refresh_token`, and a
        /// device login that ran out of time).
        code: Option<i64>,
        /// The OAuth error, such as `access_denied`.
        error: String,
        /// The platform's description, or what is missing.
        description: String,
        /// The HTTP status of the answer that carried the refusal, if one did.
        http_status: Option<u16>,
        /// The platform's log id (`X-Tt-Logid`), if the answer had one.
        log_id: Option<String>,
        /// How many requests were sent, and whether the last one's outcome is unknown.
        attempts: Attempts,
    },

    /// The login store failed (a file could not be read or written, Redis did not answer):
    /// nothing was changed in it by this call.
    #[error("the login store failed: {reason}")]
    #[non_exhaustive]
    Store {
        /// What failed, without secrets.
        reason: String,
        /// The underlying error.
        #[source]
        source: Option<SharedError>,
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

    pub(crate) fn store(
        reason: impl Into<String>,
        source: Option<impl std::error::Error + Send + Sync + 'static>,
    ) -> Self {
        Error::Store {
            reason: reason.into(),
            source: source.map(|source| Arc::new(source) as SharedError),
        }
    }

    /// A refusal of the accounts host (one request): its code (0 if it had none), OAuth
    /// error and description.
    pub(crate) fn login_refused(
        code: i64,
        error: impl Into<String>,
        description: impl Into<String>,
        http_status: u16,
        log_id: Option<String>,
    ) -> Self {
        Error::LoginRefused {
            // An answer without a code (or with 0 beside an error) names none.
            code: (code != 0).then_some(code),
            error: error.into(),
            description: description.into(),
            http_status: Some(http_status),
            log_id,
            attempts: Attempts::ONE,
        }
    }

    pub(crate) fn transport(source: reqwest::Error, http_status: Option<u16>) -> Self {
        if source.is_timeout() {
            Error::Timeout {
                source: Arc::new(source),
                attempts: Attempts::ONE,
            }
        } else {
            Error::Transport {
                http_status: http_status.or_else(|| source.status().map(|s| s.as_u16())),
                source: Arc::new(source),
                attempts: Attempts::ONE,
            }
        }
    }

    /// The [`Attempts`] of a variant that comes from sending a request.
    fn attempts_field(&mut self) -> Option<&mut Attempts> {
        match self {
            Error::Api { attempts, .. }
            | Error::UnexpectedResponse { attempts, .. }
            | Error::ResponseTooLarge { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::TokenRefused { attempts, .. }
            | Error::LoginRefused { attempts, .. } => Some(attempts),
            _ => None,
        }
    }

    /// This error, as the end of a call that made `attempts`.
    pub(crate) fn after(mut self, attempts: Attempts) -> Self {
        if let Some(field) = self.attempts_field() {
            *field = attempts;
        }
        self
    }

    /// How many requests the call sent: more than one after retries, zero for input
    /// refused before sending, else one.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api { attempts, .. }
            | Error::UnexpectedResponse { attempts, .. }
            | Error::ResponseTooLarge { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::TokenRefused { attempts, .. }
            | Error::LoginRefused { attempts, .. } => attempts.sent,
            Error::InvalidInput { .. }
            | Error::UserTokenRequired { .. }
            | Error::LoginRequired { .. }
            | Error::Store { .. } => 0,
            _ => 1,
        }
    }

    /// Whether the platform may have carried out the request: an operation that creates or
    /// changes something failed in a way that leaves it open (a timeout, a connection lost
    /// after the request was written, a server-side failure). It was not sent again, so
    /// that nothing is done twice: check the platform's state before repeating it.
    pub fn is_outcome_unknown(&self) -> bool {
        match self {
            Error::Api { attempts, .. }
            | Error::UnexpectedResponse { attempts, .. }
            | Error::ResponseTooLarge { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Transport { attempts, .. }
            | Error::TokenRefused { attempts, .. }
            | Error::LoginRefused { attempts, .. } => attempts.outcome_unknown,
            _ => false,
        }
    }

    /// The platform's result code, for [`Error::Api`], [`Error::TokenRefused`],
    /// [`Error::LoginRefused`] and (when a code ended the login) [`Error::LoginRequired`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } | Error::TokenRefused { code, .. } => Some(*code),
            Error::LoginRequired { code, .. } | Error::LoginRefused { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status of the platform's answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api { http_status, .. }
            | Error::TokenRefused { http_status, .. }
            | Error::ResponseTooLarge { http_status, .. }
            | Error::UnexpectedResponse { http_status, .. } => Some(*http_status),
            Error::Transport { http_status, .. } | Error::LoginRefused { http_status, .. } => *http_status,
            _ => None,
        }
    }

    /// The platform's log id for the request (the `X-Tt-Logid` header), to quote when
    /// asking the platform for support.
    pub fn log_id(&self) -> Option<&str> {
        match self {
            Error::Api { log_id, .. }
            | Error::TokenRefused { log_id, .. }
            | Error::LoginRefused { log_id, .. }
            | Error::ResponseTooLarge { log_id, .. }
            | Error::UnexpectedResponse { log_id, .. } => log_id.as_deref(),
            _ => None,
        }
    }
}

/// ` (code 20064, HTTP 400)`, or as much of it as is known, for a login's refusal.
fn refusal_details(code: Option<i64>, http_status: Option<u16>) -> String {
    match (code, http_status) {
        (Some(code), Some(status)) => format!(" (code {code}, HTTP {status})"),
        (Some(code), None) => format!(" (code {code})"),
        (None, Some(status)) => format!(" (HTTP {status})"),
        (None, None) => String::new(),
    }
}

/// What a call had done when it failed: on every variant of [`Error`] that comes from
/// sending a request.
///
/// `Display` adds to the error's message only what is worth saying: nothing for one
/// attempt, how many there were after retries, and that the outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempts {
    /// How many requests the call sent (those refused for the rate limit or an expired
    /// token included).
    pub sent: u32,
    /// Whether the platform may have carried out the last one: see
    /// [`Error::is_outcome_unknown`].
    pub outcome_unknown: bool,
}

impl Attempts {
    /// One request, whose outcome is known (the platform answered, or surely did not act).
    pub const ONE: Attempts = Attempts {
        sent: 1,
        outcome_unknown: false,
    };
}

impl std::fmt::Display for Attempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sent > 1 {
            write!(f, " (after {} attempts)", self.sent)?;
        }
        if self.outcome_unknown {
            f.write_str("; the outcome is unknown: the platform may have carried it out")?;
        }
        Ok(())
    }
}
