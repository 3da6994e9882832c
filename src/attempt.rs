//! One attempt: what the hooks saw of it (status, log id, rate-limit reset, the token sent
//! or why there was none), and the mapping of its outcome to a [`Receipt`] or an [`Error`].

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use progenitor_client::{Error as GeneratedError, ResponseValue};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;
use crate::generated::types::{ErrorResponse, EventsResponse};
use crate::token_cache::CachedToken;

/// The header the platform puts its log id in; a constant, so that no call parses it.
const LOG_ID: HeaderName = HeaderName::from_static("x-tt-logid");

/// What the hooks saw of one attempt. The hook takes the answer's headers (so that
/// progenitor does not copy them), keeping here what the wrapper reads: the log id, and the
/// status for when progenitor drops the response (a body that is not the envelope, or one
/// that fails mid-read).
#[derive(Debug, Default)]
pub(crate) struct AttemptNotes {
    pub(crate) http_status: Option<u16>,
    /// Kept as the header value (a reference count, not a copy) until it is needed.
    log_id_header: Option<HeaderValue>,
    pub(crate) rate_limit_reset: Option<Duration>,
    /// The tenant token the request carried, to forget if the platform rejects it.
    pub(crate) token_used: Option<CachedToken>,
    /// Why no token could be obtained: the request was not sent. Boxed: the notes are moved
    /// in and out of the task-local on every poll.
    pub(crate) token_error: Option<Box<Error>>,
}

impl AttemptNotes {
    /// Notes the answer's status, log id and (on a failure) rate-limit reset.
    pub(crate) fn answer(&mut self, status: reqwest::StatusCode, headers: &HeaderMap) {
        self.http_status = Some(status.as_u16());
        self.log_id_header = headers.get(LOG_ID).cloned();
        // Rate-limited answers (429, or 400 with code 99991400) carry the reset time; a
        // successful one has nothing to wait for.
        if !status.is_success() {
            self.rate_limit_reset = crate::retry::rate_limit_reset(headers);
        }
    }

    /// The platform's log id for the request, if the answer had one.
    pub(crate) fn log_id(&self) -> Option<String> {
        log_id_text(self.log_id_header.as_ref())
    }
}

tokio::task_local! {
    /// The notes of the attempt being polled; unset when the generated client is used
    /// directly, outside [`observe`].
    static NOTES: RefCell<AttemptNotes>;
}

/// Runs one attempt, `call` of the generated client, and returns its outcome with what the
/// hooks noted of it. An attempt inside another (a token fetch inside a call's request hook)
/// has notes of its own.
///
/// Takes the call as a closure, made inside the task-local's future: a future passed in
/// would be stored twice over in the attempt's future (an argument is kept beside the
/// future awaiting it), and moved with it.
pub(crate) fn observe<F: Future>(
    call: impl FnOnce() -> F,
) -> impl Future<Output = (F::Output, AttemptNotes)> {
    NOTES.scope(RefCell::new(AttemptNotes::default()), async move {
        let outcome = call().await;
        (outcome, NOTES.with(|notes| notes.take()))
    })
}

/// Lets the hooks write into the current attempt's notes; does nothing outside [`observe`]
/// and returns whether there were notes to write.
pub(crate) fn note(write: impl FnOnce(&mut AttemptNotes)) -> bool {
    NOTES.try_with(|notes| write(&mut notes.borrow_mut())).is_ok()
}

/// The log id in an `X-Tt-Logid` header value, if it is non-empty text.
fn log_id_text(value: Option<&HeaderValue>) -> Option<String> {
    value
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The platform's acknowledgement of a successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
    pub log_id: Option<String>,
}

/// What a generated helpdesk operation returns.
pub(crate) type GeneratedResult = Result<ResponseValue<EventsResponse>, GeneratedError<ErrorResponse>>;

/// A failed attempt: its error, or the outcome to map into one on the slow path, and what
/// the hooks saw of it.
pub(crate) struct Failure {
    pub(crate) error: Result<Error, GeneratedError<ErrorResponse>>,
    pub(crate) notes: AttemptNotes,
}

impl Failure {
    /// The attempt's error; reads the start of an unexpected answer's body.
    pub(crate) async fn into_error(self) -> Error {
        match self.error {
            Ok(err) => err,
            Err(other) => unexpected_or_transport(other, self.notes).await,
        }
    }
}

/// Settles one attempt without awaiting: a receipt, or the failure (boxed, so that the
/// common path moves little). `notes` is what the hooks saw of the attempt.
pub(crate) fn settle(result: GeneratedResult, mut notes: AttemptNotes) -> Result<Receipt, Box<Failure>> {
    let error = match notes.token_error.take() {
        // The hook could not obtain a token, so nothing was sent.
        Some(err) => Ok(*err),
        None => match result {
            Ok(value) => {
                let http_status = value.status().as_u16();
                // The hook took the headers; the log id is in `notes`.
                let log_id = notes.log_id();
                let envelope = value.into_inner();
                if envelope.code == 0 {
                    return Ok(Receipt { http_status, log_id });
                }
                // The platform reports some failures as HTTP 200 with a non-zero code.
                Ok(Error::Api {
                    code: envelope.code,
                    msg: envelope.msg,
                    http_status,
                    log_id,
                })
            }
            Err(GeneratedError::ErrorResponse(value)) => {
                let answer = ErrorAnswer::new(value, &notes);
                Ok(Error::Api {
                    code: answer.code,
                    msg: answer.msg,
                    http_status: answer.http_status,
                    log_id: answer.log_id,
                })
            }
            Err(other) => Err(other),
        },
    };
    Err(Box::new(Failure { error, notes }))
}

/// A documented error answer (`ErrorResponse` on a 4xx/5xx status), as an error keeps it.
pub(crate) struct ErrorAnswer {
    pub(crate) code: i64,
    pub(crate) msg: String,
    pub(crate) http_status: u16,
    /// From the `X-Tt-Logid` header, or else from the body's `error.log_id`.
    pub(crate) log_id: Option<String>,
}

impl ErrorAnswer {
    /// The answer in `value`, with the log id the hook noted (it took the headers out of
    /// `value`).
    pub(crate) fn new(value: ResponseValue<ErrorResponse>, notes: &AttemptNotes) -> Self {
        let http_status = value.status().as_u16();
        let header_log_id = notes.log_id();
        let body = value.into_inner();
        Self {
            code: body.code,
            msg: body.msg,
            http_status,
            log_id: header_log_id.or_else(|| body.error.and_then(|detail| detail.log_id)),
        }
    }
}

/// Maps the outcomes that are not the platform's envelope: undocumented statuses, bodies
/// that do not decode, and transport failures.
pub(crate) async fn unexpected_or_transport<E>(err: GeneratedError<E>, notes: AttemptNotes) -> Error {
    match err {
        GeneratedError::UnexpectedResponse(response) => {
            let http_status = response.status().as_u16();
            let log_id = log_id_text(response.headers().get(LOG_ID)).or_else(|| notes.log_id());
            match read_excerpt(response).await {
                Ok(body_excerpt) => Error::UnexpectedResponse {
                    http_status,
                    log_id,
                    body_excerpt,
                    source: None,
                },
                Err(source) => Error::transport(source, Some(http_status)),
            }
        }
        GeneratedError::InvalidResponsePayload(body, source) => Error::UnexpectedResponse {
            http_status: notes.http_status.unwrap_or_default(),
            log_id: notes.log_id(),
            body_excerpt: excerpt(&body),
            source: Some(std::sync::Arc::new(source)),
        },
        GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source)
            if crate::body_limit::is_too_large(&source) =>
        {
            Error::ResponseTooLarge {
                http_status: notes.http_status.unwrap_or_default(),
                log_id: notes.log_id(),
                limit: crate::body_limit::MAX_BODY_BYTES,
            }
        }
        GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source) => {
            Error::transport(source, notes.http_status)
        }
        GeneratedError::InvalidUpgrade(source) => Error::Internal {
            message: format!("unexpected protocol upgrade: {source}"),
        },
        GeneratedError::InvalidRequest(message) | GeneratedError::Custom(message) => {
            Error::Internal { message }
        }
        GeneratedError::ErrorResponse(value) => Error::Internal {
            message: format!("an error answer with HTTP {} was not mapped", value.status()),
        },
    }
}

/// Reads no more of an unexpected body than the excerpt keeps.
async fn read_excerpt(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut head = Vec::new();
    while head.len() < Error::BODY_EXCERPT_LIMIT {
        match response.chunk().await? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(excerpt(&head))
}

/// At most [`Error::BODY_EXCERPT_LIMIT`] bytes of `body`, lossily decoded.
fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(Error::BODY_EXCERPT_LIMIT)];
    String::from_utf8_lossy(head).into_owned()
}

#[cfg(test)]
mod tests {
    use super::excerpt;
    use crate::Error;

    #[test]
    fn excerpt_is_bounded_and_lossy() {
        let long = vec![b'x'; Error::BODY_EXCERPT_LIMIT * 3];
        assert_eq!(excerpt(&long).len(), Error::BODY_EXCERPT_LIMIT);
        assert_eq!(excerpt(b"<html>\xff</html>"), "<html>\u{fffd}</html>");
    }
}
