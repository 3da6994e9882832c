//! The long connection's error type: what ends [`LongConnection::run`](super::LongConnection::run),
//! and what each failed connection was.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::Error;

/// A shared error kept as the [`source`](std::error::Error::source) of a
/// [`LongConnectionError`].
type SharedError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What ended [`LongConnection::run`](super::LongConnection::run), or made one of its
/// connections fail.
///
/// `run` returns [`Refused`](Self::Refused) when retrying cannot mend the refusal,
/// [`ReconnectsExhausted`](Self::ReconnectsExhausted) when the connection could not be
/// restored (its `last` is the failure of the last reconnect: [`Failed`](Self::Failed) or a
/// [`Call`](Self::Call) error of the endpoint request), and [`Call`](Self::Call) when the
/// settings do not allow the URL the platform gave. Building the connection fails with
/// [`Error`](crate::Error) instead, as settings are input; `From<Error>` lets one `?` serve
/// both.
///
/// `Display` says what happened in one line and does not repeat the underlying cause,
/// which is reachable through [`source`](std::error::Error::source). No variant ever
/// holds the app secret or the connection URL's credentials. Cheap to clone.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LongConnectionError {
    /// The platform refused the long connection in a way that retrying cannot mend: the app
    /// credentials were refused, the app is banned (403), or it has as many connections as
    /// the platform allows (1000040350). Nothing was retried.
    #[error("the platform refused the long connection: {msg}")]
    #[non_exhaustive]
    Refused {
        /// The platform's code: the endpoint's `code`, or the handshake's auth error code.
        code: Option<i64>,
        /// The HTTP status (or the handshake's `Handshake-Status`), when there was one.
        http_status: Option<u16>,
        /// What the platform said, or what was refused (the app id, never the secret).
        msg: String,
    },

    /// A connection failed (its endpoint, handshake or socket), or an open one was lost; it
    /// is retried.
    #[error("the long connection failed: {reason}")]
    #[non_exhaustive]
    Failed {
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
        last: Box<LongConnectionError>,
    },

    /// An error of the kind calls give: the endpoint request failed in transport or timed
    /// out ([`Error::Transport`], [`Error::Timeout`]; retried), or the settings do not allow
    /// the URL the endpoint gave ([`Error::InvalidInput`] for `base_url`: a plain `ws://` URL
    /// to a host that is not loopback, or `wss://` in a build without TLS; not retried). It is
    /// also what `From<Error>` makes of [`build`](super::LongConnectionBuilder::build)'s
    /// error, so that one `?` serves both. Its `Display` and `source` are the wrapped error's.
    #[error(transparent)]
    #[non_exhaustive]
    Call {
        /// The error, as a call gives it.
        #[from]
        error: Error,
    },
}

impl LongConnectionError {
    /// A failure that is retried, with no underlying error.
    pub(crate) fn failed(reason: impl Into<Cow<'static, str>>) -> Self {
        LongConnectionError::Failed {
            reason: reason.into(),
            source: None,
        }
    }

    /// A failure that is retried, caused by `source`.
    pub(crate) fn failed_because(
        reason: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        LongConnectionError::Failed {
            reason: reason.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The platform's code, for [`Refused`](Self::Refused) (when it had one) and for a
    /// [`Call`](Self::Call) error that has one.
    pub fn code(&self) -> Option<i64> {
        match self {
            LongConnectionError::Refused { code, .. } => *code,
            LongConnectionError::Call { error } => error.code(),
            _ => None,
        }
    }

    /// The HTTP status (or the handshake's `Handshake-Status`) of the platform's answer, for
    /// [`Refused`](Self::Refused) and for a [`Call`](Self::Call) error, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            LongConnectionError::Refused { http_status, .. } => *http_status,
            LongConnectionError::Call { error } => error.http_status(),
            _ => None,
        }
    }
}
