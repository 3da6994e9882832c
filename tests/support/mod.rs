//! A local stand-in for the platform that enforces the contract of the reference page
//! byte for byte: shared by the integration tests and the quickstart example.
#![allow(dead_code)]

pub mod faulty;

use std::sync::{Arc, Mutex};

use httpmock::prelude::*;
use httpmock::Mock;
use serde_json::{json, Value};

/// A tenant access token in the platform's format (the reference page's example).
pub const TENANT_ACCESS_TOKEN: &str = "t-7f1bcd13fc57d46bac21793a18e560";
/// A helpdesk id.
pub const HELPDESK_ID: &str = "7180000000000000001";
/// A helpdesk token.
pub const HELPDESK_TOKEN: &str = "ht-example";
/// `base64("7180000000000000001:ht-example")`, computed independently of the library.
pub const HELPDESK_HEADER: &str = "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl";
/// An app id.
pub const APP_ID: &str = "cli_a1b2c3d4e5f6a7b8";
/// An app secret.
pub const APP_SECRET: &str = "dskLLdkasdjlasdKK";
/// The path of the token endpoint.
pub const TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
/// The log id the stand-in answers with.
pub const LOG_ID: &str = "20231125120000A1B2C3D4E5F6071829";

pub const UNSUBSCRIBE_PATH: &str = "/open-apis/helpdesk/v1/events/unsubscribe";
pub const SUBSCRIBE_PATH: &str = "/open-apis/helpdesk/v1/events/subscribe";

/// Every header a helpdesk request carries; anything else is stray.
pub const EXPECTED_HEADERS: [&str; 7] = [
    "accept",
    "authorization",
    "content-length",
    "content-type",
    "host",
    "user-agent",
    "x-lark-helpdesk-authorization",
];

/// A request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<&HttpMockRequest> for Received {
    fn from(req: &HttpMockRequest) -> Self {
        Self {
            method: req.method_str().to_owned(),
            path: req.uri().path().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body: String::from_utf8_lossy(req.body_ref()).into_owned(),
        }
    }
}

/// The stand-in: an httpmock server on a free loopback port.
pub struct StandIn {
    pub server: MockServer,
    received: Arc<Mutex<Vec<Received>>>,
}

impl StandIn {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start_async().await,
            received: Arc::default(),
        }
    }

    /// The requests that met the contract of [`StandIn::expect_events`], oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// A client builder with the stand-in's credentials, pointed at the stand-in.
    pub fn builder(&self) -> feishu_helpdesk::ClientBuilder {
        feishu_helpdesk::Client::builder()
            .tenant_access_token(TENANT_ACCESS_TOKEN)
            .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
            .base_url(self.base_url())
    }

    /// A client with the stand-in's credentials, pointed at the stand-in.
    pub fn client(&self) -> feishu_helpdesk::Client {
        self.builder()
            .build()
            .expect("the stand-in's client configuration is valid")
    }

    /// Answers `{"code":0,"msg":"success","data":{}}` to a request on `path` that meets
    /// the contract exactly, carries `events` as its body and no other header than
    /// [`EXPECTED_HEADERS`]; anything else falls through to httpmock's 404.
    pub async fn expect_events(&self, path: &str, events: Value) -> Mock<'_> {
        self.expect_contract(path, events, true).await
    }

    /// As [`StandIn::expect_events`], checking the credentials, content type and body
    /// byte for byte; with `only_contract_headers` false, other headers (a client's own
    /// user agent or encodings) are let through.
    pub async fn expect_contract(&self, path: &str, events: Value, only_contract_headers: bool) -> Mock<'_> {
        let received = Arc::clone(&self.received);
        self.server
            .mock_async(|when, then| {
                let when = when
                    .method(POST)
                    .path(path)
                    .header("authorization", format!("Bearer {TENANT_ACCESS_TOKEN}"))
                    .header("x-lark-helpdesk-authorization", HELPDESK_HEADER)
                    .header("content-type", "application/json; charset=utf-8")
                    .header_missing("api-version")
                    .json_body(json!({ "events": events }));
                if only_contract_headers {
                    when.header("accept", "application/json").is_true(|req| {
                        let headers = req.headers();
                        let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
                        names.sort_unstable();
                        names == EXPECTED_HEADERS && headers.len() == EXPECTED_HEADERS.len()
                    });
                }
                // Runs only for a request that met every condition above.
                then.respond_with(move |req| {
                    received.lock().unwrap().push(Received::from(req));
                    HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-tt-logid", LOG_ID)
                        .body(r#"{"code":0,"msg":"success","data":{}}"#)
                        .build()
                });
            })
            .await
    }

    /// Issues [`TENANT_ACCESS_TOKEN`] (for two hours) to a token request that carries
    /// [`APP_ID`] and [`APP_SECRET`] and no helpdesk credentials.
    pub async fn serve_tokens(&self) -> Mock<'_> {
        let received = Arc::clone(&self.received);
        self.server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(TOKEN_PATH)
                    .header("content-type", "application/json; charset=utf-8")
                    .header_missing("authorization")
                    .header_missing("x-lark-helpdesk-authorization")
                    .header_missing("api-version")
                    .json_body(json!({"app_id": APP_ID, "app_secret": APP_SECRET}));
                then.respond_with(move |req| {
                    received.lock().unwrap().push(Received::from(req));
                    HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-tt-logid", LOG_ID)
                        .body(format!(
                            r#"{{"code":0,"msg":"ok","tenant_access_token":"{TENANT_ACCESS_TOKEN}","expire":7200}}"#
                        ))
                        .build()
                });
            })
            .await
    }

    /// Answers any request on `path` with `status`, `body` and the stand-in's log id.
    pub async fn answer(&self, path: &str, status: u16, content_type: &str, body: &str) -> Mock<'_> {
        let (content_type, body) = (content_type.to_owned(), body.to_owned());
        self.server
            .mock_async(|when, then| {
                when.method(POST).path(path);
                then.status(status)
                    .header("content-type", content_type)
                    .header("x-tt-logid", LOG_ID)
                    .body(body);
            })
            .await
    }
}
