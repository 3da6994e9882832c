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
use crate::token_cache::CachedToken;
use crate::token_manager::TokenManager;

/// The content type the platform asks for; the generated code sends it without charset.
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// One attempt of `operation` (an id of `OPERATIONS`): `request` with the credentials the
/// operation takes, sent; the answer bounded, its status, log id and rate-limit reset noted
/// in `notes`, its headers dropped (the wrapper has what it needs) except a download's.
///
/// Nothing is awaited before sending unless a token must be fetched (boxed, with the
/// request moved into it), so that the attempt's future holds reqwest's small future rather
/// than the request beside the hooks' own.
pub(crate) async fn exchange(
    client: &generated::Client,
    request: reqwest::Request,
    operation: &'static str,
    notes: &NoteSlot,
) -> Result<reqwest::Response, GeneratedError<ErrorResponse>> {
    let op = generated::find_operation(operation);
    // Bound before the match: a temporary of the match's head would be kept across the
    // await in its arm (and the error beside it is large).
    let authorization = authorization(client, operation, op, Some(notes))?;
    let request = match authorization {
        Authorization::Ready(value) => prepared(client, request, value),
        Authorization::Fetch(manager) => {
            Box::pin(with_fetched_token(client, request, manager, Some(notes))).await?
        }
    };
    let binary = op.is_some_and(|op| op.binary);
    let pending = client.client.execute(request);
    let mut response = bounded(pending.await?, binary);
    notes.write(|notes| notes.answer(response.status(), response.headers()));
    if !binary {
        // progenitor would copy every header into the `ResponseValue`, which the wrapper
        // drops unread; a download keeps them for its content type and length.
        drop(std::mem::take(response.headers_mut()));
    }
    Ok(response)
}

/// The `Authorization` a request of `operation` carries, where it is known without
/// awaiting.
enum Authorization<'a> {
    /// This value (`None` for a client without credentials, the token endpoint's).
    Ready(Option<HeaderValue>),
    /// A tenant token this manager must fetch first.
    Fetch(&'a TokenManager),
}

/// Which token `operation` takes, and whether it is at hand. An operation that needs a user
/// token on a client that has none is refused, with the typed error in `notes` where there
/// are notes.
// progenitor's error is what the generated code propagates; refusals are rare.
#[allow(clippy::result_large_err)]
fn authorization<'a, E>(
    client: &'a generated::Client,
    operation: &'static str,
    op: Option<&Operation>,
    notes: Option<&NoteSlot>,
) -> Result<Authorization<'a>, GeneratedError<E>> {
    let Some(credentials) = &client.inner.credentials else {
        return Ok(Authorization::Ready(None));
    };
    let token = op.map_or(TokenKind::Tenant, |op| op.token);
    Ok(Authorization::Ready(Some(match (token, &credentials.user) {
        (TokenKind::User | TokenKind::TenantOrUser, Some(user)) => user.clone(),
        (TokenKind::User, None) => {
            // Refused before sending: the platform would refuse a tenant token.
            return Err(refused(
                notes,
                Error::UserTokenRequired { operation },
                format!("{operation} needs a user access token"),
            ));
        }
        _ => match &credentials.tenant {
            TokenSource::Fixed(value) => value.clone(),
            // A fresh token is found without awaiting.
            TokenSource::App(manager) => match manager.fresh() {
                Some(token) => used(token, notes),
                None => return Ok(Authorization::Fetch(manager)),
            },
        },
    })))
}

/// `request`, prepared once `manager` has a token.
async fn with_fetched_token<E>(
    client: &generated::Client,
    request: reqwest::Request,
    manager: &TokenManager,
    notes: Option<&NoteSlot>,
) -> Result<reqwest::Request, GeneratedError<E>> {
    let value = fetched(manager, notes).await?;
    Ok(prepared(client, request, Some(value)))
}

/// A token from `manager`, fetched or waited for, as the request's header value.
async fn fetched<E>(
    manager: &TokenManager,
    notes: Option<&NoteSlot>,
) -> Result<HeaderValue, GeneratedError<E>> {
    match manager.token().await {
        Ok(token) => Ok(used(token, notes)),
        Err(err) => {
            let message = format!("no tenant access token for app {}", manager.app_id());
            Err(refused(notes, err, message))
        }
    }
}

/// The header value of `token`, noted as the one the request carries (to forget if the
/// platform rejects it).
fn used(token: CachedToken, notes: Option<&NoteSlot>) -> HeaderValue {
    let value = token.header().clone();
    if let Some(notes) = notes {
        notes.write(|n| n.token_used = Some(token));
    }
    value
}

/// The refusal to send a request without a token: `err` noted, progenitor's error returned.
fn refused<E>(notes: Option<&NoteSlot>, err: Error, message: String) -> GeneratedError<E> {
    if let Some(notes) = notes {
        notes.write(|n| n.token_error = Some(Box::new(err)));
    }
    GeneratedError::Custom(message)
}

/// `request`, prepared. By value: a local an async fn has borrowed keeps its place in the
/// future after it is moved out, and the request is the largest thing an attempt holds.
fn prepared(
    client: &generated::Client,
    mut request: reqwest::Request,
    authorization: Option<HeaderValue>,
) -> reqwest::Request {
    prepare(client, &mut request, authorization);
    request
}

/// Adds both credentials (if the client has them), the content type and (for a
/// caller-supplied `reqwest::Client`) the timeout to `request`.
fn prepare(client: &generated::Client, request: &mut reqwest::Request, authorization: Option<HeaderValue>) {
    let state = &client.inner;
    if let (Some(credentials), Some(authorization)) = (&state.credentials, authorization) {
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
}

/// `response` with its body bounded: a download's by [`MAX_DOWNLOAD_BYTES`], any other's by
/// [`MAX_BODY_BYTES`].
fn bounded(response: reqwest::Response, binary: bool) -> reqwest::Response {
    let max = if binary {
        MAX_DOWNLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    crate::body_limit::limit(response, max)
}

/// For the operations progenitor's own `send` runs (the token endpoint's): the same request
/// and answer handling, without notes; the answer keeps its headers for the caller.
impl ClientHooks<crate::client_state::ClientState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), GeneratedError<E>> {
        let operation = info.operation_id;
        let value = match authorization(self, operation, generated::find_operation(operation), None)? {
            Authorization::Ready(value) => value,
            Authorization::Fetch(manager) => Some(fetched(manager, None).await?),
        };
        prepare(self, request, value);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let binary = generated::find_operation(info.operation_id).is_some_and(|op| op.binary);
        Ok(bounded(self.client.execute(request).await?, binary))
    }
}
