//! What is measured: hand-written `reqwest` calls (the baseline) and the client.

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{Client, EventType};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

/// The fields in the order the generated type writes them.
#[derive(serde::Serialize)]
pub(crate) struct BaselineEvent<'a> {
    pub(crate) subtype: &'a str,
    #[serde(rename = "type")]
    pub(crate) event_type: &'a str,
}

#[derive(serde::Serialize)]
pub(crate) struct BaselineBody<'a> {
    pub(crate) events: &'a [BaselineEvent<'a>],
}

#[derive(serde::Deserialize)]
pub(crate) struct Envelope {
    pub(crate) code: i64,
}

/// The ticket `get_ticket` asks for.
pub(crate) const TICKET_ID: &str = "6948728206392295444";

/// The hand-written call: one reused client; the header map and the body built once and
/// cloned per call (the body a reference count), as the interleave harness's reference does.
/// It sends the same bytes as the client.
pub(crate) struct Baseline {
    pub(crate) client: reqwest::Client,
    pub(crate) url: String,
    /// `get_ticket`'s URL, for the GET with a path parameter.
    pub(crate) get_url: String,
    /// The POST's headers: both credentials, the content type, `accept`.
    pub(crate) headers: HeaderMap,
    /// The GET's headers: both credentials and `accept`.
    pub(crate) get_headers: HeaderMap,
    /// `unsubscribe`'s body, serialized once.
    pub(crate) body: bytes::Bytes,
}

impl Baseline {
    pub(crate) fn new(base_url: &str) -> Self {
        Self::with_client(base_url, feishu_helpdesk::http_client_builder().unwrap())
    }

    /// The same call with the `reqwest` settings of the client's own: the 10 s timeout
    /// (connect and whole call) and no redirects.
    pub(crate) fn with_timeout(base_url: &str) -> Self {
        let timeout = std::time::Duration::from_secs(10);
        Self::with_client(
            base_url,
            feishu_helpdesk::http_client_builder()
                .unwrap()
                .timeout(timeout)
                .connect_timeout(timeout)
                .redirect(reqwest::redirect::Policy::none()),
        )
    }

    pub(crate) fn with_client(base_url: &str, client: reqwest::ClientBuilder) -> Self {
        Self::with_token(
            client.build().unwrap(),
            base_url,
            HeaderValue::from_static("Bearer t-7f1bcd13fc57d46bac21793a18e560"),
        )
    }

    /// The hand-written call with `client`, sending `bearer` as its `Authorization`.
    pub(crate) fn with_token(client: reqwest::Client, base_url: &str, mut bearer: HeaderValue) -> Self {
        bearer.set_sensitive(true);
        let mut helpdesk = HeaderValue::from_static("NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl");
        helpdesk.set_sensitive(true);
        let mut get_headers = HeaderMap::new();
        get_headers.insert(AUTHORIZATION, bearer);
        get_headers.insert("x-lark-helpdesk-authorization", helpdesk);
        get_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut headers = get_headers.clone();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let body = BaselineBody {
            events: &[BaselineEvent {
                event_type: "helpdesk.ticket_message",
                subtype: "ticket_message.created_v1",
            }],
        };
        Self {
            client,
            url: format!("{base_url}/open-apis/helpdesk/v1/events/unsubscribe"),
            get_url: format!("{base_url}/open-apis/helpdesk/v1/tickets/{TICKET_ID}"),
            headers,
            get_headers,
            body: serde_json::to_vec(&body).unwrap().into(),
        }
    }

    /// `get_ticket` by hand: the ticket id in the path, the answer's `code` checked.
    pub(crate) async fn get(&self) {
        let response = self
            .client
            .get(&self.get_url)
            .headers(self.get_headers.clone())
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(envelope.code, 0);
    }

    /// `unsubscribe` by hand: the answer's `code` checked, as a user must (the platform
    /// answers errors as HTTP 200 with a non-zero code).
    pub(crate) async fn call(&self) {
        let response = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(envelope.code, 0);
    }
}

pub(crate) enum Variant {
    Baseline(Baseline),
    Client(Client),
    /// `get_ticket` (a GET with a path parameter) by hand.
    BaselineGet(Baseline),
    /// `get_ticket` through the client.
    ClientGet(Client),
}

impl Variant {
    pub(crate) async fn call(&self) {
        match self {
            Variant::Baseline(baseline) => baseline.call().await,
            Variant::Client(client) => {
                client
                    .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
                    .await
                    .unwrap();
            }
            Variant::BaselineGet(baseline) => baseline.get().await,
            Variant::ClientGet(client) => {
                client
                    .api()
                    .get_ticket()
                    .ticket_id(TICKET_ID)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// The variant a command line names: `baseline`, `baseline-timeout`, `app`, `baseline-get`,
/// `get` (`get_ticket`), `get-app` (`get_ticket` with app credentials), or (any other name)
/// the client with a fixed token.
pub(crate) fn variant_named(name: &str, base_url: &str) -> Variant {
    match name {
        "baseline" => Variant::Baseline(Baseline::new(base_url)),
        "baseline-timeout" => Variant::Baseline(Baseline::with_timeout(base_url)),
        "app" => Variant::Client(app_client(base_url)),
        "baseline-get" => Variant::BaselineGet(Baseline::with_timeout(base_url)),
        "get" => Variant::ClientGet(fixed_token_client(base_url)),
        "get-app" => Variant::ClientGet(app_client(base_url)),
        _ => Variant::Client(fixed_token_client(base_url)),
    }
}

pub(crate) fn fixed_token_client(base_url: &str) -> Client {
    Client::builder()
        .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(base_url)
        .build()
        .unwrap()
}

pub(crate) fn app_client(base_url: &str) -> Client {
    Client::builder()
        .app_credentials("cli_a1b2c3d4e5f6a7b8", "dskLLdkasdjlasdKK")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(base_url)
        .build()
        .unwrap()
}
