//! One attempt: its request with the credentials its operation takes, sent ([`exchange`]);
//! what was seen of it (status, log id, rate-limit reset, the token sent or why there was
//! none); and the mapping of its outcome to data, a download or an [`Error`] ([`settle`],
//! [`settle_download`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::TryStreamExt as _;
use progenitor_client::{ByteStream, Error as GeneratedError, ResponseValue};
use reqwest::header::{
    Entry, HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE,
};

use crate::body_limit::{MAX_BODY_BYTES, MAX_DOWNLOAD_BYTES};
use crate::client_state::{TokenSource, UserSource};
use crate::credentials::HELPDESK_HEADER;
use crate::download::Download;
use crate::error::{Attempts, Error};
use crate::generated::{self, types::ErrorResponse};
use crate::generated_glue::Envelope;
use crate::operation::{Operation, TokenKind};
use crate::receipt::Receipt;
use crate::token_cache::CachedToken;
use crate::token_manager::TokenManager;
use crate::user_tokens::PersonTokens;

/// The header the platform puts its log id in; a constant, so that no call parses it.
const LOG_ID: HeaderName = HeaderName::from_static("x-tt-logid");

/// One attempt, as it was seen: what `exchange` noted of its request and answer, and what
/// `settle` gives back with a success (or keeps in a [`Failure`]). `exchange` takes the
/// answer's headers (so that progenitor does not copy them), keeping here what the call
/// reads: the log id, and the status for when progenitor drops the response (a body that
/// is not the envelope, or one that fails mid-read).
#[derive(Debug, Default)]
pub(crate) struct Attempt {
    pub(crate) http_status: Option<u16>,
    /// Kept as the header value (a reference count, not a copy) until it is needed.
    log_id_header: Option<HeaderValue>,
    pub(crate) rate_limit_reset: Option<Duration>,
    /// The token the request carried (the tenant's, or with `user_token_used` the
    /// person's), to forget if the platform rejects it.
    pub(crate) token_used: Option<CachedToken>,
    /// Whether `token_used` is a person's user access token.
    pub(crate) user_token_used: bool,
    /// Why no token could be obtained: the request was not sent. Boxed: rare, and the notes
    /// are moved out after every attempt.
    pub(crate) token_error: Option<Box<Error>>,
}

impl Attempt {
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

    /// The notes of an answer read outside a call's attempts (the token endpoint's): its
    /// status and log id, from a response whose headers are still there.
    pub(crate) fn of_answer(status: reqwest::StatusCode, headers: &HeaderMap) -> Self {
        let mut notes = Self::default();
        notes.answer(status, headers);
        notes
    }

    /// The platform's log id for the request, if the answer had one.
    pub(crate) fn log_id(&self) -> Option<String> {
        self.log_id_str().map(str::to_owned)
    }

    /// The log id, borrowed: copied out only for a [`Receipt`] or an error, not on every
    /// call.
    pub(crate) fn log_id_str(&self) -> Option<&str> {
        log_id_text(self.log_id_header.as_ref())
    }

    /// The receipt of a successful attempt.
    pub(crate) fn receipt(self) -> Receipt {
        Receipt {
            http_status: self.http_status.unwrap_or_default(),
            log_id: self.log_id(),
        }
    }
}

/// The notes of one call's attempts, which `exchange` writes and the call loop reads.
///
/// Passed by reference from the call loop through the generated `send_once` to `exchange`:
/// no task-local, which would move the notes in and out on every poll of the attempt.
#[derive(Debug, Default)]
pub(crate) struct AttemptSlot(Mutex<Attempt>);

impl AttemptSlot {
    /// Lets `exchange` write into the current attempt's notes.
    pub(crate) fn write(&self, write: impl FnOnce(&mut Attempt)) {
        // A panic while the lock was held cannot leave the notes half-written in a way
        // that matters: they are plain values, replaced before each attempt.
        write(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Takes the notes of the attempt that just ended, leaving empty notes for the next.
    pub(crate) fn take(&self) -> Attempt {
        std::mem::take(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The content type the platform asks for; the generated code sends it without charset.
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
/// The content type progenitor sets on a form body (the device login's), which is kept.
const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");

/// One attempt of `operation` (a row of `OPERATIONS`): `request` with the credentials the
/// operation takes, sent; the answer bounded, its status, log id and rate-limit reset noted
/// in `notes`, its headers dropped (the wrapper has what it needs) except a download's.
///
/// Not an `async fn`: the request is prepared and handed to reqwest before the future is
/// made, so that the future holds reqwest's small one, not the request (an `async fn` would
/// keep its parameter's room for the whole attempt). Only a token that must be fetched
/// first is awaited before sending (boxed, with the request moved into it).
pub(crate) fn exchange<'c, 'n>(
    client: &'c generated::Client,
    request: reqwest::Request,
    operation: &'static Operation,
    notes: &'n AttemptSlot,
) -> impl Future<Output = Result<reqwest::Response, GeneratedError<ErrorResponse>>> + Send + use<'c, 'n> {
    let binary = operation.binary;
    let sending = match authorization(client, operation.id, Some(operation), Some(notes)) {
        Ok(Authorization::Ready(value)) => {
            Sending::Now(client.client.execute(prepared(client, request, value)))
        }
        Ok(Authorization::Fetch(supplier)) => Sending::AfterToken(Box::pin(sent_with_fetched_token(
            client, request, supplier, notes,
        ))),
        Err(refusal) => Sending::Refused(Box::new(refusal)),
    };
    async move {
        let answer = match sending {
            Sending::Now(pending) => pending.await?,
            Sending::AfterToken(pending) => pending.await?,
            Sending::Refused(refusal) => return Err(*refusal),
        };
        let mut response = bounded(answer, binary);
        notes.write(|notes| notes.answer(response.status(), response.headers()));
        if !binary {
            // progenitor would copy every header into the `ResponseValue`, which the wrapper
            // drops unread; a download keeps them for its content type and length.
            drop(std::mem::take(response.headers_mut()));
        }
        Ok(response)
    }
}

/// An attempt's request on its way: sent, waiting for a token, or refused before sending.
enum Sending<N, F> {
    /// reqwest's future for the request.
    Now(N),
    /// A token is fetched first, then the request is sent.
    AfterToken(Pin<Box<F>>),
    /// No request could be made (boxed: rare, and large).
    Refused(Box<GeneratedError<ErrorResponse>>),
}

/// The `Authorization` a request of `operation` carries, where it is known without
/// awaiting.
pub(crate) enum Authorization<'a> {
    /// This value (for a client without credentials, the token endpoint's or the accounts
    /// host's, its plain authorization if it has one).
    Ready(Option<HeaderValue>),
    /// A token that must be fetched (or refreshed) first.
    Fetch(Supplier<'a>),
}

/// Who supplies a token that is not at hand.
pub(crate) enum Supplier<'a> {
    /// The app's tenant token.
    Tenant(&'a TokenManager),
    /// A stored person's user access token.
    User(&'a Arc<PersonTokens>),
}

/// Which token `operation` takes, and whether it is at hand. An operation that needs a user
/// token on a client that has none is refused, with the typed error in `notes` where there
/// are notes.
// progenitor's error is what the generated code propagates; refusals are rare.
#[allow(clippy::result_large_err)]
pub(crate) fn authorization<'a, E>(
    client: &'a generated::Client,
    operation: &'static str,
    op: Option<&Operation>,
    notes: Option<&AttemptSlot>,
) -> Result<Authorization<'a>, GeneratedError<E>> {
    let Some(credentials) = &client.inner.credentials else {
        return Ok(Authorization::Ready(client.inner.plain_authorization.clone()));
    };
    let token = op.map_or(TokenKind::Tenant, |op| op.token);
    Ok(Authorization::Ready(Some(match (token, &credentials.user) {
        (TokenKind::User | TokenKind::TenantOrUser, Some(UserSource::Fixed(user))) => user.clone(),
        (TokenKind::User | TokenKind::TenantOrUser, Some(UserSource::Stored(person))) => {
            // A fresh token is found without awaiting.
            match person.fresh() {
                Some(token) => used(token, true, notes),
                None => return Ok(Authorization::Fetch(Supplier::User(person))),
            }
        }
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
                Some(token) => used(token, false, notes),
                None => return Ok(Authorization::Fetch(Supplier::Tenant(manager))),
            },
        },
    })))
}

/// `request`, sent once `supplier` has a token.
async fn sent_with_fetched_token(
    client: &generated::Client,
    request: reqwest::Request,
    supplier: Supplier<'_>,
    notes: &AttemptSlot,
) -> Result<reqwest::Response, GeneratedError<ErrorResponse>> {
    let value = fetched(supplier, Some(notes)).await?;
    Ok(client
        .client
        .execute(prepared(client, request, Some(value)))
        .await?)
}

/// A token from `supplier`, fetched, refreshed or waited for, as the request's header value.
pub(crate) async fn fetched<E>(
    supplier: Supplier<'_>,
    notes: Option<&AttemptSlot>,
) -> Result<HeaderValue, GeneratedError<E>> {
    match supplier {
        Supplier::Tenant(manager) => match manager.token().await {
            Ok(token) => Ok(used(token, false, notes)),
            Err(err) => {
                let message = format!("no tenant access token for app {}", manager.app_id());
                Err(refused(notes, err, message))
            }
        },
        Supplier::User(person) => match person.token().await {
            Ok(token) => Ok(used(token, true, notes)),
            Err(err) => {
                let message = format!("no user access token for {}", person.open_id());
                Err(refused(notes, err, message))
            }
        },
    }
}

/// The header value of `token`, noted as the one the request carries (to forget if the
/// platform rejects it).
fn used(token: CachedToken, user: bool, notes: Option<&AttemptSlot>) -> HeaderValue {
    let value = token.header().clone();
    if let Some(notes) = notes {
        notes.write(|n| {
            n.token_used = Some(token);
            n.user_token_used = user;
        });
    }
    value
}

/// The refusal to send a request without a token: `err` noted, progenitor's error returned.
fn refused<E>(notes: Option<&AttemptSlot>, err: Error, message: String) -> GeneratedError<E> {
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

/// Adds both credentials (if the client has them; else the plain `authorization`, if any),
/// the content type of a JSON body and (for a caller-supplied `reqwest::Client`) the timeout
/// to `request`.
pub(crate) fn prepare(
    client: &generated::Client,
    request: &mut reqwest::Request,
    authorization: Option<HeaderValue>,
) {
    let state = &client.inner;
    match (&state.credentials, authorization) {
        (Some(credentials), Some(authorization)) => {
            let headers = request.headers_mut();
            headers.reserve(2);
            headers.insert(AUTHORIZATION, authorization);
            headers.insert(HELPDESK_HEADER, credentials.helpdesk.clone());
        }
        (None, Some(authorization)) => {
            request.headers_mut().insert(AUTHORIZATION, authorization);
        }
        _ => {}
    }
    if request.body().is_some() {
        // One probe of the map, as the plain insert it replaces: a form's content type (the
        // device login's body) is kept, any other becomes JSON with its charset.
        match request.headers_mut().entry(CONTENT_TYPE) {
            Entry::Occupied(mut set) if set.get() != FORM => {
                set.insert(JSON_UTF8);
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(unset) => {
                unset.insert(JSON_UTF8);
            }
        }
    }
    if state.timeout_per_request {
        *request.timeout_mut() = Some(state.timeout);
    }
}

/// `response` with its body bounded: a download's by [`MAX_DOWNLOAD_BYTES`], any other's by
/// [`MAX_BODY_BYTES`].
pub(crate) fn bounded(response: reqwest::Response, binary: bool) -> reqwest::Response {
    let max = if binary {
        MAX_DOWNLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    crate::body_limit::limit(response, max)
}

/// The log id in an `X-Tt-Logid` header value, if it is non-empty text.
fn log_id_text(value: Option<&HeaderValue>) -> Option<&str> {
    value.and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

/// A failed attempt: its error, or the outcome to map into one on the slow path, and what
/// `exchange` saw of it.
pub(crate) struct Failure {
    pub(crate) error: Result<Error, Unread>,
    pub(crate) notes: Attempt,
    /// Whether the request was sent (no token could be obtained for it, otherwise).
    pub(crate) sent: bool,
}

/// An outcome whose error needs the answer's body read.
pub(crate) enum Unread {
    /// What progenitor returned that is not the envelope.
    Generated(GeneratedError<ErrorResponse>),
    /// A download answered with the JSON envelope instead of bytes.
    JsonInsteadOfBytes(ResponseValue<ByteStream>),
}

impl Failure {
    /// The attempt's error; reads the start of an unexpected answer's body.
    pub(crate) async fn into_error(self) -> Error {
        match self.error {
            Ok(err) => err,
            Err(Unread::Generated(other)) => unexpected_or_transport(other, self.notes).await,
            Err(Unread::JsonInsteadOfBytes(value)) => json_instead_of_bytes(value, &self.notes).await,
        }
    }
}

/// Settles one attempt of a JSON operation without awaiting: a receipt and the answer's
/// `data`, or the failure (boxed, so that the common path moves little). `notes` is what
/// `exchange` saw of the attempt.
#[allow(clippy::type_complexity)]
pub(crate) fn settle<T: Envelope>(
    result: Result<ResponseValue<T>, GeneratedError<ErrorResponse>>,
    mut notes: Attempt,
) -> Result<(Attempt, Option<T::Data>), Box<Failure>> {
    let error = match notes.token_error.take() {
        // No token could be obtained, so nothing was sent.
        Some(err) => {
            return Err(Box::new(Failure {
                error: Ok(*err),
                notes,
                sent: false,
            }))
        }
        None => match result {
            Ok(value) => {
                let http_status = value.status().as_u16();
                // `exchange` took the headers; the log id is in `notes`.
                let (code, msg, data) = value.into_inner().into_parts();
                if code == 0 {
                    notes.http_status = Some(http_status);
                    return Ok((notes, data));
                }
                let log_id = notes.log_id();
                // The platform reports some failures as HTTP 200 with a non-zero code.
                Ok(Error::Api {
                    attempts: Attempts::ONE,
                    code,
                    msg,
                    http_status,
                    log_id,
                })
            }
            Err(other) => settle_error(other, &notes),
        },
    };
    Err(Box::new(Failure {
        error,
        notes,
        sent: true,
    }))
}

/// Settles one attempt of an operation that answers bytes: a receipt and the download, or
/// the failure. A success whose body is the JSON envelope is a failure: the platform's
/// refusal.
#[allow(clippy::type_complexity)]
pub(crate) fn settle_download(
    result: Result<ResponseValue<ByteStream>, GeneratedError<ErrorResponse>>,
    mut notes: Attempt,
) -> Result<(Attempt, Download), Box<Failure>> {
    if let Some(err) = notes.token_error.take() {
        return Err(Box::new(Failure {
            error: Ok(*err),
            notes,
            sent: false,
        }));
    }
    let error = match result {
        Ok(value) => {
            // `exchange` leaves a download's headers in place.
            let header = |name| value.headers().get(name).and_then(|v| v.to_str().ok());
            let content_type = header(CONTENT_TYPE).map(str::to_owned);
            let content_length = header(CONTENT_LENGTH).and_then(|v| v.parse().ok());
            if content_type.as_deref().is_some_and(is_json) {
                Err(Unread::JsonInsteadOfBytes(value))
            } else {
                let http_status = value.status().as_u16();
                let stream = value
                    .into_inner()
                    .into_inner()
                    .map_err(move |source| crate::body_limit::download_error(source, http_status));
                notes.http_status = Some(http_status);
                return Ok((
                    notes,
                    Download {
                        content_type,
                        content_length,
                        stream: Box::pin(stream),
                    },
                ));
            }
        }
        Err(other) => settle_error(other, &notes),
    };
    Err(Box::new(Failure {
        error,
        notes,
        sent: true,
    }))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json") || essence.to_ascii_lowercase().ends_with("+json")
}

/// A documented error answer as an [`Error::Api`]; anything else is mapped later. (The
/// failure is boxed by the caller.)
#[allow(clippy::result_large_err)]
fn settle_error(err: GeneratedError<ErrorResponse>, notes: &Attempt) -> Result<Error, Unread> {
    match err {
        GeneratedError::ErrorResponse(value) => {
            let answer = ErrorAnswer::new(value, notes);
            Ok(Error::Api {
                attempts: Attempts::ONE,
                code: answer.code,
                msg: answer.msg,
                http_status: answer.http_status,
                log_id: answer.log_id,
            })
        }
        other => Err(Unread::Generated(other)),
    }
}

/// The error of a download answered with the JSON envelope: the platform's code, or an
/// unexpected answer if the body is not the envelope.
async fn json_instead_of_bytes(value: ResponseValue<ByteStream>, notes: &Attempt) -> Error {
    let http_status = value.status().as_u16();
    let mut stream = value.into_inner().into_inner();
    let mut body = Vec::new();
    loop {
        match stream.try_next().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(source) => return crate::body_limit::download_error(source, http_status),
        }
    }
    match serde_json::from_slice::<ErrorResponse>(&body) {
        Ok(envelope) => Error::Api {
            attempts: Attempts::ONE,
            code: envelope.code,
            msg: envelope.msg,
            http_status,
            log_id: notes
                .log_id()
                .or_else(|| envelope.error.and_then(|detail| detail.log_id)),
        },
        Err(source) => Error::UnexpectedResponse {
            attempts: Attempts::ONE,
            http_status,
            log_id: notes.log_id(),
            body_excerpt: excerpt(&body),
            source: Some(std::sync::Arc::new(source)),
        },
    }
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
    /// The answer in `value`, with the log id `exchange` noted (it took the headers out of
    /// `value`).
    pub(crate) fn new(value: ResponseValue<ErrorResponse>, notes: &Attempt) -> Self {
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
pub(crate) async fn unexpected_or_transport<E>(err: GeneratedError<E>, notes: Attempt) -> Error {
    match err {
        GeneratedError::UnexpectedResponse(response) => {
            let http_status = response.status().as_u16();
            let log_id = log_id_text(response.headers().get(LOG_ID))
                .map(str::to_owned)
                .or_else(|| notes.log_id());
            match read_excerpt(response).await {
                Ok(body_excerpt) => Error::UnexpectedResponse {
                    attempts: Attempts::ONE,
                    http_status,
                    log_id,
                    body_excerpt,
                    source: None,
                },
                Err(source) => Error::transport(source, Some(http_status)),
            }
        }
        GeneratedError::InvalidResponsePayload(body, source) => Error::UnexpectedResponse {
            attempts: Attempts::ONE,
            http_status: notes.http_status.unwrap_or_default(),
            log_id: notes.log_id(),
            body_excerpt: excerpt(&body),
            source: Some(std::sync::Arc::new(source)),
        },
        GeneratedError::CommunicationError(source) | GeneratedError::ResponseBodyError(source)
            if crate::body_limit::is_too_large(&source) =>
        {
            Error::ResponseTooLarge {
                attempts: Attempts::ONE,
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
