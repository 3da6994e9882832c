//! Receives helpdesk events: an axum server that checks, decrypts and prints each push.
//!
//! ```sh
//! FEISHU_VERIFICATION_TOKEN=v-... FEISHU_ENCRYPT_KEY=... cargo run --example receive
//! ```
//!
//! Listens on `FEISHU_RECEIVER_ADDR` (default `127.0.0.1:3000`), path `/`. Without
//! `FEISHU_VERIFICATION_TOKEN` it plays the platform too: the `testing` kit's `EventPusher`
//! pushes the sample events of `tests/fixtures/events/` to it, encrypted and signed as the
//! platform does, a duplicate and a forged push among them; then it keeps listening with the
//! sample token, so that you can push more:
//!
//! ```sh
//! curl -d @tests/fixtures/events/ticket.created_v1.json http://127.0.0.1:3000/
//! ```

use feishu_helpdesk::events::{self, HelpdeskEvent, Receiver};
use feishu_helpdesk::testing::{EventPusher, Fault, PushEvent};

/// The sample pushes, by event type, for the demonstration.
const SAMPLES: [&str; 4] = [
    include_str!("../tests/fixtures/events/ticket.created_v1.json"),
    include_str!("../tests/fixtures/events/ticket.updated_v1.json"),
    include_str!("../tests/fixtures/events/ticket_message.created_v1.json"),
    include_str!("../tests/fixtures/events/notification.approve_v1.json"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("FEISHU_RECEIVER_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let token = std::env::var("FEISHU_VERIFICATION_TOKEN").ok();
    let demo = token.is_none();
    let mut builder =
        Receiver::builder().verification_token(token.as_deref().unwrap_or("v-sample-verification-token"));
    let key = std::env::var("FEISHU_ENCRYPT_KEY").ok();
    if let Some(key) = &key {
        builder = builder.encrypt_key(key);
    }
    let receiver = builder.build()?;

    let app = axum::Router::new().route(
        "/",
        receiver.into_service(|event: HelpdeskEvent| async move {
            let header = event.header();
            match &event {
                HelpdeskEvent::TicketCreated { event: ticket, .. } => {
                    println!("{} ticket {:?} created", header.event_id, ticket.ticket_id)
                }
                HelpdeskEvent::TicketUpdated { event: change, .. } => println!(
                    "{} ticket {:?} updated: status {:?} -> {:?}",
                    header.event_id,
                    change.object.as_ref().and_then(|t| t.ticket_id.as_ref()),
                    change.old_object.as_ref().and_then(|o| o.status),
                    change.object.as_ref().and_then(|t| t.status),
                ),
                HelpdeskEvent::TicketMessageCreated { event: message, .. } => {
                    println!("{} message: {:?}", header.event_id, message.text)
                }
                HelpdeskEvent::NotificationApprove { event: note, .. } => {
                    println!(
                        "{} notification {:?}: {:?}",
                        header.event_id, note.notification_id, note.approve_status
                    )
                }
                HelpdeskEvent::Other { event: raw, .. } => {
                    println!("{} {}: {raw}", header.event_id, header.event_type)
                }
                _ => println!("{} {}", header.event_id, header.event_type),
            }
            Ok::<(), std::convert::Infallible>(())
        }),
    );
    let listener = events::bind(&addr).await?;
    println!("receiving helpdesk events on http://{addr}/");
    // `events::serve` rather than `axum::serve`: timeouts and a connection cap, so that slow
    // or idle clients cannot keep the platform's pushes out.
    let server = tokio::spawn(async move { events::serve(listener, app).await });
    if demo {
        play_the_platform(&format!("http://{addr}/"), key).await;
    }
    server.await??;
    Ok(())
}

/// Pushes the samples as the platform would, and shows what the receiver answered.
async fn play_the_platform(url: &str, key: Option<String>) {
    println!("FEISHU_VERIFICATION_TOKEN is not set: pushing the sample events as the platform does");
    let mut pusher = EventPusher::new("v-sample-verification-token").retry_scale(0.001);
    if let Some(key) = key {
        pusher = pusher.encrypt_key(key);
    }
    let (status, echoed) = pusher.challenge(url).await;
    println!(
        "URL verification: HTTP {status:?}, challenge echoed: {}",
        echoed.is_some()
    );
    for sample in SAMPLES {
        let sample: serde_json::Value = serde_json::from_str(sample).expect("a sample push");
        let event_type = sample["header"]["event_type"].as_str().unwrap_or_default();
        let event = PushEvent::new(event_type, &sample["event"]);
        let delivery = pusher.deliver(url, &event).await;
        println!(
            "pushed {event_type}: delivered {}, {} attempt(s)",
            delivery.delivered,
            delivery.attempts.len()
        );
        if event_type == "helpdesk.ticket.created_v1" {
            let again = pusher.push_once(url, &event, Fault::None).await;
            println!(
                "pushed it again (a platform retry): HTTP {:?}, not handled twice",
                again.status
            );
            let forged = pusher.push_once(url, &event.renewed(), Fault::WrongToken).await;
            println!("a push with a wrong verification token: HTTP {:?}", forged.status);
        }
    }
    println!("still listening; Ctrl-C stops");
}
