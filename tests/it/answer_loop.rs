//! The answer loop of a helpdesk bot (`examples/answer.rs`), tested as a user would test their
//! own: only the public API, the testing kit's `MockPlatform` as the platform, a `Receiver`
//! with its default in-memory dedupe store behind a local HTTP route, and the `Client`. The
//! customer writes, the platform pushes, the app looks the ticket up and replies; a push the
//! platform repeats is answered once; the bot's own messages are left alone. And the example
//! itself, run.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{json, Value};

use feishu_helpdesk::events::{HelpdeskEvent, Receiver};
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{self, EventPusher, Fault, MockPlatform, PushEvent};
use feishu_helpdesk::{Client, Error, EventType};

const TICKET: &str = "T1";
const VERIFICATION_TOKEN: &str = "v-answer-loop";
const MESSAGE_CREATED: &str = "helpdesk.ticket_message.created_v1";
/// `sender_type`: the bot, the customer.
const BOT: i64 = 1;
const GUEST: i64 = 2;

/// The app under test, as small as the example's: a customer's message is answered in its
/// ticket, with the ticket's status. Every event it is handed is kept in `seen`.
async fn answer(
    client: Client,
    event: HelpdeskEvent,
    seen: Arc<Mutex<Vec<HelpdeskEvent>>>,
) -> Result<(), Error> {
    seen.lock().unwrap().push(event.clone());
    let HelpdeskEvent::TicketMessageCreated { event: message, .. } = event else {
        return Ok(());
    };
    let ticket_id = message.ticket.and_then(|ticket| ticket.ticket_id);
    let (Some(GUEST), Some(ticket_id)) = (message.sender_type.as_deref().copied(), ticket_id) else {
        return Ok(());
    };
    let ticket = client
        .api()
        .get_ticket()
        .ticket_id(&ticket_id)
        .send()
        .await?
        .ticket;
    let status = ticket.and_then(|ticket| ticket.status).unwrap_or_default();
    let reply = format!("Received: {}. Status {status}.", message.text.unwrap_or_default());
    client
        .api()
        .create_ticket_message()
        .ticket_id(&ticket_id)
        .body_map(|body| {
            body.msg_type("text")
                .content(json!({ "text": reply }).to_string())
        })
        .send()
        .await?;
    Ok(())
}

/// The platform, a ticket, the app listening (its receiver with the default dedupe store) and
/// subscribed: what every test starts from.
struct World {
    platform: MockPlatform,
    url: String,
    pusher: EventPusher,
    seen: Arc<Mutex<Vec<HelpdeskEvent>>>,
}

async fn world() -> World {
    let platform = MockPlatform::start().await;
    platform.add_ticket(TICKET, "Alice");
    let client = platform.client_builder().build().unwrap();
    let receiver = Receiver::builder()
        .verification_token(VERIFICATION_TOKEN)
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));

    // `Receiver::handle` in a plain axum route (no library feature needed).
    let (app_client, app_seen) = (client.clone(), Arc::clone(&seen));
    let route = axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
        receiver
            .handle(&headers, &body, |event| answer(app_client, event, app_seen))
            .await
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/events", route)).await });

    client
        .subscribe(&[EventType::TICKET_MESSAGE_CREATED])
        .await
        .unwrap();
    let pusher = EventPusher::new(VERIFICATION_TOKEN).retry_scale(0.001);
    platform.deliver_events_to(&url, pusher.clone());
    World {
        platform,
        url,
        pusher,
        seen,
    }
}

impl World {
    /// The messages the app wrote in the ticket.
    fn replies(&self) -> Vec<Value> {
        let messages = self.platform.ticket_messages(TICKET);
        messages
            .into_iter()
            .filter(|m| m["user_id"] != testing::GUEST_OPEN_ID)
            .collect()
    }

    /// How many requests of `method` `path` the platform answered 200.
    fn calls(&self, method: &str, path: &str) -> usize {
        let requests = self.platform.requests();
        requests
            .iter()
            .filter(|r| r.method == method && r.path == path && r.answered == 200)
            .count()
    }

    /// The push of the one event the app was handed, rebuilt as the platform sent it (same
    /// `event_id`): what the platform sends again when it retries.
    fn the_push_seen(&self) -> PushEvent {
        let seen = self.seen.lock().unwrap();
        let [HelpdeskEvent::TicketMessageCreated { header, event }] = seen.as_slice() else {
            panic!("expected one ticket message, the app saw {seen:#?}");
        };
        PushEvent {
            event_type: header.event_type.clone(),
            event: serde_json::to_value(event).unwrap(),
            event_id: header.event_id.clone(),
        }
    }
}

const GET_TICKET: &str = "/open-apis/helpdesk/v1/tickets/T1";
const MESSAGES: &str = "/open-apis/helpdesk/v1/tickets/T1/messages";

#[tokio::test]
async fn a_customer_message_is_answered_in_its_ticket() {
    let world = world().await;

    let delivery = world
        .platform
        .customer_writes(TICKET, "My expense report is stuck")
        .await
        .expect("subscribed");

    assert!(delivery.delivered, "{:?}", delivery.attempts);
    assert_eq!(delivery.attempts.len(), 1, "{:?}", delivery.attempts);
    let history = world.platform.ticket_messages(TICKET);
    assert_eq!(history.len(), 2, "{history:#?}");
    assert_eq!(history[0]["user_name"], "Alice");
    let reply = &history[1];
    assert_eq!(reply["message_type"], "text", "{reply}");
    assert_eq!(reply["user_name"], "helpdesk bot", "{reply}");
    let content: Value = serde_json::from_str(reply["content"].as_str().unwrap()).unwrap();
    // The status is the ticket's, as `get_ticket` gave it (1: created).
    assert_eq!(
        content,
        json!({"text": "Received: My expense report is stuck. Status 1."})
    );

    // The ticket was looked up, then the reply written, each once.
    assert_eq!(world.calls("GET", GET_TICKET), 1);
    assert_eq!(world.calls("POST", MESSAGES), 1);
    let order: Vec<String> = world
        .platform
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let looked_up = order
        .iter()
        .position(|r| r == &format!("GET {GET_TICKET}"))
        .unwrap();
    let replied = order
        .iter()
        .position(|r| r == &format!("POST {MESSAGES}"))
        .unwrap();
    assert!(looked_up < replied, "{order:#?}");

    // A second message, a second reply.
    let delivery = world
        .platform
        .customer_writes(TICKET, "Still stuck")
        .await
        .expect("subscribed");
    assert!(delivery.delivered, "{:?}", delivery.attempts);
    assert_eq!(world.replies().len(), 2);
    assert_eq!(world.platform.ticket_messages(TICKET).len(), 4);
}

#[tokio::test]
async fn a_push_the_platform_repeats_is_answered_once() {
    let world = world().await;
    let delivery = world
        .platform
        .customer_writes(TICKET, "Hello?")
        .await
        .expect("subscribed");
    assert!(delivery.delivered, "{:?}", delivery.attempts);
    assert_eq!(world.replies().len(), 1);
    let push = world.the_push_seen();

    // The same push again (same event_id), as the platform retries it: acknowledged, not
    // handed to the app, not answered again.
    let again = world.pusher.deliver(&world.url, &push).await;
    assert!(again.delivered, "{:?}", again.attempts);
    let once_more = world.pusher.push_once(&world.url, &push, Fault::None).await;
    assert_eq!(once_more.status, Some(200));
    // Two copies at once (another replica's retry): neither is handled again.
    let both = world
        .pusher
        .push_concurrently(&[&world.url, &world.url], &push)
        .await;
    assert!(both.iter().all(|attempt| attempt.status == Some(200)), "{both:?}");

    assert_eq!(
        world.seen.lock().unwrap().len(),
        1,
        "the app was handed the event again"
    );
    assert_eq!(
        world.replies().len(),
        1,
        "{:#?}",
        world.platform.ticket_messages(TICKET)
    );
    assert_eq!(world.calls("GET", GET_TICKET), 1);
    assert_eq!(world.calls("POST", MESSAGES), 1);

    // The same payload as a new event (a new event_id) is a new message: answered.
    let renewed = world
        .pusher
        .push_once(&world.url, &push.renewed(), Fault::None)
        .await;
    assert_eq!(renewed.status, Some(200));
    assert_eq!(world.replies().len(), 2);
}

#[tokio::test]
async fn the_bots_own_message_is_not_answered() {
    let world = world().await;
    let from_the_bot = PushEvent::new(
        MESSAGE_CREATED,
        json!({"msg_type": "text", "sender_type": BOT, "text": "Received.", "ticket": {"ticket_id": TICKET}}),
    );

    let delivery = world.platform.emit(&from_the_bot).await.expect("subscribed");

    assert!(delivery.delivered, "{:?}", delivery.attempts);
    assert_eq!(world.seen.lock().unwrap().len(), 1, "the app was handed the push");
    assert!(world.replies().is_empty(), "{:#?}", world.replies());
    assert_eq!(world.calls("GET", GET_TICKET), 0);
}

/// `cargo run --example answer` with no `FEISHU_*` variable: the whole loop against the kit,
/// to exit 0, both replies printed. (Once built, it runs in well under a second.)
#[tokio::test]
async fn the_example_plays_the_whole_loop_against_the_kit() {
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["run", "--quiet", "--example", "answer"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FEISHU_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read on threads, so that a full pipe never stalls the child.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    // The build may wait for another cargo's lock: 120 s in all.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            // Not joined: a grandchild may still hold the pipes.
            panic!("cargo run --example answer ran for over 120 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());

    assert_eq!(status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let replied = stdout.matches("create_ticket_message: replied").count();
    assert_eq!(replied, 2, "{stdout}");
    let history = stdout.split("its history").nth(1).unwrap_or_default();
    assert_eq!(history.matches("helpdesk bot: Thank you").count(), 2, "{stdout}");
    assert_eq!(history.matches("Alice: ").count(), 2, "{stdout}");
    assert!(stdout.contains("a message from the bot itself"), "{stdout}");
}
