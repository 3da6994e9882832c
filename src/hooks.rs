//! What every request carries and every answer gives: on each request, the two credentials
//! and the content type (and the timeout, for a caller-supplied `reqwest::Client`); on each
//! answer, the body limit, and a note of its status, log id and rate-limit reset for the
//! wrapper. [`exchange`] does both for the call machinery's attempts, writing its notes into
//! the call's [`NoteSlot`]; progenitor's hooks do the same for the one operation outside it
//! (the token endpoint, whose client carries no credentials).

use progenitor_client::{ClientHooks, Error as GeneratedError, OperationInfo};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use crate::attempt::NoteSlot;
use crate::body_limit::{MAX_BODY_BYTES, MAX_DOWNLOAD_BYTES};
use crate::client_state::TokenSource;
use crate::credentials::HELPDESK_HEADER;
use crate::error::Error;
use crate::generated::{self, types::ErrorResponse};
use crate::operation::{Operation, TokenKind};

/// The content type the platform asks for; the generated code sends it without charset.
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// One attempt of `operation` (an id of `OPERATIONS`): `request` with the credentials the
/// operation takes, sent; the answer bounded, its status, log id and rate-limit reset noted
/// in `notes`, its headers dropped (the wrapper has what it needs) except a download's.
pub(crate) async fn exchange(
    client: &generated::Client,
    mut request: reqwest::Request,
    operation: &'static str,
    notes: &NoteSlot,
) -> Result<reqwest::Response, GeneratedError<ErrorResponse>> {
    let op = generated::find_operation(operation);
    prepare(client, &mut request, operation, op, Some(notes)).await?;
    let binary = op.is_some_and(|op| op.binary);
    let mut response = send(client, request, binary).await?;
    notes.write(|notes| notes.answer(response.status(), response.headers()));
    if !binary {
        // progenitor would copy every header into the `ResponseValue`, which the wrapper
        // drops unread; a download keeps them for its content type and length.
        drop(std::mem::take(response.headers_mut()));
    }
    Ok(response)
}

/// Adds the credentials `operation` takes and the content type to `request`. Without a
/// token (a user-token operation on a client that has none, or a failed token fetch) the
/// request is refused, with the typed error in `notes` where there are notes.
async fn prepare<E>(
    client: &generated::Client,
    request: &mut reqwest::Request,
    operation: &'static str,
    op: Option<&Operation>,
    notes: Option<&NoteSlot>,
) -> Result<(), GeneratedError<E>> {
    let refuse = |err: Error, message: String| {
        if let Some(notes) = notes {
            notes.write(|n| n.token_error = Some(Box::new(err)));
        }
        GeneratedError::Custom(message)
    };
    let state = &client.inner;
    if let Some(credentials) = &state.credentials {
        let token = op.map_or(TokenKind::Tenant, |op| op.token);
        let authorization = match (token, &credentials.user) {
            (TokenKind::User | TokenKind::TenantOrUser, Some(user)) => user.clone(),
            (TokenKind::User, None) => {
                // Refused before sending: the platform would refuse a tenant token.
                return Err(refuse(
                    Error::UserTokenRequired { operation },
                    format!("{operation} needs a user access token"),
                ));
            }
            _ => match &credentials.tenant {
                TokenSource::Fixed(value) => value.clone(),
                TokenSource::App(manager) => {
                    // A fresh token is found without awaiting; the fetch is boxed, so that
                    // its large future does not weigh on every call's future.
                    let token = match manager.fresh() {
                        Some(token) => Ok(token),
                        None => Box::pin(manager.token()).await,
                    };
                    match token {
                        Ok(token) => {
                            let value = token.header().clone();
                            if let Some(notes) = notes {
                                notes.write(|n| n.token_used = Some(token));
                            }
                            value
                        }
                        Err(err) => {
                            let message = format!("no tenant access token for app {}", manager.app_id());
                            return Err(refuse(err, message));
                        }
                    }
                }
            },
        };
        let headers = request.headers_mut();
        headers.reserve(2);
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(HELPDESK_HEADER, credentials.helpdesk.clone());
    }
    if request.body().is_some() {
        request.headers_mut().insert(CONTENT_TYPE, JSON_UTF8);
    }
    if state.timeout_per_request {
        *request.timeout_mut() = Some(state.timeout);
    }
    Ok(())
}

/// Sends `request` and bounds its answer's body.
async fn send(
    client: &generated::Client,
    request: reqwest::Request,
    binary: bool,
) -> reqwest::Result<reqwest::Response> {
    let max = if binary {
        MAX_DOWNLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    Ok(crate::body_limit::limit(
        client.client.execute(request).await?,
        max,
    ))
}

/// For the operations progenitor's own `send` runs (the token endpoint's): the same request
/// and answer handling, without notes; the answer keeps its headers for the caller.
impl ClientHooks<crate::client_state::ClientState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), GeneratedError<E>> {
        let op = generated::find_operation(info.operation_id);
        prepare(self, request, info.operation_id, op, None).await
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let binary = generated::find_operation(info.operation_id).is_some_and(|op| op.binary);
        send(self, request, binary).await
    }
}
