//! The endpoint, `POST /callback/ws/endpoint`: the URL of the WebSocket server with a fresh
//! single-use ticket and the `ClientConfig`, or a queued fault; its requests as recorded.

use bytes::Bytes;
use serde_json::{json, Value};

use super::faults::EndpointFault;
use super::state::{Inner, Ticket};
use super::MockLongConnection;
use crate::testing::{envelope, respond, Answer, JSON_UTF8};

/// The WebSocket path of the URLs the endpoint hands out.
pub(super) const WS_PATH: &str = "/ws/v2";

impl MockLongConnection {
    // --- The endpoint (called by the platform's HTTP server) ------------------------------

    /// The endpoint's answer to a request with `body`.
    pub(in crate::testing) async fn endpoint(&self, body: &[u8]) -> Answer {
        let fault = {
            let mut state = self.inner.state();
            state.endpoint_calls += 1;
            state.endpoint_faults.pop_front()
        };
        self.inner.changed.notify_waiters();
        match fault {
            None => {}
            Some(EndpointFault::Delay(delay)) => tokio::time::sleep(delay).await,
            Some(EndpointFault::SystemBusy) => return envelope(200, 1, "system busy"),
            Some(EndpointFault::InternalError) => return envelope(200, 1_000_040_343, "internal error"),
            Some(EndpointFault::BadCredentials) => return envelope(200, 10014, "app secret invalid"),
            Some(EndpointFault::Code { code, msg }) => return envelope(200, code, &msg),
            Some(EndpointFault::HttpStatus(status)) => {
                let page = format!("<html><body><h1>{status}</h1></body></html>");
                return respond(status, "text/html", page);
            }
            Some(EndpointFault::MissingUrl) => {
                let answer = json!({"code": 0, "msg": "ok", "data": {}});
                return respond(200, JSON_UTF8, answer.to_string());
            }
        }
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if request["AppID"].as_str() != Some(self.inner.app_id.as_str()) {
            return envelope(200, 10003, "app id invalid");
        }
        if request["AppSecret"].as_str() != Some(self.inner.app_secret.as_str()) {
            return envelope(200, 10014, "app secret invalid");
        }
        let url = self.inner.issue_url();
        let config = self.client_config();
        let answer = json!({"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": config}});
        respond(200, JSON_UTF8, answer.to_string())
    }
}

/// `body` of an endpoint request as recorded: the value of `AppSecret` masked, whatever it is.
pub(in crate::testing) fn masked(body: &[u8]) -> Bytes {
    let secret = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|request| request.get("AppSecret")?.as_str().map(str::to_owned))
        .filter(|secret| !secret.is_empty());
    let Some(secret) = secret else {
        return Bytes::copy_from_slice(body);
    };
    let text = String::from_utf8_lossy(body);
    let quoted = serde_json::to_string(&secret).unwrap_or_default();
    if text.contains(&quoted) {
        return Bytes::from(text.replace(&quoted, "\"***\""));
    }
    // Escaped otherwise than serde_json writes it: write the request again.
    let mut request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    request["AppSecret"] = Value::from("***");
    Bytes::from(request.to_string())
}

impl Inner {
    pub(super) fn issue_url(&self) -> String {
        let ticket = {
            let id = fastrand::u128(..);
            format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                id >> 96,
                (id >> 80) & 0xffff,
                (id >> 64) & 0xffff,
                (id >> 48) & 0xffff,
                id & 0xffff_ffff_ffff
            )
        };
        let access_key = format!("{:032x}", fastrand::u128(..));
        let device_id = fastrand::u64(1_000_000_000_000_000_000..10_000_000_000_000_000_000).to_string();
        let url = format!(
            "ws://{}{WS_PATH}?fpid=1&aid=1&device_id={device_id}&access_key={access_key}&service_id={}&ticket={ticket}",
            self.address,
            MockLongConnection::SERVICE_ID,
        );
        self.state().tickets.insert(
            ticket,
            Ticket {
                access_key,
                device_id,
            },
        );
        url
    }
}
