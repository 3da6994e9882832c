//! The control interface under `/__mock/`: what a test in any language does to the stand-in
//! over HTTP (tickets, customer messages, scripted faults, answers, the recorded requests,
//! the subscriptions, the logins' state, a reset), the same controls `MockPlatform`'s
//! methods give a Rust test. JSON in and out; `openapi/mock-control.yaml` describes it.

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{api, respond, Answer, Delivery, RecordedRequest, Scripted, Shared};
use crate::generated::OPERATIONS;

/// The prefix of every control path: the platform's paths start with `/open-apis/`,
/// `/oauth/` or `/callback/`, so none can be taken for a control.
pub(super) const PREFIX: &str = "/__mock";

const JSON: &str = "application/json";

/// The operations a fault can be queued for beside the helpdesk operations: the login
/// side's endpoints, which play only the faults queued for them by name.
const ACCOUNTS_OPERATIONS: [&str; 3] = [
    "get_user_access_token",
    "start_device_authorization",
    "get_user_info",
];

/// Whether `path` is a control path (to be answered by [`handle`], and not recorded).
pub(super) fn is_control(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A control request, as routed from its method and path.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    AddTicket,
    CustomerMessage(String),
    TicketMessages(String),
    Fault,
    Answer(String),
    Requests,
    Subscriptions,
    ApproveDeviceLogins,
    ExpireUserTokens,
    RevokeRefreshTokens,
    Reset,
    Health,
}

/// Why a control request was not routed.
#[derive(Debug, PartialEq, Eq)]
enum Unrouted {
    /// No such control path: 404.
    NotFound,
    /// The path is known, the method is not one it takes: 405.
    Method(&'static str),
}

fn route(method: &http::Method, path: &str) -> Result<Endpoint, Unrouted> {
    let rest = path.strip_prefix(PREFIX).unwrap_or(path);
    let segments: Vec<String> = rest
        .trim_start_matches('/')
        .split('/')
        .map(api::percent_decoded)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (endpoint, allowed) = match segments.as_slice() {
        ["tickets"] => (Endpoint::AddTicket, "POST"),
        ["tickets", id, "customer_messages"] if !id.is_empty() => {
            (Endpoint::CustomerMessage((*id).to_owned()), "POST")
        }
        ["tickets", id, "messages"] if !id.is_empty() => (Endpoint::TicketMessages((*id).to_owned()), "GET"),
        ["faults"] => (Endpoint::Fault, "POST"),
        ["answers", operation] if !operation.is_empty() => (Endpoint::Answer((*operation).to_owned()), "PUT"),
        ["requests"] => (Endpoint::Requests, "GET"),
        ["subscriptions"] => (Endpoint::Subscriptions, "GET"),
        ["device_logins", "approve"] => (Endpoint::ApproveDeviceLogins, "POST"),
        ["user_tokens", "expire"] => (Endpoint::ExpireUserTokens, "POST"),
        ["refresh_tokens", "revoke"] => (Endpoint::RevokeRefreshTokens, "POST"),
        ["reset"] => (Endpoint::Reset, "POST"),
        ["health"] => (Endpoint::Health, "GET"),
        _ => return Err(Unrouted::NotFound),
    };
    if method.as_str() == allowed {
        Ok(endpoint)
    } else {
        Err(Unrouted::Method(allowed))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTicket {
    ticket_id: String,
    #[serde(default = "default_guest")]
    guest_name: String,
}

fn default_guest() -> String {
    "Customer".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerMessage {
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    #[serde(default)]
    operation: Option<String>,
    fault: FaultKind,
}

/// A [`Scripted`] answer as JSON, tagged by `kind`.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum FaultKind {
    Error {
        http_status: u16,
        code: i64,
        #[serde(default)]
        msg: String,
    },
    RateLimited {
        #[serde(default)]
        reset_seconds: u64,
    },
    // A struct variant, so that an unknown field is refused as in the others.
    InvalidToken {},
    Delay {
        ms: u64,
    },
    Html {
        #[serde(default = "bad_gateway")]
        http_status: u16,
    },
}

fn bad_gateway() -> u16 {
    502
}

/// The body of `POST /__mock/faults`: the operation it is queued for (`None`: the next
/// helpdesk call of any operation) and the answer.
fn fault(body: &[u8]) -> Result<(Option<String>, Scripted), String> {
    let request: FaultRequest = parsed(body)?;
    if let Some(operation) = &request.operation {
        let known = OPERATIONS.iter().any(|op| op.id == operation)
            || ACCOUNTS_OPERATIONS.contains(&operation.as_str());
        if !known {
            return Err(format!("no operation is named {operation:?}"));
        }
    }
    let http_status = |status: u16| {
        if (200..=599).contains(&status) {
            Ok(status)
        } else {
            Err(format!(
                "http_status {status} is not an HTTP status of an answer (200 to 599)"
            ))
        }
    };
    let scripted = match request.fault {
        FaultKind::Error {
            http_status: status,
            code,
            msg,
        } => Scripted::Error {
            http_status: http_status(status)?,
            code,
            msg,
        },
        FaultKind::RateLimited { reset_seconds } => Scripted::RateLimited { reset_seconds },
        FaultKind::InvalidToken {} => Scripted::InvalidToken,
        FaultKind::Delay { ms } => Scripted::Delay(Duration::from_millis(ms)),
        FaultKind::Html { http_status: status } => Scripted::Html {
            http_status: http_status(status)?,
        },
    };
    Ok((request.operation, scripted))
}

/// The body as `T`, or what is wrong with it.
fn parsed<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| format!("the body is not what this control takes: {err}"))
}

fn ok(value: &Value) -> Answer {
    respond(200, JSON, value.to_string())
}

fn error(status: u16, message: &str) -> Answer {
    respond(status, JSON, json!({ "error": message }).to_string())
}

/// The answer to a control request: the path starts with [`PREFIX`].
pub(super) async fn handle(shared: &Shared, method: &http::Method, path: &str, body: &Bytes) -> Answer {
    let endpoint = match route(method, path) {
        Ok(endpoint) => endpoint,
        Err(Unrouted::NotFound) => return error(404, &format!("no control is {method} {path}")),
        Err(Unrouted::Method(allowed)) => {
            let mut answer = error(405, &format!("{path} takes {allowed}, not {method}"));
            answer
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static(allowed));
            return answer;
        }
    };
    let answer = match endpoint {
        Endpoint::AddTicket => parsed::<NewTicket>(body).and_then(|ticket| {
            if ticket.ticket_id.is_empty() {
                return Err("ticket_id is empty".to_owned());
            }
            shared.add_ticket(&ticket.ticket_id, &ticket.guest_name);
            Ok(json!({}))
        }),
        Endpoint::CustomerMessage(ticket_id) => {
            let message = match parsed::<CustomerMessage>(body) {
                Ok(message) => message,
                Err(err) => return error(400, &err),
            };
            let Some(event) = shared.customer_message(&ticket_id, &message.text) else {
                return error(
                    404,
                    &format!("no ticket {ticket_id}: add it with POST {PREFIX}/tickets"),
                );
            };
            Ok(delivery(shared.emit(&event).await.as_ref()))
        }
        Endpoint::TicketMessages(ticket_id) => {
            if !shared.state().tickets.contains_key(&ticket_id) {
                return error(
                    404,
                    &format!("no ticket {ticket_id}: add it with POST {PREFIX}/tickets"),
                );
            }
            Ok(Value::Array(shared.ticket_messages(&ticket_id)))
        }
        Endpoint::Fault => fault(body).map(|(operation, scripted)| {
            let mut state = shared.state();
            match operation {
                Some(operation) => state.script_for.entry(operation).or_default().push_back(scripted),
                None => state.script.push_back(scripted),
            }
            json!({})
        }),
        Endpoint::Answer(operation) => {
            if !OPERATIONS.iter().any(|op| op.id == operation) {
                return error(400, &format!("no helpdesk operation is named {operation:?}"));
            }
            parsed::<Value>(body).map(|data| {
                shared.state().answers.insert(operation, data);
                json!({})
            })
        }
        Endpoint::Requests => Ok(shared.state().requests.iter().map(request).collect()),
        Endpoint::Subscriptions => Ok(shared
            .state()
            .subscribed
            .iter()
            .map(|(event_type, subtype)| json!({"type": event_type, "subtype": subtype}))
            .collect()),
        Endpoint::ApproveDeviceLogins => Ok(json!({ "approved": shared.approve_device_logins() })),
        Endpoint::ExpireUserTokens => {
            shared.expire_user_tokens();
            Ok(json!({}))
        }
        Endpoint::RevokeRefreshTokens => {
            shared.revoke_refresh_tokens();
            Ok(json!({}))
        }
        Endpoint::Reset => {
            shared.reset();
            Ok(json!({}))
        }
        Endpoint::Health => Ok(json!({ "status": "ok" })),
    };
    match answer {
        Ok(value) => ok(&value),
        Err(message) => error(400, &message),
    }
}

/// A customer message's push: whether it was pushed (the event subscribed, and somewhere to
/// deliver it), whether it was delivered, and each attempt.
fn delivery(delivery: Option<&Delivery>) -> Value {
    let Some(delivery) = delivery else {
        return json!({"pushed": false, "delivered": null, "attempts": []});
    };
    let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let attempts: Vec<Value> = delivery
        .attempts
        .iter()
        .map(|attempt| {
            json!({
                "status": attempt.status,
                "latency_ms": millis(attempt.latency),
                "sent_at_ms": millis(attempt.sent_at),
            })
        })
        .collect();
    json!({"pushed": true, "delivered": delivery.delivered, "attempts": attempts})
}

fn request(request: &RecordedRequest) -> Value {
    json!({
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body": request.body,
        "answered": request.answered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_each_control_and_refuses_the_rest() {
        let post = http::Method::POST;
        let get = http::Method::GET;
        assert_eq!(route(&post, "/__mock/tickets"), Ok(Endpoint::AddTicket));
        assert_eq!(
            route(&post, "/__mock/tickets/T%2F1/customer_messages"),
            Ok(Endpoint::CustomerMessage("T/1".into()))
        );
        assert_eq!(
            route(&get, "/__mock/tickets/T1/messages"),
            Ok(Endpoint::TicketMessages("T1".into()))
        );
        assert_eq!(
            route(&http::Method::PUT, "/__mock/answers/get_ticket"),
            Ok(Endpoint::Answer("get_ticket".into()))
        );
        assert_eq!(route(&get, "/__mock/health"), Ok(Endpoint::Health));
        assert_eq!(route(&post, "/__mock/reset"), Ok(Endpoint::Reset));
        assert_eq!(route(&get, "/__mock/reset"), Err(Unrouted::Method("POST")));
        assert_eq!(route(&get, "/__mock/nothing"), Err(Unrouted::NotFound));
        assert_eq!(route(&get, "/__mock"), Err(Unrouted::NotFound));
        assert_eq!(
            route(&post, "/__mock/tickets//customer_messages"),
            Err(Unrouted::NotFound)
        );
        assert!(is_control("/__mock") && is_control("/__mock/health"));
        assert!(!is_control("/__mockery") && !is_control("/open-apis/__mock/health"));
    }

    #[test]
    fn parses_each_fault() {
        let parse = |body: Value| fault(body.to_string().as_bytes());
        assert_eq!(
            parse(
                json!({"operation": "get_ticket", "fault": {"kind": "error", "http_status": 503, "code": 1000, "msg": "down"}})
            ),
            Ok((
                Some("get_ticket".into()),
                Scripted::Error {
                    http_status: 503,
                    code: 1000,
                    msg: "down".into()
                }
            ))
        );
        assert_eq!(
            parse(json!({"fault": {"kind": "rate_limited"}})),
            Ok((None, Scripted::RateLimited { reset_seconds: 0 }))
        );
        assert_eq!(
            parse(json!({"fault": {"kind": "invalid_token"}})),
            Ok((None, Scripted::InvalidToken))
        );
        assert_eq!(
            parse(json!({"fault": {"kind": "delay", "ms": 100}})),
            Ok((None, Scripted::Delay(Duration::from_millis(100))))
        );
        assert_eq!(
            parse(json!({"operation": "get_user_access_token", "fault": {"kind": "html"}})),
            Ok((
                Some("get_user_access_token".into()),
                Scripted::Html { http_status: 502 }
            ))
        );
    }

    #[test]
    fn refuses_a_bad_fault_saying_why() {
        let parse = |body: &str| fault(body.as_bytes()).unwrap_err();
        assert!(parse(r#"{"fault": {"kind": "boom"}}"#).contains("boom"));
        assert!(parse(r#"{"fault": {"kind": "delay"}}"#).contains("ms"));
        assert!(parse(r#"{"fault": {"kind": "invalid_token", "extra": 1}}"#).contains("extra"));
        assert!(
            parse(r#"{"operation": "get_tickets", "fault": {"kind": "invalid_token"}}"#)
                .contains("get_tickets")
        );
        assert!(parse(r#"{"fault": {"kind": "html", "http_status": 42}}"#).contains("42"));
        assert!(parse(r#"{"kind": "html"}"#).contains("fault"));
        assert!(parse("not json").contains("not what this control takes"));
    }

    #[test]
    fn a_delivery_says_whether_it_was_pushed() {
        assert_eq!(
            delivery(None),
            json!({"pushed": false, "delivered": null, "attempts": []})
        );
        let pushed = Delivery {
            attempts: vec![super::super::Attempt {
                status: Some(200),
                latency: Duration::from_millis(3),
                sent_at: Duration::ZERO,
            }],
            delivered: true,
        };
        assert_eq!(
            delivery(Some(&pushed)),
            json!({"pushed": true, "delivered": true, "attempts": [{"status": 200, "latency_ms": 3, "sent_at_ms": 0}]})
        );
    }
}
