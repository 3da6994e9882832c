//! A bound on how much of an answer the client reads: the platform's envelopes are tiny, so
//! a huge or endless body (a misconfigured proxy, a hostile server) ends the call with an
//! error instead of filling memory.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_core::Stream;

/// The most of an answer's body the client reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most of a download (a ticket or FAQ image) the client reads.
pub const MAX_DOWNLOAD_BYTES: usize = 32 * 1024 * 1024;

/// The error a body stream ends with when it passes [`MAX_BODY_BYTES`].
#[derive(Debug)]
pub(crate) struct BodyTooLarge(usize);

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the body is larger than {} bytes", self.0)
    }
}

impl std::error::Error for BodyTooLarge {}

/// Returns `response` with its body cut off, as an error, past `max` bytes
/// ([`MAX_BODY_BYTES`] or [`MAX_DOWNLOAD_BYTES`]).
///
/// A body whose `Content-Length` is within the limit is left as it is: hyper already
/// refuses to read past the declared length.
pub(crate) fn limit(response: reqwest::Response, max: usize) -> reqwest::Response {
    if response
        .content_length()
        .is_some_and(|length| length <= max as u64)
    {
        return response;
    }
    let (status, version, headers) = (response.status(), response.version(), response.headers().clone());
    let stream = Limited {
        inner: Box::pin(response.bytes_stream()),
        remaining: max,
        max,
        ended: false,
    };
    let mut limited = http::Response::new(reqwest::Body::wrap_stream(stream));
    *limited.status_mut() = status;
    *limited.version_mut() = version;
    *limited.headers_mut() = headers;
    reqwest::Response::from(limited)
}

struct Limited {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    remaining: usize,
    max: usize,
    ended: bool,
}

impl Stream for Limited {
    type Item = Result<Bytes, Box<dyn std::error::Error + Send + Sync>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        Poll::Ready(match ready!(self.inner.as_mut().poll_next(cx)) {
            Some(Ok(chunk)) if chunk.len() > self.remaining => {
                // Stop reading: the rest is never pulled from the connection.
                self.ended = true;
                Some(Err(Box::new(BodyTooLarge(self.max))))
            }
            Some(Ok(chunk)) => {
                self.remaining -= chunk.len();
                Some(Ok(chunk))
            }
            Some(Err(err)) => Some(Err(Box::new(err))),
            None => None,
        })
    }
}

/// Whether `err` (or one of its sources) is a body cut off at the limit.
pub(crate) fn is_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.is::<BodyTooLarge>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// The error a download's stream ends with: [`Error::ResponseTooLarge`] past the limit,
/// [`Error::Transport`] otherwise.
pub(crate) fn download_error(source: reqwest::Error, http_status: u16) -> crate::error::Error {
    if is_too_large(&source) {
        crate::error::Error::ResponseTooLarge {
            attempts: crate::error::Attempts::ONE,
            http_status,
            log_id: None,
            limit: MAX_DOWNLOAD_BYTES,
        }
    } else {
        crate::error::Error::transport(source, Some(http_status))
    }
}
