//! The answer loop most helpdesk apps exist for: a customer writes in a ticket, the platform
//! pushes `helpdesk.ticket_message.created_v1`, the app looks the ticket up (`get_ticket`)
//! and replies in it (`create_ticket_message`).
//!
//! ```sh
//! cargo run --example answer
//! ```
//!
//! With no `FEISHU_*` credentials in the environment it plays the whole loop against the
//! `testing` kit's stand-in of the platform: it adds a ticket, subscribes, runs the receiver
//! on a free loopback port, has the customer write twice (the stand-in pushes each message
//! as the platform does), also pushes a message of the bot itself (which is not answered),
//! waits for both replies, prints the ticket's history and exits 0.
//!
//! Against the real platform it subscribes, then serves the receiver until Ctrl-C:
//!
//! ```sh
//! FEISHU_APP_ID=cli_... FEISHU_APP_SECRET=... \
//! FEISHU_HELPDESK_ID=... FEISHU_HELPDESK_TOKEN=... \
//! FEISHU_VERIFICATION_TOKEN=v-... FEISHU_ENCRYPT_KEY=... \
//! FEISHU_RECEIVER_ADDR=0.0.0.0:3000 cargo run --example answer
//! ```
//!
//! `FEISHU_ENCRYPT_KEY` only if an Encrypt Key is set in the developer console;
//! `FEISHU_RECEIVER_ADDR` defaults to `127.0.0.1:3000`, path `/` (make it the app's request
//! URL, behind HTTPS); `FEISHU_BASE_URL` (such as `https://open.larksuite.com`) for Lark.
//! The subscription stays after Ctrl-C: `feishu-helpdesk unsubscribe
//! ticket_message.created_v1` removes it.

use std::time::Duration;

use feishu_helpdesk::events::{self, HelpdeskEvent, Receiver};
use feishu_helpdesk::prelude::*;
use feishu_helpdesk::testing::{EventPusher, MockPlatform, PushEvent};
use feishu_helpdesk::{Client, Error, EventType};

type Failure = Box<dyn std::error::Error>;

/// `sender_type` of a message written by the helpdesk bot (the app's own replies among them).
const BOT: i64 = 1;
/// `sender_type` of a message written by the customer.
const GUEST: i64 = 2;

/// The answer loop, for one pushed event: a customer's message is answered in its ticket;
/// anything else is left alone. An `Err` answers the push with a 500, and the platform pushes
/// the event again later.
async fn answer(client: &Client, event: HelpdeskEvent) -> Result<(), Error> {
    let HelpdeskEvent::TicketMessageCreated {
        header,
        event: message,
    } = event
    else {
        println!(
            "[app] {}: not a ticket message, nothing to answer",
            event.event_type()
        );
        return Ok(());
    };
    let sender = message.sender_type.as_deref().copied();
    let ticket_id = message
        .ticket
        .as_ref()
        .and_then(|ticket| ticket.ticket_id.as_deref());
    let (Some(GUEST), Some(ticket_id)) = (sender, ticket_id) else {
        let who = if sender == Some(BOT) {
            "the bot itself"
        } else {
            "not the customer"
        };
        println!(
            "[app] event {}: a message from {who} (sender_type {sender:?}): not answered",
            header.event_id
        );
        return Ok(());
    };
    let text = message.text.as_deref().unwrap_or("");
    println!(
        "[app] event {}: the customer wrote in ticket {ticket_id}: {text:?}",
        header.event_id
    );

    let ticket = client
        .api()
        .get_ticket()
        .ticket_id(ticket_id)
        .send()
        .await?
        .ticket;
    let status = status_name(ticket.and_then(|ticket| ticket.status));
    println!("[app]   get_ticket: ticket {ticket_id} has the status \"{status}\"");

    let reply =
        format!("Thank you, we received your message. Your ticket {ticket_id} has the status \"{status}\".");
    let content = serde_json::json!({ "text": reply }).to_string();
    let sent = client
        .api()
        .create_ticket_message()
        .ticket_id(ticket_id)
        .body_map(|body| body.msg_type("text").content(content))
        .send()
        .await;
    match sent {
        Ok(sent) => println!(
            "[app]   create_ticket_message: replied, message {}",
            sent.message_id.as_deref().unwrap_or("(no id)")
        ),
        // The reply may have been sent: acknowledge the push rather than risk a second reply.
        Err(err) if err.is_outcome_unknown() => {
            println!("[app]   create_ticket_message: {err}; not retried")
        }
        Err(err) => return Err(err),
    }
    Ok(())
}

/// The receiver as an axum app on `/`, calling [`answer`] for each event.
fn app(receiver: Receiver, client: Client) -> axum::Router {
    axum::Router::new().route(
        "/",
        receiver.into_service(move |event| {
            let client = client.clone();
            async move { answer(&client, event).await }
        }),
    )
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    match real_platform()? {
        Some(settings) => serve_the_platform(settings).await,
        None => play_against_the_kit().await,
    }
}

/// The whole loop against the testing kit's stand-in, to its end.
async fn play_against_the_kit() -> Result<(), Failure> {
    const TICKET: &str = "6948728206392295444";
    const VERIFICATION_TOKEN: &str = "v-answer-example";

    let platform = MockPlatform::start().await;
    println!(
        "No FEISHU_* credentials set: playing the loop against a local stand-in at {}",
        platform.base_url()
    );
    platform.add_ticket(TICKET, "Alice");
    println!("[platform] ticket {TICKET} opened by Alice");
    let client = platform.client_builder().build()?;

    let receiver = Receiver::builder()
        .verification_token(VERIFICATION_TOKEN)
        .build()?;
    let listener = events::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let app = app(receiver, client.clone());
    let server = tokio::spawn(async move { events::serve(listener, app).await });
    println!("[app] receiving helpdesk events on {url}");
    client.subscribe(&[EventType::TICKET_MESSAGE_CREATED]).await?;
    println!("[app] subscribed to {}", EventType::TICKET_MESSAGE_CREATED);
    platform.deliver_events_to(&url, EventPusher::new(VERIFICATION_TOKEN).retry_scale(0.001));

    for text in [
        "Hello, my expense report is stuck.",
        "It has been three days now.",
    ] {
        println!("\n[platform] Alice writes in ticket {TICKET}: {text:?}");
        let delivery = platform
            .customer_writes(TICKET, text)
            .await
            .ok_or("the stand-in pushed nothing: is the event subscribed?")?;
        let statuses: Vec<_> = delivery.attempts.iter().map(|attempt| attempt.status).collect();
        println!(
            "[platform] pushed: delivered {}, answers {statuses:?}",
            delivery.delivered
        );
        if !delivery.delivered {
            return Err("the push was not answered 200".into());
        }
    }

    // The platform pushes the bot's own messages too: the loop leaves them alone.
    let from_the_bot = PushEvent::new(
        "helpdesk.ticket_message.created_v1",
        serde_json::json!({
            "msg_type": "text",
            "sender_type": BOT,
            "text": "a reply of the bot",
            "ticket": {"ticket_id": TICKET, "status": 1},
        }),
    );
    println!("\n[platform] pushes a message of the bot itself");
    platform
        .emit(&from_the_bot)
        .await
        .ok_or("the stand-in pushed nothing")?;

    let replies = wait_for_replies(&platform, TICKET, 2).await;
    println!("\n{replies} replies in ticket {TICKET}; its history (list_ticket_messages):");
    let history = client
        .api()
        .list_ticket_messages()
        .ticket_id(TICKET)
        .page_size(50)
        .send()
        .await?
        .messages;
    for message in &history {
        println!(
            "  {}: {}",
            message.user_name.as_deref().unwrap_or("?"),
            text_of(message.content.as_deref().unwrap_or(""))
        );
    }
    server.abort();
    if replies != 2 || history.len() != 4 {
        return Err(format!(
            "expected 2 replies among 4 messages, found {replies} among {}",
            history.len()
        )
        .into());
    }
    Ok(())
}

/// How many messages of the app are in the ticket, once there are `expected` or 5 s passed.
async fn wait_for_replies(platform: &MockPlatform, ticket_id: &str, expected: usize) -> usize {
    let replies = || {
        let messages = platform.ticket_messages(ticket_id);
        messages
            .iter()
            .filter(|m| m["user_id"] != feishu_helpdesk::testing::GUEST_OPEN_ID)
            .count()
    };
    for _ in 0..100 {
        if replies() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    replies()
}

/// What the real platform needs, from the environment.
struct Settings {
    client: Client,
    receiver: Receiver,
    addr: String,
}

/// The settings for the real platform when the environment names one; `None` without app
/// credentials.
fn real_platform() -> Result<Option<Settings>, Failure> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let (Some(app_id), Some(app_secret)) = (var("FEISHU_APP_ID"), var("FEISHU_APP_SECRET")) else {
        return Ok(None);
    };
    let (Some(helpdesk_id), Some(helpdesk_token)) = (var("FEISHU_HELPDESK_ID"), var("FEISHU_HELPDESK_TOKEN"))
    else {
        return Err("set FEISHU_HELPDESK_ID and FEISHU_HELPDESK_TOKEN too".into());
    };
    let verification_token = var("FEISHU_VERIFICATION_TOKEN")
        .ok_or("set FEISHU_VERIFICATION_TOKEN (the app's Verification Token) too")?;
    let client = Client::builder()
        .app_credentials(app_id, app_secret)
        .helpdesk_credentials(helpdesk_id, helpdesk_token)
        .base_url(var("FEISHU_BASE_URL").unwrap_or_else(|| feishu_helpdesk::FEISHU_BASE_URL.to_owned()))
        .build()?;
    let mut receiver = Receiver::builder().verification_token(verification_token);
    if let Some(key) = var("FEISHU_ENCRYPT_KEY") {
        receiver = receiver.encrypt_key(key);
    }
    Ok(Some(Settings {
        client,
        receiver: receiver.build()?,
        addr: var("FEISHU_RECEIVER_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned()),
    }))
}

/// Subscribes on the real platform and answers its pushes until Ctrl-C.
async fn serve_the_platform(settings: Settings) -> Result<(), Failure> {
    let Settings {
        client,
        receiver,
        addr,
    } = settings;
    println!("Calling the platform: {client:?}");
    // A public URL: as many open files as the system allows, for `events::serve`'s cap.
    if let Err(err) = events::raise_file_limit() {
        println!("the open-file limit stays as it is: {err}");
    }
    let listener = events::bind(&addr).await?;
    let receipt = client.subscribe(&[EventType::TICKET_MESSAGE_CREATED]).await?;
    println!(
        "[app] subscribed to {} (log id {})",
        EventType::TICKET_MESSAGE_CREATED,
        receipt.log_id.as_deref().unwrap_or("(none)")
    );
    println!("[app] receiving helpdesk events on http://{addr}/; Ctrl-C stops");
    // Timeouts and a connection cap: slow or idle clients cannot keep the pushes out.
    events::serve(listener, app(receiver, client)).await?;
    Ok(())
}

/// A ticket's status, as `get_ticket` documents it.
fn status_name(status: Option<i64>) -> String {
    match status {
        Some(1) => "created".into(),
        Some(2) => "in progress".into(),
        Some(3) => "queued".into(),
        Some(4) => "pending".into(),
        Some(5) => "waiting for your answer".into(),
        Some(50..=52) => "closed".into(),
        Some(other) => format!("status {other}"),
        None => "unknown".into(),
    }
}

/// The text of a message's `content` (`{"text": ...}` or `{"content": ...}`), or the content
/// as it is.
fn text_of(content: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(content).unwrap_or_default();
    match value
        .get("text")
        .or_else(|| value.get("content"))
        .and_then(|text| text.as_str())
    {
        Some(text) => text.to_owned(),
        None => content.to_owned(),
    }
}
