//! What the generated code calls (see `build.rs`): the answers' decoding ([`decode`]), the
//! path parameters' encoding ([`PathParam`]), the envelope of an answer ([`Envelope`]), and
//! the way a builder's `send` reaches the call machinery ([`Dispatch`], implemented in
//! `call.rs`, so that the generated code depends on nothing below it).

use std::fmt;
use std::future::Future;

use progenitor_client::{ByteStream, ResponseValue};

use crate::download::Download;
use crate::error::Error;
use crate::operation::Operation;
use crate::receipt::Receipt;

/// An answer's body decoded as `T`, as progenitor's `ResponseValue::from_response` decodes
/// it (the same errors), for the generated operations (see `build.rs`), whose request hook
/// has taken the headers the wrapper reads: the `ResponseValue` has none.
///
/// The body is read chunk by chunk, and decoded from the one chunk an answer of the
/// platform's usually arrives in without a copy: the future holds the response and a
/// buffer, a third of what `reqwest::Response::bytes`'s holds, so that a call's future
/// stays within glibc's per-thread cache where a caller's task or `buffer_unordered` boxes it.
// progenitor's error is what the generated code propagates.
#[allow(clippy::result_large_err)]
pub(crate) fn decode<T: serde::de::DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> {
    // Not an `async fn`, whose future would hold its parameter twice (the argument and
    // the local it is moved into): the block reads the response where it was captured.
    let status = response.status();
    async move {
        let mut first: Option<bytes::Bytes> = None;
        let mut more: Vec<u8> = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(progenitor_client::Error::ResponseBodyError)?
        {
            match &first {
                None => first = Some(chunk),
                Some(head) => {
                    if more.is_empty() {
                        more.extend_from_slice(head);
                    }
                    more.extend_from_slice(&chunk);
                }
            }
        }
        drop(response);
        let full = if more.is_empty() {
            first.unwrap_or_default()
        } else {
            bytes::Bytes::from(more)
        };
        let inner = serde_json::from_slice(&full)
            .map_err(|e| progenitor_client::Error::InvalidResponsePayload(full, e))?;
        Ok(ResponseValue::new(
            inner,
            status,
            reqwest::header::HeaderMap::new(),
        ))
    }
}

/// An attempt's answer, as progenitor's `send` maps it: a 200 decoded as `T`, a documented
/// error status (`errors`) decoded as the error body `E`, any other status unexpected.
/// `sending` is the attempt's exchange.
///
/// For the generated `send_once` (see `build.rs`), which builds its request without awaiting
/// and returns this future: a combinator holds either the exchange or the decoding, never
/// both, nor the request, the builder or the response beside them, as an `async fn` would.
// progenitor's error is what the generated code propagates.
#[allow(clippy::result_large_err)]
pub(crate) fn answer<T, E, X>(
    sending: X,
    errors: &'static [u16],
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>
where
    T: serde::de::DeserializeOwned,
    E: serde::de::DeserializeOwned,
    X: Future<Output = Result<reqwest::Response, progenitor_client::Error<E>>>,
{
    use futures_util::future::{self, Either, FutureExt as _, TryFutureExt as _};
    sending.and_then(move |response| {
        let status = response.status().as_u16();
        if status == 200 {
            Either::Left(decode::<T, E>(response))
        } else if errors.contains(&status) {
            Either::Right(Either::Left(decode::<E, E>(response).map(|decoded| {
                Err(decoded.map_or_else(|err| err, progenitor_client::Error::ErrorResponse))
            })))
        } else {
            // The response alone is kept (a `Ready` of the whole result would be as large as
            // a decoded answer).
            Either::Right(Either::Right(future::ready(response).map(|response| {
                Err(progenitor_client::Error::UnexpectedResponse(response))
            })))
        }
    })
}

/// The attempt of a request that could not be built: its error, boxed so that the future
/// holds a pointer (a `Ready` of the whole result would be as large as a decoded answer).
// progenitor's error is what the generated code propagates.
#[allow(clippy::result_large_err)]
pub(crate) fn not_built<T, E>(
    err: progenitor_client::Error<E>,
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> {
    use futures_util::future::{self, FutureExt as _};
    future::ready(Box::new(err)).map(|err| Err(*err))
}

/// A request body, serialized once per call as progenitor's `.json(&body)` serializes it;
/// each attempt sends a reference-counted copy of the bytes.
// progenitor's error is what the generated code propagates.
#[allow(clippy::result_large_err)]
pub(crate) fn json_body<T: serde::Serialize, E>(
    body: &T,
) -> Result<bytes::Bytes, progenitor_client::Error<E>> {
    serde_json::to_vec(body)
        .map(bytes::Bytes::from)
        .map_err(|e| progenitor_client::Error::InvalidRequest(format!("the body cannot be serialized: {e}")))
}

/// The message of a builder's value that failed its check, kept for each attempt to fail
/// with (the checks fail only with `InvalidRequest`).
pub(crate) fn invalid_request_message<E: fmt::Debug>(err: progenitor_client::Error<E>) -> String {
    match err {
        progenitor_client::Error::InvalidRequest(message) => message,
        other => other.to_string(),
    }
}

/// What progenitor's `encode_path` percent-encodes in a path parameter (its `PATH_SET`).
const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// A path parameter as the generated operations write it into their path: its `Display`,
/// percent-encoded as progenitor's `encode_path` encodes it, written straight into the path
/// (progenitor made a string of the value, then an encoded copy, then the URL's text).
pub(crate) struct PathParam<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for PathParam<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Encoding<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Encoding<'_, '_> {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                // Whole characters arrive in each piece, so each is encoded as a whole.
                for piece in percent_encoding::utf8_percent_encode(text, PATH_SET) {
                    self.0.write_str(piece)?;
                }
                Ok(())
            }
        }
        fmt::write(&mut Encoding(f), format_args!("{}", self.0))
    }
}

/// The envelope `{code, msg, data}` of an answer, taken apart.
pub(crate) trait Envelope {
    /// The type of `data`.
    type Data;
    /// `code`, `msg` and `data` (if the answer had it).
    fn into_parts(self) -> (i64, String, Option<Self::Data>);
}

/// What a builder's `send` calls: one attempt is `call()`; the implementation (in
/// `call.rs`) adds the credentials' renewal, retries, tracing and the mapping to `Error`.
pub(crate) trait Dispatch {
    /// The body of a documented error answer.
    type ErrorBody;

    /// What one call's attempts note for the call machinery: made by `send`, written by
    /// `exchange`, read after each attempt.
    type Notes: Default + Sync;

    /// Sends one attempt's request of `operation` with the credentials it takes, noting in
    /// `notes` what the machinery needs of the answer. The generated code passes its row of
    /// `OPERATIONS`, so that no call looks its operation up by name.
    fn exchange(
        &self,
        request: reqwest::Request,
        operation: &'static Operation,
        notes: &Self::Notes,
    ) -> impl Future<Output = Result<reqwest::Response, progenitor_client::Error<Self::ErrorBody>>> + Send;

    /// Runs a JSON operation and gives its `data`: `call` makes one attempt, with `notes`.
    fn dispatch<F, Fut, T>(
        &self,
        operation: &'static Operation,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<T::Data, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<Self::ErrorBody>>> + Send,
        T: Envelope + Send,
        T::Data: Default + Send;

    /// Runs a JSON operation and gives its `data` and the platform's receipt.
    fn dispatch_with_receipt<F, Fut, T>(
        &self,
        operation: &'static Operation,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<(T::Data, Receipt), Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<Self::ErrorBody>>> + Send,
        T: Envelope + Send,
        T::Data: Default + Send;

    /// Runs an operation that answers bytes.
    fn download<F, Fut>(
        &self,
        operation: &'static Operation,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<Download, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<Self::ErrorBody>>>
            + Send;

    /// Runs an operation that answers bytes, and gives the platform's receipt beside them.
    fn download_with_receipt<F, Fut>(
        &self,
        operation: &'static Operation,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<(Download, Receipt), Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<Self::ErrorBody>>>
            + Send;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::PathParam;

    proptest! {
        /// A path parameter is written exactly as progenitor's `encode_path` encodes it:
        /// every character, including what must be escaped (`/`, `%`, `?`, spaces, controls)
        /// and text beyond ASCII.
        #[test]
        fn path_parameters_are_encoded_as_progenitor_encodes_them(value in any::<String>()) {
            prop_assert_eq!(PathParam(&value).to_string(), progenitor_client::encode_path(&value));
        }

        /// A number (a path parameter of another type) is written as its text.
        #[test]
        fn path_parameters_of_other_types_are_their_display(value in any::<i64>()) {
            prop_assert_eq!(PathParam(&value).to_string(), value.to_string());
        }
    }
}
