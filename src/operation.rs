//! The operations of the spec as the generated code sees them: what each takes and how it
//! pages ([`Operation`], listed by `build.rs`), the envelope of an answer, the way a
//! builder's `send` reaches the call machinery ([`Dispatch`], implemented in `call.rs`, so
//! that the generated code depends on nothing below it), and the page streams.

use std::fmt;
use std::future::Future;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::{FutureExt as _, StreamExt as _, TryStreamExt as _};
use progenitor_client::{ByteStream, ResponseValue};

use crate::error::Error;

/// The access token an operation takes in `Authorization`, beside the helpdesk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// The app's tenant access token (`t-...`).
    Tenant,
    /// A person's user access token (`u-...`): the operation acts for that person. Call it
    /// through [`Client::as_user`](crate::Client::as_user).
    User,
    /// Either: the user's token on a [`Client::as_user`](crate::Client::as_user) view, the
    /// tenant token otherwise.
    TenantOrUser,
    /// None (obtaining a tenant access token).
    None,
}

/// How a paged operation pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Paging {
    /// A `page_token` query; `data` says `has_more` and gives the next token in
    /// `next_token`.
    Token {
        /// The field of `data` holding the page's items.
        items: &'static str,
        /// The field of `data` holding the next page's token.
        next_token: &'static str,
    },
    /// `page` (from 1) and `page_size` queries; `data` gives `total`.
    Number {
        /// The field of `data` holding the page's items.
        items: &'static str,
    },
}

/// One operation of the helpdesk API, as `openapi/helpdesk.yaml` describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The spec's `operationId`, also the builder method's name, such as `get_ticket`.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path, with `{parameters}`.
    pub path: &'static str,
    /// The resource (the spec's tag), such as `tickets`.
    pub tag: &'static str,
    /// A one-line summary.
    pub summary: &'static str,
    /// The access token it takes.
    pub token: TokenKind,
    /// Whether sending it twice is harmless (a GET, or the spec's `x-idempotent`): only
    /// then is it sent again after a failure that the platform may have acted on.
    pub idempotent: bool,
    /// Whether a success answers bytes rather than the JSON envelope.
    pub binary: bool,
    /// How it pages, if it does.
    pub paging: Option<Paging>,
}

/// What a stand-in of the platform needs of an operation to check its requests and answer
/// them (the testing kit), beside each [`Operation`].
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // read by the testing kit only
pub(crate) struct OperationDetail {
    /// The spec's first example of a success, as JSON text (empty for a download).
    pub(crate) example: &'static str,
    /// The query parameters: name, whether required, whether an array.
    pub(crate) query: &'static [(&'static str, bool, bool)],
    /// Whether the operation requires a body.
    pub(crate) body_required: bool,
}

/// An answer's body decoded as `T`, as progenitor's `ResponseValue::from_response` decodes
/// it (the same errors), for the generated operations (see `build.rs`), whose request hook
/// has taken the headers the wrapper reads: the `ResponseValue` has none. Not an `async fn`:
/// the future is reqwest's body future and the status beside it, nothing more.
// progenitor's error is what the generated code propagates.
#[allow(clippy::result_large_err)]
pub(crate) fn decode<T: serde::de::DeserializeOwned, E>(
    response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> {
    let status = response.status();
    response.bytes().map(move |full| {
        let full = full.map_err(progenitor_client::Error::ResponseBodyError)?;
        let inner = serde_json::from_slice(&full)
            .map_err(|e| progenitor_client::Error::InvalidResponsePayload(full, e))?;
        Ok(ResponseValue::new(
            inner,
            status,
            reqwest::header::HeaderMap::new(),
        ))
    })
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
    /// `notes` what the machinery needs of the answer.
    fn exchange(
        &self,
        request: reqwest::Request,
        operation: &'static str,
        notes: &Self::Notes,
    ) -> impl Future<Output = Result<reqwest::Response, progenitor_client::Error<Self::ErrorBody>>> + Send;

    /// Runs a JSON operation and gives its `data`: `call` makes one attempt, with `notes`.
    fn dispatch<F, Fut, T>(
        &self,
        operation: &'static str,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<T::Data, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<Self::ErrorBody>>> + Send,
        T: Envelope + Send,
        T::Data: Default + Send;

    /// Runs an operation that answers bytes.
    fn download<F, Fut>(
        &self,
        operation: &'static str,
        notes: &Self::Notes,
        call: F,
    ) -> impl Future<Output = Result<Download, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<Self::ErrorBody>>>
            + Send;
}

/// The bytes of a download (a ticket image, a FAQ image), as they arrive.
///
/// The body is bounded: past [`MAX_DOWNLOAD_BYTES`](crate::MAX_DOWNLOAD_BYTES) the stream
/// ends with [`Error::ResponseTooLarge`].
pub struct Download {
    /// The answer's `Content-Type`, such as `image/png`.
    pub content_type: Option<String>,
    /// The answer's `Content-Length`, if it said one.
    pub content_length: Option<u64>,
    pub(crate) stream: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
}

impl Download {
    /// The bytes, chunk by chunk.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        self.stream
    }

    /// All the bytes, in one buffer.
    pub async fn bytes(self) -> Result<Vec<u8>, Error> {
        let mut stream = self.stream;
        let mut all = Vec::with_capacity(self.content_length.unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// Every item of a token-paged operation: `page(builder, token)` fetches a page (the
/// builder as given for the first, `None`), `split(data)` gives its items, `has_more` and
/// the next token. Stops when `has_more` is not true, or when the platform gives no new
/// token (an empty or repeated one would fetch the same page again).
pub(crate) fn pages_by_token<'a, B, Fut, D, T>(
    first: B,
    page: impl Fn(B, Option<String>) -> Fut + Send + 'a,
    split: impl Fn(D) -> (Vec<T>, Option<bool>, Option<String>) + Send + Sync + 'a,
) -> impl Stream<Item = Result<T, Error>> + Send + 'a
where
    B: Clone + Send + 'a,
    Fut: Future<Output = Result<D, Error>> + Send + 'a,
    T: Send + 'a,
{
    let split = std::sync::Arc::new(split);
    // The state: the token of the next page to fetch (`Some(None)`: the first), or `None`
    // when there is none.
    futures_util::stream::try_unfold(Some(None::<String>), move |next| {
        let fetch = next.map(|token| (page(first.clone(), token.clone()), token));
        let split = split.clone();
        async move {
            let Some((fetch, token)) = fetch else {
                return Ok(None);
            };
            let (items, has_more, next) = split(fetch.await?);
            let next = next
                .filter(|next| has_more == Some(true) && !next.is_empty() && Some(next) != token.as_ref());
            Ok(Some((
                futures_util::stream::iter(items.into_iter().map(Ok)),
                next.map(Some),
            )))
        }
    })
    .try_flatten()
}

/// Every item of a page-numbered operation, from page `start`: `page(builder, n)` fetches
/// page `n`, `split(data)` gives its items and `total`. Stops at an empty page, or once
/// `total` items have been seen (counting from page 1).
pub(crate) fn pages_by_number<'a, B, Fut, D, T>(
    first: B,
    start: i64,
    page: impl Fn(B, i64) -> Fut + Send + 'a,
    split: impl Fn(D) -> (Vec<T>, Option<i64>) + Send + Sync + 'a,
) -> impl Stream<Item = Result<T, Error>> + Send + 'a
where
    B: Clone + Send + 'a,
    Fut: Future<Output = Result<D, Error>> + Send + 'a,
    T: Send + 'a,
{
    let start = start.max(1);
    let split = std::sync::Arc::new(split);
    // The state: the next page number and the items seen so far, or `None` at the end.
    futures_util::stream::try_unfold(Some((start, 0u64)), move |state| {
        let fetch = state.map(|(number, seen)| (page(first.clone(), number), number, seen));
        let split = split.clone();
        async move {
            let Some((fetch, number, seen)) = fetch else {
                return Ok(None);
            };
            let (items, total) = split(fetch.await?);
            let seen = seen + items.len() as u64;
            let done =
                items.is_empty() || (start == 1 && total.is_some_and(|total| seen >= total.max(0) as u64));
            let next = (!done)
                .then(|| number.checked_add(1).map(|n| (n, seen)))
                .flatten();
            Ok(Some((
                futures_util::stream::iter(items.into_iter().map(Ok)),
                next,
            )))
        }
    })
    .try_flatten()
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt as _;
    use proptest::prelude::*;

    use super::{pages_by_number, pages_by_token, PathParam};

    /// `items` cut into pages of the given sizes (the last page takes the rest).
    fn split(items: &[u32], sizes: &[usize]) -> Vec<Vec<u32>> {
        let mut pages = Vec::new();
        let mut rest = items;
        for &size in sizes {
            if rest.is_empty() {
                break;
            }
            let (page, tail) = rest.split_at(size.clamp(1, rest.len()));
            pages.push(page.to_vec());
            rest = tail;
        }
        if !rest.is_empty() || pages.is_empty() {
            pages.push(rest.to_vec());
        }
        pages
    }

    fn run<T>(stream: impl futures_core::Stream<Item = Result<T, crate::Error>>) -> Vec<T> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(stream.try_collect())
            .unwrap()
    }

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

        #[test]
        fn any_token_paging_gives_every_item_once_in_order(
            items in proptest::collection::vec(any::<u32>(), 0..60),
            sizes in proptest::collection::vec(1usize..10, 0..20),
        ) {
            let pages = split(&items, &sizes);
            let last = pages.len() - 1;
            let fetched = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let seen = fetched.clone();
            let stream = pages_by_token(
                (),
                move |(), token: Option<String>| {
                    let index = token.map_or(0, |t| t.parse::<usize>().unwrap());
                    seen.lock().unwrap().push(index);
                    let page = pages[index].clone();
                    async move { Ok((page, index)) }
                },
                move |(page, index): (Vec<u32>, usize)| {
                    (page, Some(index < last), (index < last).then(|| (index + 1).to_string()))
                },
            );
            prop_assert_eq!(run(stream), items);
            // One call per page, in order.
            prop_assert_eq!(fetched.lock().unwrap().clone(), (0..=last).collect::<Vec<_>>());
        }

        #[test]
        fn any_numbered_paging_gives_every_item_once_in_order(
            items in proptest::collection::vec(any::<u32>(), 0..60),
            sizes in proptest::collection::vec(1usize..10, 0..20),
        ) {
            let pages = split(&items, &sizes);
            let total = items.len() as i64;
            let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let counted = calls.clone();
            let stream = pages_by_number(
                (),
                1,
                move |(), number: i64| {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // Past the last page the platform answers an empty one.
                    let page = pages.get(number as usize - 1).cloned().unwrap_or_default();
                    async move { Ok(page) }
                },
                move |page: Vec<u32>| (page, Some(total)),
            );
            prop_assert_eq!(run(stream), items.clone());
            // No page past the total is fetched (one empty page when there are no items).
            let needed = split(&items, &sizes).len();
            prop_assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), needed);
        }
    }

    #[test]
    fn a_repeated_token_ends_the_stream() {
        let stream = pages_by_token(
            (),
            |(), _token: Option<String>| async { Ok(vec![1u32]) },
            |page: Vec<u32>| (page, Some(true), Some("same".to_owned())),
        );
        // The first page, then the page of token "same" once: its next token is the same.
        assert_eq!(run(stream), [1, 1]);
    }
}
