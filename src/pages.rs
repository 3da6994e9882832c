//! The page streams: every item of a paged operation, fetched a page at a time, by token
//! ([`pages_by_token`]) or by page number ([`pages_by_number`]).

use std::future::Future;

use futures_core::Stream;
use futures_util::TryStreamExt as _;

use crate::error::Error;

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

    use super::{pages_by_number, pages_by_token};

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
