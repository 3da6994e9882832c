//! Serves the platform's helpdesk contract on a loopback port, for clients written in
//! other languages from `openapi/helpdesk.yaml`.
//!
//! Prints `BASE_URL=http://127.0.0.1:<port>` on its first line, then serves until its
//! standard input closes. It expects one unsubscribe and one subscribe, for the event
//! `helpdesk.ticket_message` / `ticket_message.created_v1`, each with the credentials of
//! `tests/support` (tenant token `t-7f1bcd13fc57d46bac21793a18e560`, helpdesk
//! `7180000000000000001:ht-example`), `Content-Type: application/json; charset=utf-8` and
//! the exact body; it exits non-zero unless both came exactly once.
//!
//! ```sh
//! cargo run --example stand_in
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let stand_in = support::StandIn::start().await;
    let events =
        serde_json::json!([{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}]);
    let unsubscribe = stand_in
        .expect_contract(support::UNSUBSCRIBE_PATH, events.clone(), false)
        .await;
    let subscribe = stand_in
        .expect_contract(support::SUBSCRIBE_PATH, events, false)
        .await;
    println!("BASE_URL={}", stand_in.base_url());

    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;

    let (unsubscribed, subscribed) = (unsubscribe.calls_async().await, subscribe.calls_async().await);
    println!("unsubscribe calls meeting the contract: {unsubscribed}");
    println!("subscribe calls meeting the contract: {subscribed}");
    if (unsubscribed, subscribed) == (1, 1) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
