//! Receives helpdesk events: an axum server that checks, decrypts and prints each push.
//!
//! ```sh
//! FEISHU_VERIFICATION_TOKEN=v-... FEISHU_ENCRYPT_KEY=... cargo run --example receive
//! ```
//!
//! Listens on `FEISHU_RECEIVER_ADDR` (default `127.0.0.1:3000`), path `/`. Without
//! `FEISHU_VERIFICATION_TOKEN` it accepts the sample pushes of `tests/fixtures/events/`:
//!
//! ```sh
//! curl -d @tests/fixtures/events/ticket.created_v1.json http://127.0.0.1:3000/
//! ```

use feishu_helpdesk::events::{HelpdeskEvent, Receiver};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("FEISHU_RECEIVER_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let mut builder = Receiver::builder();
    builder = match std::env::var("FEISHU_VERIFICATION_TOKEN") {
        Ok(token) => builder.verification_token(token),
        Err(_) => {
            println!("FEISHU_VERIFICATION_TOKEN is not set: accepting the sample token");
            builder.verification_token("v-sample-verification-token")
        }
    };
    if let Ok(key) = std::env::var("FEISHU_ENCRYPT_KEY") {
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
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("receiving helpdesk events on http://{addr}/");
    axum::serve(listener, app).await?;
    Ok(())
}
