//! Turning what the generated client returns into a [`Receipt`] or an [`Error`].

use progenitor_client::{Error as GeneratedError, ResponseValue};
use reqwest::header::HeaderValue;

use crate::error::Error;
use crate::generated::types::{ErrorResponse, EventsResponse};
use crate::hooks::{log_id, log_id_of, ResponseMeta};

/// The platform's acknowledgement of a successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
    pub log_id: Option<String>,
}

type GeneratedResult = Result<ResponseValue<EventsResponse>, GeneratedError<ErrorResponse>>;

/// A failed attempt: its error, or the outcome to map into one on the slow path, and what
/// the hooks saw of it.
pub(crate) struct Failure {
    pub(crate) error: Result<Error, GeneratedError<ErrorResponse>>,
    pub(crate) meta: ResponseMeta,
}

impl Failure {
    /// The attempt's error; reads the start of an unexpected answer's body.
    pub(crate) async fn into_error(self) -> Error {
        match self.error {
            Ok(err) => err,
            Err(other) => unexpected_or_transport(other, self.meta).await,
        }
    }
}

/// Settles one attempt without awaiting: a receipt, or the failure (boxed, so that the
/// common path moves little). `meta` is what the hooks saw of the attempt.
pub(crate) fn settle(result: GeneratedResult, mut meta: ResponseMeta) -> Result<Receipt, Box<Failure>> {
    let error = match meta.token_error.take() {
        // The hook could not obtain a token, so nothing was sent.
        Some(err) => Ok(*err),
        None => match result {
            Ok(value) => {
                let http_status = value.status().as_u16();
                // The hook took the headers; the log id is in `meta`.
                let log_id = log_id_of(meta.log_id.as_ref());
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
                let answer = ErrorAnswer::new(value, meta.log_id.as_ref());
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
    Err(Box::new(Failure { error, meta }))
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
    /// The answer in `value`, whose `X-Tt-Logid` header is `log_id` (the header's value
    /// is passed in, as the hook may have taken the headers out of `value`).
    pub(crate) fn new(value: ResponseValue<ErrorResponse>, log_id: Option<&HeaderValue>) -> Self {
        let http_status = value.status().as_u16();
        let header_log_id = log_id_of(log_id);
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
pub(crate) async fn unexpected_or_transport<E>(err: GeneratedError<E>, meta: ResponseMeta) -> Error {
    match err {
        GeneratedError::UnexpectedResponse(response) => {
            let http_status = response.status().as_u16();
            let log_id = log_id(response.headers()).or_else(|| log_id_of(meta.log_id.as_ref()));
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
            http_status: meta.http_status.unwrap_or_default(),
            log_id: log_id_of(meta.log_id.as_ref()),
            body_excerpt: excerpt(&body),
            source: Some(std::sync::Arc::new(source)),
        },
        GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source)
            if crate::body::is_too_large(&source) =>
        {
            Error::ResponseTooLarge {
                http_status: meta.http_status.unwrap_or_default(),
                log_id: log_id_of(meta.log_id.as_ref()),
                limit: crate::body::MAX_BODY_BYTES,
            }
        }
        GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source) => {
            Error::transport(source, meta.http_status)
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
