//! Turning what the generated client returns into a [`Receipt`] or an [`Error`].

use progenitor_client::{Error as GeneratedError, ResponseValue};

use crate::error::Error;
use crate::generated::types::{ErrorResponse, EventsResponse};
use crate::hooks::{log_id, ResponseMeta};

/// The platform's acknowledgement of a successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
    pub log_id: Option<String>,
}

type GeneratedResult = Result<ResponseValue<EventsResponse>, GeneratedError<ErrorResponse>>;

/// Maps one call's outcome; `meta` is what the hook saw of the answer.
pub(crate) async fn into_receipt(result: GeneratedResult, meta: ResponseMeta) -> Result<Receipt, Error> {
    match result {
        Ok(value) => {
            let http_status = value.status().as_u16();
            let log_id = log_id(value.headers());
            let envelope = value.into_inner();
            if envelope.code == 0 {
                Ok(Receipt { log_id })
            } else {
                // The platform reports some failures as HTTP 200 with a non-zero code.
                Err(Error::Api {
                    code: envelope.code,
                    msg: envelope.msg,
                    http_status,
                    log_id,
                })
            }
        }
        Err(GeneratedError::ErrorResponse(value)) => {
            let http_status = value.status().as_u16();
            let header_log_id = log_id(value.headers());
            let body = value.into_inner();
            let log_id = header_log_id.or_else(|| body.error.and_then(|detail| detail.log_id));
            Err(Error::Api {
                code: body.code,
                msg: body.msg,
                http_status,
                log_id,
            })
        }
        Err(GeneratedError::UnexpectedResponse(response)) => {
            let http_status = response.status().as_u16();
            let log_id = log_id(response.headers());
            match read_excerpt(response).await {
                Ok(body_excerpt) => Err(Error::UnexpectedResponse {
                    http_status,
                    log_id,
                    body_excerpt,
                    source: None,
                }),
                Err(source) => Err(Error::transport(source, Some(http_status))),
            }
        }
        Err(GeneratedError::InvalidResponsePayload(body, source)) => Err(Error::UnexpectedResponse {
            http_status: meta.http_status.unwrap_or_default(),
            log_id: meta.log_id,
            body_excerpt: excerpt(&body),
            source: Some(source),
        }),
        Err(GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source)) => {
            Err(Error::transport(source, meta.http_status))
        }
        Err(other) => Err(Error::Internal {
            message: other.to_string(),
        }),
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
