//! The testing kit plays the platform's side of event delivery: pushes, retries on its
//! schedule (scaled), faults on demand, and `MockPlatform::emit` for subscribed events only.
//! Public API only, as a user's tests would use it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use feishu_helpdesk::events::{DeliveryOptions, HelpdeskEvent, MemoryDedupeStore, Receiver};
use feishu_helpdesk::testing::{EventPusher, Fault, MockPlatform, PushEvent};
use feishu_helpdesk::EventType;

const TOKEN: &str = "v-test-token";
const KEY: &str = "test-encrypt-key";

/// Serves `app` on a free loopback port; returns its URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A receiver app whose handler counts calls and fails the first `failures` of them.
async fn receiver_app(receiver: Receiver, failures: usize) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let route = receiver.into_service(move |_event: HelpdeskEvent| {
        let counter = counter.clone();
        async move {
            let call = counter.fetch_add(1, Ordering::SeqCst);
            if call < failures {
                return Err(format!("failure {call}"));
            }
            Ok(())
        }
    });
    (serve(axum::Router::new().route("/events", route)).await, calls)
}

fn encrypted_receiver() -> Receiver {
    Receiver::builder()
        .verification_token(TOKEN)
        .encrypt_key(KEY)
        .build()
        .unwrap()
}

fn ticket_created() -> PushEvent {
    PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "6948728206392295444"}),
    )
}

#[tokio::test]
async fn each_fault_is_refused_by_the_receiver() {
    let (url, calls) = receiver_app(encrypted_receiver(), 0).await;
    let pusher = EventPusher::new(TOKEN).encrypt_key(KEY);
    let event = ticket_created();
    for (fault, expected) in [
        (Fault::TamperedSignature, 401),
        (Fault::WrongToken, 401),
        (Fault::Oversized, 413),
    ] {
        let attempt = pusher.push_once(&url, &event, fault).await;
        assert_eq!(attempt.status, Some(expected), "{fault:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Then the event as the platform sends it, twice: handled once, both acknowledged.
    assert_eq!(
        pusher.push_once(&url, &event, Fault::None).await.status,
        Some(200)
    );
    assert_eq!(
        pusher.push_once(&url, &event, Fault::None).await.status,
        Some(200)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(pusher.challenge(&url).await.0, Some(200));
    assert!(
        pusher.challenge(&url).await.1.is_some(),
        "the challenge was not echoed"
    );
}

#[tokio::test]
async fn concurrent_duplicates_to_two_replicas_are_handled_once() {
    let store = Arc::new(MemoryDedupeStore::default());
    let replica = || {
        Receiver::builder()
            .verification_token(TOKEN)
            .delivery(DeliveryOptions::default().dedupe_store(store.clone()))
            .build()
            .unwrap()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let mut urls = Vec::new();
    for receiver in [replica(), replica()] {
        let counter = calls.clone();
        let route = receiver.into_service(move |_| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<(), String>(())
            }
        });
        urls.push(serve(axum::Router::new().route("/events", route)).await);
    }
    let pusher = EventPusher::new(TOKEN);
    let attempts = pusher
        .push_concurrently(&[&urls[0], &urls[1]], &ticket_created())
        .await;
    let mut statuses: Vec<_> = attempts.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [Some(200), Some(409)]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retries_follow_the_platform_s_schedule_scaled() {
    // Fails twice, then succeeds: delivered on the third attempt.
    let receiver = Receiver::builder().verification_token(TOKEN).build().unwrap();
    let (url, calls) = receiver_app(receiver, 2).await;
    let pusher = EventPusher::new(TOKEN).retry_scale(0.001); // 15 ms, 300 ms, 3.6 s, 21.6 s
    let delivery = pusher.deliver(&url, &ticket_created()).await;
    assert!(delivery.delivered);
    let statuses: Vec<_> = delivery.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let schedule = pusher.schedule();
    assert_eq!(
        schedule[..2],
        [Duration::from_millis(15), Duration::from_millis(300)]
    );
    for (i, pair) in delivery.attempts.windows(2).enumerate() {
        let gap = pair[1].sent_at - pair[0].sent_at;
        assert!(
            gap >= schedule[i],
            "retry {i} came after {gap:?}, before {:?}",
            schedule[i]
        );
        assert!(
            gap < schedule[i] + Duration::from_secs(1),
            "retry {i} came after {gap:?}"
        );
    }

    // A receiver that never succeeds sees the first push and four retries, then nothing.
    let receiver = Receiver::builder().verification_token(TOKEN).build().unwrap();
    let (url, calls) = receiver_app(receiver, usize::MAX).await;
    let delivery = EventPusher::new(TOKEN)
        .retry_scale(0.00002)
        .deliver(&url, &ticket_created())
        .await;
    assert!(!delivery.delivered);
    assert_eq!(delivery.attempts.len(), 5);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_slow_receiver_is_a_failed_attempt() {
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            ""
        }),
    );
    let url = serve(app).await;
    let pusher = EventPusher::new(TOKEN)
        .deadline(Duration::from_millis(50))
        .retry_scale(0.00001);
    let delivery = pusher.deliver(&url, &ticket_created()).await;
    assert!(!delivery.delivered);
    assert!(delivery.attempts.iter().all(|a| a.status.is_none()));
}

#[tokio::test]
async fn the_mock_platform_pushes_only_subscribed_events() {
    let platform = MockPlatform::start().await;
    let (url, calls) = receiver_app(encrypted_receiver(), 0).await;
    platform.deliver_events_to(url, EventPusher::new(TOKEN).encrypt_key(KEY));
    let client = platform.client_builder().build().unwrap();
    client.subscribe(&[EventType::TICKET_CREATED]).await.unwrap();

    let delivery = platform
        .emit(&ticket_created())
        .await
        .expect("subscribed: pushed");
    assert!(delivery.delivered);
    let message = PushEvent::new(
        "helpdesk.ticket_message.created_v1",
        serde_json::json!({"text": "hi"}),
    );
    assert_eq!(platform.emit(&message).await, None, "not subscribed: not pushed");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    client.unsubscribe(&[EventType::TICKET_CREATED]).await.unwrap();
    assert_eq!(platform.emit(&ticket_created()).await, None);
}

/// As in the `testing` module's docs: a user's own axum app, not this crate's receiver, tested end to end.
#[tokio::test]
async fn a_plain_axum_app_receives_what_the_platform_sends() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let push: serde_json::Value = serde_json::from_slice(&body).unwrap();
                log.lock().unwrap().push(push);
                ""
            }
        }),
    );
    let url = serve(app).await;
    let event = ticket_created();
    let delivery = EventPusher::new(TOKEN).deliver(&url, &event).await;
    assert!(delivery.delivered && delivery.attempts.len() == 1);
    let push = seen.lock().unwrap()[0].clone();
    assert_eq!(push["schema"], "2.0");
    assert_eq!(push["header"]["event_id"], event.event_id.as_str());
    assert_eq!(push["header"]["event_type"], "helpdesk.ticket.created_v1");
    assert_eq!(push["header"]["token"], TOKEN);
    assert_eq!(push["event"]["ticket_id"], "6948728206392295444");
}

#[tokio::test]
async fn the_kit_s_requests_drive_the_receiver_without_http() {
    let receiver = encrypted_receiver();
    let pusher = EventPusher::new(TOKEN).encrypt_key(KEY);
    let event = ticket_created();
    let calls = AtomicUsize::new(0);
    for (fault, expected) in [
        (Fault::TamperedSignature, 401),
        (Fault::WrongToken, 401),
        (Fault::Oversized, 413),
        (Fault::None, 200),
    ] {
        let (headers, body) = pusher.request(&event, fault);
        let answer = receiver
            .handle(&headers, &body, |pushed| {
                calls.fetch_add(1, Ordering::SeqCst);
                let event_id = pushed.header().event_id.clone();
                async move {
                    if event_id.len() == 32 {
                        Ok(())
                    } else {
                        Err("not the kit's id")
                    }
                }
            })
            .await;
        assert_eq!(answer.status().as_u16(), expected, "{fault:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_kit_writes_the_envelope_s_fields_in_the_platform_s_order() {
    let (_, body) = EventPusher::new(TOKEN).request(&ticket_created(), Fault::None);
    let body = String::from_utf8(body).unwrap();
    let at = |field: &str| body.find(&format!("\"{field}\"")).unwrap();
    assert!(
        at("schema") < at("header") && at("header") < at("event"),
        "{body}"
    );
    assert!(
        at("event_id") < at("event_type") && at("token") < at("tenant_key"),
        "{body}"
    );
}
