//! Serves the platform's helpdesk contract on a loopback port (the `testing` kit's
//! `MockPlatform`), for clients written in other languages from `openapi/helpdesk.yaml`.
//!
//! Prints `BASE_URL=http://127.0.0.1:<port>` on its first line, then serves until its
//! standard input closes. It accepts the tenant token `t-7f1bcd13fc57d46bac21793a18e560`
//! and the helpdesk `7180000000000000001:ht-example`, refuses anything else as the platform
//! does, and exits non-zero unless it received exactly one unsubscribe and then one
//! subscribe of `helpdesk.ticket_message` / `ticket_message.created_v1`, both accepted.
//!
//! ```sh
//! cargo run --example stand_in
//! ```

use feishu_helpdesk::testing::{MockCredentials, MockPlatform};
use feishu_helpdesk::EventType;
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let platform = MockPlatform::start_with(MockCredentials {
        tenant_access_token: Some("t-7f1bcd13fc57d46bac21793a18e560".into()),
        helpdesk_id: "7180000000000000001".into(),
        helpdesk_token: "ht-example".into(),
        ..MockCredentials::default()
    })
    .await;
    println!("BASE_URL={}", platform.base_url());

    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;

    let calls: Vec<(String, u16)> = platform
        .requests()
        .into_iter()
        .map(|request| (request.path, request.answered))
        .collect();
    for (path, answered) in &calls {
        println!("{path}: HTTP {answered}");
    }
    let expected = [
        ("/open-apis/helpdesk/v1/events/unsubscribe".to_owned(), 200),
        ("/open-apis/helpdesk/v1/events/subscribe".to_owned(), 200),
    ];
    if calls == expected
        && platform
            .subscribed()
            .into_iter()
            .eq([EventType::TICKET_MESSAGE_CREATED])
    {
        println!("both calls met the contract");
        std::process::ExitCode::SUCCESS
    } else {
        println!("the calls did not meet the contract");
        std::process::ExitCode::FAILURE
    }
}
