//! Paged operations as streams of items: one call per page, fetched as the items are
//! taken, for both kinds of paging (a page token with `has_more`; page numbers with
//! `total`). The split of items into pages is property-tested in `src/pages.rs`.

use futures_util::{StreamExt as _, TryStreamExt as _};
use httpmock::Method::GET;
use serde_json::json;

use feishu_helpdesk::prelude::*;

use crate::support::StandIn;

const FAQS: &str = "/open-apis/helpdesk/v1/faqs";
const TICKETS: &str = "/open-apis/helpdesk/v1/tickets";

fn envelope(data: serde_json::Value) -> String {
    json!({"code": 0, "msg": "success", "data": data}).to_string()
}

#[tokio::test]
async fn faqs_stream_page_by_page_following_the_token() {
    let stand_in = StandIn::start().await;
    let first = stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FAQS)
                .query_param("category_id", "6948728206392295444")
                .query_param_missing("page_token");
            then.status(200)
                .header("content-type", "application/json")
                .body(envelope(json!({
                    "has_more": true, "page_token": "p2",
                    "items": [{"faq_id": "1"}, {"faq_id": "2"}]
                })));
        })
        .await;
    let second = stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FAQS)
                .query_param("category_id", "6948728206392295444")
                .query_param("page_token", "p2");
            then.status(200)
                .header("content-type", "application/json")
                .body(envelope(json!({
                    "has_more": false, "page_token": "",
                    "items": [{"faq_id": "3"}]
                })));
        })
        .await;
    let client = stand_in.client();

    let mut faqs = Box::pin(
        client
            .api()
            .list_faqs()
            .category_id("6948728206392295444")
            .stream(),
    );
    // Only the first page is fetched before its items are taken.
    let one = faqs.next().await.unwrap().unwrap();
    assert_eq!((first.calls_async().await, second.calls_async().await), (1, 0));
    let rest: Vec<_> = faqs.try_collect().await.unwrap();

    let ids: Vec<_> = std::iter::once(one)
        .chain(rest)
        .map(|faq| faq.faq_id.unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!((first.calls_async().await, second.calls_async().await), (1, 1));
}

#[tokio::test]
async fn tickets_stream_by_page_number_until_the_total() {
    let stand_in = StandIn::start().await;
    let mut pages = Vec::new();
    for (page, ids) in [("1", vec!["a", "b"]), ("2", vec!["c"])] {
        let tickets: Vec<_> = ids.iter().map(|id| json!({"ticket_id": id})).collect();
        pages.push(
            stand_in
                .server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path(TICKETS)
                        .query_param("page", page)
                        .query_param("page_size", "2")
                        .query_param("status_list", "50");
                    then.status(200)
                        .header("content-type", "application/json")
                        .body(envelope(json!({"total": 3, "tickets": tickets})));
                })
                .await,
        );
    }
    let client = stand_in.client();

    let tickets: Vec<_> = client
        .api()
        .list_tickets()
        .page_size(2)
        .status_list(vec![50])
        .stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<_> = tickets.into_iter().map(|t| t.ticket_id.unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    for page in &pages {
        assert_eq!(
            page.calls_async().await,
            1,
            "each page is fetched once; none past the total"
        );
    }
}

#[tokio::test]
async fn a_failed_page_ends_the_stream_with_the_error() {
    let stand_in = StandIn::start().await;
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET).path(FAQS);
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"code":154003,"msg":"Please check you have the correct access"}"#);
        })
        .await;
    let client = stand_in.client();

    let mut faqs = Box::pin(client.api().list_faqs().stream());
    let err = faqs.next().await.unwrap().unwrap_err();

    assert_eq!(err.code(), Some(154003));
    assert!(faqs.next().await.is_none(), "the stream ends after an error");
}
