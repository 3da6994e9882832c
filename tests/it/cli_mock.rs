//! `feishu-helpdesk mock`, run as a process as another language's tests run it: the line it
//! prints on start, a `Client` built from it alone, the control interface under `/__mock/`
//! (tickets, answers, faults, the recorded requests with their query, customer messages
//! pushed to a receiver, reset, unknown paths), and a clean exit on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use feishu_helpdesk::events::{HelpdeskEvent, Receiver};
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{testing, Client, EventType};

use super::cli::BIN;

/// The stand-in's process and what it printed on start.
struct Mock {
    child: Child,
    started: Value,
    http: reqwest::Client,
}

/// Starts `feishu-helpdesk mock --json --port 0` with `args`, the environment cleared but
/// for `env`, and reads its first line.
async fn start(args: &[&str], env: &[(&str, &str)]) -> Mock {
    let mut child = Command::new(BIN)
        .args(["mock", "--json", "--port", "0"])
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the first line within 10 s")
        .unwrap()
        .expect("a line on stdout");
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    Mock {
        child,
        started,
        http: reqwest::Client::new(),
    }
}

/// The ticket `ticket_id` as the stand-in answers it through `client`, as JSON.
async fn ticket_as_json(client: &Client, ticket_id: &str) -> serde_json::Value {
    let ticket = client
        .api()
        .get_ticket()
        .ticket_id(ticket_id)
        .send()
        .await
        .unwrap()
        .ticket;
    serde_json::to_value(ticket.unwrap()).unwrap()
}

impl Mock {
    fn field(&self, name: &str) -> String {
        self.started[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {}", self.started))
            .to_owned()
    }

    /// A client of the stand-in, from the printed line alone.
    fn client(&self) -> Client {
        Client::builder()
            .app_credentials(self.field("app_id"), self.field("app_secret"))
            .helpdesk_credentials(self.field("helpdesk_id"), self.field("helpdesk_token"))
            .base_url(self.field("base_url"))
            .initial_backoff(Duration::from_millis(1))
            .build()
            .unwrap()
    }

    /// A control request: its status and JSON answer.
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.field("control_url"));
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let content_type = answer.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(content_type, "application/json");
        (status, answer.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.control(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test]
async fn prints_one_json_line_a_client_can_use_and_ignores_the_environments_ids() {
    let mock = start(&[], &[("FEISHU_APP_ID", "cli_real"), ("FEISHU_HELPDESK_ID", "1")]).await;
    let base_url = mock.field("base_url");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert!(!base_url.ends_with(":0"), "{base_url}");
    assert_eq!(mock.field("control_url"), format!("{base_url}/__mock"));
    assert_eq!(mock.field("app_id"), testing::APP_ID);
    assert_eq!(mock.field("app_secret"), testing::APP_SECRET);
    assert_eq!(mock.field("helpdesk_id"), testing::HELPDESK_ID);
    assert_eq!(mock.field("helpdesk_token"), testing::HELPDESK_TOKEN);
    assert_eq!(mock.field("tenant_access_token"), testing::TENANT_ACCESS_TOKEN);
    assert_eq!(mock.field("user_access_token"), testing::USER_ACCESS_TOKEN);
    assert_eq!(mock.get("/health").await, (200, json!({"status": "ok"})));

    // The printed tenant token works as is, without the token endpoint.
    let client = Client::builder()
        .tenant_access_token(mock.field("tenant_access_token"))
        .helpdesk_credentials(mock.field("helpdesk_id"), mock.field("helpdesk_token"))
        .base_url(base_url)
        .build()
        .unwrap();
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();
}

#[tokio::test]
async fn the_ids_and_secrets_given_are_the_ones_accepted() {
    let mock = start(
        &[
            "--app-id",
            "cli_other",
            "--app-secret",
            "s2",
            "--helpdesk-id",
            "42",
            "--helpdesk-token",
            "h2",
        ],
        &[],
    )
    .await;
    assert_eq!(
        [
            mock.field("app_id"),
            mock.field("app_secret"),
            mock.field("helpdesk_id"),
            mock.field("helpdesk_token")
        ],
        ["cli_other", "s2", "42", "h2"]
    );
    mock.client()
        .subscribe(&[EventType::TICKET_CREATED])
        .await
        .unwrap();
    let (_, subscribed) = mock.get("/subscriptions").await;
    assert_eq!(
        subscribed,
        json!([{"type": "helpdesk.ticket", "subtype": "ticket.created_v1"}])
    );
}

#[tokio::test]
async fn tickets_answers_faults_and_the_requests_recorded() {
    let mock = start(&[], &[]).await;
    let client = mock.client();
    assert_eq!(
        mock.post("/tickets", json!({"ticket_id": "T1", "guest_name": "Alice"}))
            .await,
        (200, json!({}))
    );
    let ticket = ticket_as_json(&client, "T1").await;
    assert_eq!(
        (&ticket["ticket_id"], &ticket["guest"]["name"]),
        (&json!("T1"), &json!("Alice"))
    );

    // A fault for get_ticket comes back as the call's error.
    let fault = json!({"operation": "get_ticket", "fault": {"kind": "error", "http_status": 400, "code": 1000, "msg": "scripted"}});
    assert_eq!(mock.post("/faults", fault).await, (200, json!({})));
    let err = client
        .api()
        .get_ticket()
        .ticket_id("T1")
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.http_status(), err.code()), (Some(400), Some(1000)), "{err}");

    // An answer set for get_ticket, for any ticket.
    let (status, _) = mock
        .control(
            reqwest::Method::PUT,
            "/answers/get_ticket",
            Some(json!({"ticket": {"ticket_id": "answered"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ticket_as_json(&client, "T9").await["ticket_id"], "answered");

    // The query as sent: an array parameter as repeated keys.
    client
        .api()
        .list_tickets()
        .status_list(vec![1_i64, 2])
        .send()
        .await
        .unwrap();
    let (status, requests) = mock.get("/requests").await;
    assert_eq!(status, 200);
    let requests = requests.as_array().unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert!(paths.iter().all(|p| !p.starts_with("/__mock")), "{paths:?}");
    assert_eq!(paths[0], "/open-apis/auth/v3/tenant_access_token/internal");
    assert!(!requests[0]["body"]
        .as_str()
        .unwrap()
        .contains(testing::APP_SECRET));
    let list = requests.last().unwrap();
    assert_eq!(list["method"], "GET");
    assert_eq!(list["path"], "/open-apis/helpdesk/v1/tickets");
    assert_eq!(list["query"], "status_list=1&status_list=2");
    assert_eq!(list["answered"], 200);
    let headers = list["headers"].as_array().unwrap();
    assert!(
        headers.contains(&json!(["authorization", "Bearer ***"])),
        "{headers:?}"
    );
    assert!(
        headers.contains(&json!(["x-lark-helpdesk-authorization", "***"])),
        "{headers:?}"
    );
    let statuses: Vec<u64> = requests.iter().map(|r| r["answered"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 400, 200, 200]);

    // A reset forgets the requests, the ticket and the answer.
    assert_eq!(mock.post("/reset", json!({})).await, (200, json!({})));
    assert_eq!(mock.get("/requests").await, (200, json!([])));
    assert_eq!(mock.get("/tickets/T1/messages").await.0, 404);
    assert_ne!(ticket_as_json(&mock.client(), "T1").await["ticket_id"], "T1");
}

#[tokio::test]
async fn bad_input_is_400_and_an_unknown_control_404() {
    let mock = start(&[], &[]).await;
    let (status, answer) = mock.get("/nothing/here").await;
    assert_eq!(status, 404);
    assert!(answer["error"].is_string(), "{answer}");
    let (status, answer) = mock.post("/faults", json!({"fault": {"kind": "boom"}})).await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("boom"), "{answer}");
    let (status, answer) = mock.post("/tickets", json!({"guest_name": "no id"})).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = mock
        .post("/tickets/T404/customer_messages", json!({"text": "hi"}))
        .await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = mock
        .control(
            reqwest::Method::PUT,
            "/answers/no_such_operation",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = mock.get("/reset").await;
    assert_eq!(status, 405);
    // None of it was a request to the platform.
    assert_eq!(mock.get("/requests").await, (200, json!([])));
}

#[tokio::test]
async fn a_customer_message_is_pushed_to_the_receiver_given() {
    const TOKEN: &str = "v-mock-test";
    const KEY: &str = "mock-encrypt-key";
    let receiver = Receiver::builder()
        .verification_token(TOKEN)
        .encrypt_key(KEY)
        .build()
        .unwrap();
    let (sent, mut received) = mpsc::unbounded_channel();
    let route = axum::routing::post(move |headers: HeaderMap, body: Bytes| {
        let (receiver, sent) = (receiver.clone(), sent.clone());
        async move {
            receiver
                .handle(&headers, &body, |event| async move {
                    sent.send(event).map_err(|e| e.to_string())
                })
                .await
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/events", route)).await });

    let mock = start(
        &[
            "--push-to",
            &url,
            "--verification-token",
            TOKEN,
            "--encrypt-key",
            KEY,
        ],
        &[],
    )
    .await;
    mock.post("/tickets", json!({"ticket_id": "T1", "guest_name": "Alice"}))
        .await;
    // Not subscribed: kept, not pushed.
    let (status, answer) = mock
        .post("/tickets/T1/customer_messages", json!({"text": "first"}))
        .await;
    assert_eq!(
        (status, &answer),
        (200, &json!({"pushed": false, "delivered": null, "attempts": []}))
    );

    mock.client()
        .subscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();
    let (status, answer) = mock
        .post("/tickets/T1/customer_messages", json!({"text": "second"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&answer["pushed"], &answer["delivered"]),
        (&json!(true), &json!(true)),
        "{answer}"
    );
    assert_eq!(answer["attempts"][0]["status"], 200, "{answer}");
    assert!(answer["attempts"][0]["latency_ms"].is_u64(), "{answer}");
    let event = tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .unwrap()
        .unwrap();
    let HelpdeskEvent::TicketMessageCreated { event, .. } = event else {
        panic!("{event:?}");
    };
    assert_eq!(event.text.as_deref(), Some("second"));

    let (status, messages) = mock.get("/tickets/T1/messages").await;
    assert_eq!(status, 200);
    let texts: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(texts[1].contains("second"), "{texts:?}");
}

#[tokio::test]
async fn the_login_controls() {
    let mock = start(&["--device-poll-interval", "0"], &[]).await;
    assert_eq!(
        mock.post("/device_logins/approve", json!({})).await,
        (200, json!({"approved": 0}))
    );
    let started: Value = mock
        .http
        .post(format!(
            "{}/oauth/v1/device_authorization",
            mock.field("base_url")
        ))
        .basic_auth(mock.field("app_id"), Some(mock.field("app_secret")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_id={}&scope=offline_access", mock.field("app_id")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(started["interval"], 0);
    assert_eq!(
        mock.post("/device_logins/approve", json!({})).await,
        (200, json!({"approved": 1}))
    );
    assert_eq!(
        mock.post("/user_tokens/expire", json!({})).await,
        (200, json!({}))
    );
    assert_eq!(
        mock.post("/refresh_tokens/revoke", json!({})).await,
        (200, json!({}))
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_it_cleanly() {
    let mut mock = start(&[], &[]).await;
    let pid = mock.child.id().unwrap();
    // SAFETY: a plain kill(2) of the child this test started and still holds.
    let sent = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    let status = tokio::time::timeout(Duration::from_secs(2), mock.child.wait())
        .await
        .expect("stopped within 2 s")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn without_json_it_prints_name_value_lines() {
    let mut child = Command::new(BIN)
        .args(["mock", "--port", "0"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for _ in 0..8 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(line);
    }
    assert!(seen[0].starts_with("base_url: http://127.0.0.1:"), "{seen:?}");
    assert!(seen.contains(&format!("app_id: {}", testing::APP_ID)), "{seen:?}");
}
