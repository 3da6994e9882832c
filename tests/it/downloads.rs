//! The operations that answer bytes (ticket images, FAQ images): the bytes as a stream with
//! their content type, bounded in size; a JSON error answer is still a typed `Error`.

use futures_util::TryStreamExt as _;
use httpmock::Method::GET;

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{Error, MAX_DOWNLOAD_BYTES};

use crate::support::{StandIn, HELPDESK_TOKEN, LOG_ID};

const TICKET_IMAGES: &str = "/open-apis/helpdesk/v1/ticket_images";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

#[tokio::test]
async fn a_ticket_image_comes_as_bytes_with_its_content_type() {
    let stand_in = StandIn::start().await;
    let image = stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path(TICKET_IMAGES)
                .query_param("ticket_id", "6948728206392295444")
                .query_param("msg_id", "6949088236610273307")
                .query_param("index", "0");
            then.status(200).header("content-type", "image/png").body(PNG);
        })
        .await;
    let client = stand_in.client();

    let download = client
        .api()
        .get_ticket_image()
        .ticket_id("6948728206392295444")
        .msg_id("6949088236610273307")
        .index(0)
        .send()
        .await
        .unwrap();

    assert_eq!(download.content_type.as_deref(), Some("image/png"));
    assert_eq!(download.content_length, Some(PNG.len() as u64));
    assert!(!format!("{download:?}").contains(HELPDESK_TOKEN));
    assert_eq!(download.bytes().await.unwrap(), PNG);
    image.assert_async().await;
}

#[tokio::test]
async fn a_faq_image_streams_chunk_by_chunk() {
    let stand_in = StandIn::start().await;
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let body = big.clone();
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/open-apis/helpdesk/v1/faqs/6936004780707807231/image/img_v2_key");
            then.status(200).header("content-type", "image/jpeg").body(body);
        })
        .await;
    let client = stand_in.client();

    let download = client
        .api()
        .get_faq_image()
        .id("6936004780707807231")
        .image_key("img_v2_key")
        .send()
        .await
        .unwrap();
    let chunks: Vec<bytes::Bytes> = download.into_stream().try_collect().await.unwrap();

    assert_eq!(chunks.concat(), big);
}

#[tokio::test]
async fn a_json_refusal_instead_of_bytes_is_an_api_error() {
    let stand_in = StandIn::start().await;
    for status in [200, 400] {
        let mock = stand_in
            .server
            .mock_async(|when, then| {
                when.method(GET).path(TICKET_IMAGES);
                then.status(status)
                    .header("content-type", "application/json; charset=utf-8")
                    .header("x-tt-logid", LOG_ID)
                    .body(r#"{"code":154000,"msg":"Bad request, please check your request body"}"#);
            })
            .await;
        let client = stand_in.builder().max_retries(0).build().unwrap();

        let err = client
            .api()
            .get_ticket_image()
            .ticket_id("1")
            .msg_id("2")
            .send()
            .await
            .unwrap_err();

        match &err {
            Error::Api {
                code,
                http_status,
                log_id,
                ..
            } => {
                assert_eq!(*code, 154000);
                assert_eq!(*http_status, status);
                assert_eq!(log_id.as_deref(), Some(LOG_ID));
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn a_download_past_the_bound_ends_with_response_too_large() {
    let stand_in = StandIn::start().await;
    let huge = vec![7u8; MAX_DOWNLOAD_BYTES + 1];
    stand_in
        .server
        .mock_async(|when, then| {
            when.method(GET).path(TICKET_IMAGES);
            then.status(200).header("content-type", "image/png").body(huge);
        })
        .await;
    let client = stand_in.client();

    let download = client
        .api()
        .get_ticket_image()
        .ticket_id("1")
        .msg_id("2")
        .send()
        .await
        .unwrap();
    let err = download.bytes().await.unwrap_err();

    assert!(
        matches!(err, Error::ResponseTooLarge { limit, .. } if limit == MAX_DOWNLOAD_BYTES),
        "{err:?}"
    );
}
