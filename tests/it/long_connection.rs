//! `events::LongConnection` against the kit's stand-in of the long connection: events typed
//! and acknowledged, exactly once (duplicates, retries, two connections), a slow handler
//! beside fast ones, fragments, every fault the stand-in plays (a dropped socket, a half-open
//! one, each handshake refusal, each endpoint failure), the platform's settings, reconnect
//! limits, shutdown, and a dropped `run`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feishu_helpdesk::events::{
    DedupeStore, DeliveryOptions, HelpdeskEvent, LongConnection, LongConnectionBuilder, LongConnectionError,
    MemoryDedupeStore,
};
use feishu_helpdesk::testing::{
    self, ClientConfig, EndpointFault, HandshakeRefusal, Injected, MockLongConnection, MockPlatform,
    PongPayload, PushEvent,
};
use feishu_helpdesk::Error;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a test waits for something that should happen in milliseconds.
const SOON: Duration = Duration::from_secs(5);

/// A builder pointed at the stand-in, with timings short enough for tests.
fn builder(platform: &MockPlatform) -> LongConnectionBuilder {
    LongConnection::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .base_url(platform.base_url())
        .ping_interval(Duration::from_millis(100))
        .pong_timeout(Duration::from_millis(400))
        .reconnect_jitter(Duration::from_millis(10))
        .reconnect_interval(Duration::from_millis(20))
        .connect_timeout(Duration::from_millis(500))
}

fn ticket_created(ticket_id: &str) -> PushEvent {
    PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": ticket_id}),
    )
}

/// What the handler saw: the event ids, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn ids(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, event_id: &str) -> usize {
        self.ids().iter().filter(|id| *id == event_id).count()
    }
}

/// Runs `connection` with `handler` in a task of its own.
fn spawn_run<H, Fut>(
    connection: &Arc<LongConnection>,
    handler: H,
) -> JoinHandle<Result<(), LongConnectionError>>
where
    H: Fn(HelpdeskEvent) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let connection = Arc::clone(connection);
    tokio::spawn(async move { connection.run(handler).await })
}

/// Runs `connection` in a task with a handler that records each event and succeeds.
fn run_recording(
    connection: Arc<LongConnection>,
    seen: &Seen,
) -> JoinHandle<Result<(), LongConnectionError>> {
    let seen = seen.clone();
    spawn_run(&connection, move |event: HelpdeskEvent| {
        let seen = seen.clone();
        async move {
            seen.0.lock().unwrap().push(event.header().event_id.clone());
            Ok(())
        }
    })
}

async fn live(stand_in: &MockLongConnection, count: usize) {
    assert!(
        stand_in.wait_for_live(count, SOON).await,
        "{count} live connection(s) expected: {stand_in:?}"
    );
}

async fn finished(run: JoinHandle<Result<(), LongConnectionError>>) -> Result<(), LongConnectionError> {
    tokio::time::timeout(SOON, run)
        .await
        .expect("run returned in time")
        .expect("run did not panic")
}

#[tokio::test]
async fn an_event_is_typed_handled_once_and_acknowledged_on_its_frame() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).build().unwrap());
    let types = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&types);
    let run = spawn_run(&connection, move |event: HelpdeskEvent| {
        let recorded = Arc::clone(&recorded);
        async move {
            let ticket = match &event {
                HelpdeskEvent::TicketCreated { event, .. } => event.ticket_id.clone(),
                _ => None,
            };
            recorded.lock().unwrap().push((
                event.event_type().to_owned(),
                event.header().event_id.clone(),
                ticket,
            ));
            Ok(())
        }
    });
    live(stand_in, 1).await;
    let event = ticket_created("6948728206392295444");
    let delivery = stand_in.push(&event).await;
    assert!(delivery.delivered, "{delivery:?}");
    assert_eq!(delivery.attempts.len(), 1);
    assert_eq!(
        *types.lock().unwrap(),
        [(
            "helpdesk.ticket.created_v1".to_owned(),
            event.event_id.clone(),
            Some("6948728206392295444".to_owned())
        )]
    );
    // The ack is the event's frame: same ids and headers, `biz_rt` added, code 200.
    let acks = stand_in.acks();
    assert_eq!(acks.len(), 1, "{acks:?}");
    let ack = &acks[0];
    assert_eq!(ack.code, Some(200));
    assert!(ack.biz_rt.is_some(), "{ack:?}");
    assert!(ack.echoes_sent, "{ack:?}");
    let sent = stand_in.sent();
    let pushed = sent
        .iter()
        .find(|frame| frame.frame.header("message_id") == ack.frame.header("message_id"))
        .expect("the pushed frame");
    assert_eq!(ack.frame.seq_id, pushed.frame.seq_id);
    assert_eq!(ack.frame.log_id, pushed.frame.log_id);
    assert_eq!(ack.frame.log_id_new, pushed.frame.log_id_new);
    assert_eq!(
        ack.frame.header("instance_id"),
        pushed.frame.header("instance_id")
    );
    assert_eq!(ack.frame.header("trace_id"), pushed.frame.header("trace_id"));
    // Pings carry the URL's service id.
    assert!(stand_in.wait_until(SOON, |s| s.ping_count() >= 2).await);
    assert!(stand_in
        .pings()
        .iter()
        .all(|ping| ping.service == MockLongConnection::SERVICE_ID));
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_duplicate_is_acknowledged_without_calling_the_handler() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    let event = ticket_created("1");
    assert!(stand_in.push(&event).await.delivered);
    let again = stand_in.push(&event).await;
    assert!(again.delivered, "{again:?}");
    assert_eq!(again.attempts[0].code, Some(200));
    assert_eq!(seen.count(&event.event_id), 1);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_failed_handler_is_acknowledged_500_and_the_push_again_is_handled() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_scale(0.001);
    let connection = Arc::new(builder(&platform).build().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let run = spawn_run(&connection, move |_event: HelpdeskEvent| {
        let calls = Arc::clone(&counted);
        async move {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err("the database is down".to_owned()),
                1 => panic!("a handler bug"),
                _ => Ok(()),
            }
        }
    });
    live(stand_in, 1).await;
    let delivery = stand_in.push(&ticket_created("2")).await;
    assert!(delivery.delivered, "{delivery:?}");
    let codes: Vec<_> = delivery.attempts.iter().map(|a| a.code).collect();
    assert_eq!(codes, [Some(500), Some(500), Some(200)]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_handler_past_its_deadline_is_stopped_and_acknowledged_500() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(
        builder(&platform)
            .delivery(
                DeliveryOptions::default()
                    .handler_deadline(Duration::from_millis(100))
                    .claim_lease(Duration::from_millis(500)),
            )
            .build()
            .unwrap(),
    );
    let run = spawn_run(&connection, |_event: HelpdeskEvent| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    });
    live(stand_in, 1).await;
    let attempt = stand_in.push_once(&ticket_created("3")).await;
    assert_eq!(attempt.code, Some(500), "{attempt:?}");
    assert!(attempt.latency < Duration::from_secs(2), "{attempt:?}");
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_slow_handler_delays_neither_other_events_nor_pings() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_deadline(Duration::from_secs(10));
    let connection = Arc::new(
        builder(&platform)
            .delivery(DeliveryOptions::default().handler_deadline(Duration::from_secs(5)))
            .build()
            .unwrap(),
    );
    let slow_id = Arc::new(Mutex::new(String::new()));
    let slow_ids = Arc::clone(&slow_id);
    let run = spawn_run(&connection, move |event: HelpdeskEvent| {
        let slow = *slow_ids.lock().unwrap() == event.header().event_id;
        async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(2500)).await;
            }
            Ok(())
        }
    });
    live(stand_in, 1).await;
    let slow = ticket_created("slow");
    *slow_id.lock().unwrap() = slow.event_id.clone();
    let started = Instant::now();
    let (slow_delivery, fast) = tokio::join!(stand_in.push_once(&slow), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let pings_before = stand_in.ping_count();
        let mut latencies = Vec::new();
        for n in 0..20 {
            let attempt = stand_in.push_once(&ticket_created(&format!("fast-{n}"))).await;
            assert_eq!(attempt.code, Some(200), "{attempt:?}");
            latencies.push(attempt.latency);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        (latencies, stand_in.ping_count() - pings_before)
    });
    let (latencies, pings) = fast;
    assert_eq!(slow_delivery.code, Some(200));
    assert!(
        slow_delivery.latency >= Duration::from_millis(1400),
        "{slow_delivery:?}"
    );
    // Twenty events handled and acknowledged while the slow one ran, and pings went on.
    assert!(started.elapsed() < Duration::from_millis(3000));
    assert!(
        latencies
            .iter()
            .all(|latency| *latency < Duration::from_millis(1000)),
        "{latencies:?}"
    );
    assert!(pings >= 2, "{pings} pings while the slow handler ran");
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn fragments_in_any_order_make_one_event() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_fragments(4);
    stand_in.set_shuffle_fragments(true);
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    for n in 0..5 {
        let event = ticket_created(&format!("fragmented-{n}"));
        let delivery = stand_in.push(&event).await;
        assert!(delivery.delivered, "{delivery:?}");
        assert_eq!(seen.count(&event.event_id), 1);
    }
    let sums: Vec<_> = stand_in
        .sent()
        .iter()
        .filter_map(|frame| frame.frame.header("sum").map(str::to_owned))
        .collect();
    assert!(sums.iter().all(|sum| sum == "4"), "{sums:?}");
    assert_eq!(stand_in.acks().len(), 5, "one ack per event, not per fragment");
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_dropped_socket_is_replaced_and_no_event_is_lost_or_handled_twice() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_scale(0.01);
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    let events: Vec<_> = (0..30).map(|n| ticket_created(&format!("drop-{n}"))).collect();
    let pushes = futures_util::future::join_all(events.iter().map(|event| stand_in.push(event)));
    let dropping = async {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(30)).await;
            stand_in.drop_connections();
            live(stand_in, 1).await;
        }
    };
    let (deliveries, ()) = tokio::join!(pushes, dropping);
    for (event, delivery) in events.iter().zip(&deliveries) {
        assert!(delivery.delivered, "{delivery:?}");
        assert_eq!(seen.count(&event.event_id), 1, "{}", event.event_id);
    }
    assert!(stand_in.handshakes() >= 4, "{stand_in:?}");
    assert!(
        stand_in.endpoint_calls() >= stand_in.handshakes(),
        "a fresh endpoint for every connection"
    );
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn a_half_open_connection_is_noticed_by_its_missing_pong_and_replaced() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    let first = stand_in.live_connections();
    let stalled_at = Instant::now();
    assert_eq!(stand_in.go_half_open(), 1);
    // Replaced within a ping interval, the pong timeout and the jitter (100 + 400 + 10 ms).
    assert!(
        stand_in
            .wait_until(SOON, |s| s.live_connections().iter().any(|c| !first.contains(c)))
            .await
    );
    let recovered = stalled_at.elapsed();
    assert!(
        recovered < Duration::from_millis(1500),
        "recovered in {recovered:?}"
    );
    let event = ticket_created("after-half-open");
    assert!(stand_in.push(&event).await.delivered);
    assert_eq!(seen.count(&event.event_id), 1);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn refusals_retrying_cannot_mend_end_run_with_a_typed_error() {
    for (refusal, status, code) in [
        (HandshakeRefusal::Banned, 403, None),
        (HandshakeRefusal::TooManyConnections, 514, Some(1_000_040_350)),
    ] {
        let platform = MockPlatform::start().await;
        let stand_in = platform.long_connection();
        stand_in.refuse_handshakes(refusal, 1);
        let connection = Arc::new(builder(&platform).build().unwrap());
        let error = finished(run_recording(connection, &Seen::default()))
            .await
            .unwrap_err();
        assert!(matches!(error, LongConnectionError::Refused { .. }), "{error:?}");
        assert_eq!(error.http_status(), Some(status), "{refusal:?}");
        if code.is_some() {
            assert_eq!(error.code(), code);
        }
        assert_eq!(stand_in.endpoint_calls(), 1, "not retried: {refusal:?}");
    }
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.fail_endpoint(EndpointFault::BadCredentials, 1);
    let error = finished(run_recording(
        Arc::new(builder(&platform).build().unwrap()),
        &Seen::default(),
    ))
    .await
    .unwrap_err();
    assert!(matches!(error, LongConnectionError::Refused { .. }), "{error:?}");
    assert_eq!(error.code(), Some(10014));
    assert_eq!(stand_in.endpoint_calls(), 1);
    assert!(!format!("{error} {error:?}").contains(testing::APP_SECRET));
}

#[tokio::test]
async fn refusals_and_endpoint_failures_that_may_pass_are_retried() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.fail_endpoint(EndpointFault::SystemBusy, 1);
    stand_in.fail_endpoint(EndpointFault::InternalError, 1);
    stand_in.fail_endpoint(EndpointFault::HttpStatus(502), 1);
    stand_in.fail_endpoint(EndpointFault::MissingUrl, 1);
    // Slower than the connect timeout (500 ms): the endpoint request is given up and retried.
    stand_in.fail_endpoint(EndpointFault::Delay(Duration::from_secs(30)), 1);
    stand_in.refuse_handshakes(HandshakeRefusal::AuthFailed, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::ServerError, 1);
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let started = Instant::now();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stand_in.endpoint_calls(), 8, "{stand_in:?}");
    assert_eq!(stand_in.refused_handshakes(), 2);
    let event = ticket_created("after-faults");
    assert!(stand_in.push(&event).await.delivered);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn reconnects_stop_at_the_count_the_user_set() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.fail_endpoint(EndpointFault::SystemBusy, 100);
    let connection = builder(&platform).reconnect_count(Some(3)).build().unwrap();
    let error = finished(run_recording(Arc::new(connection), &Seen::default()))
        .await
        .unwrap_err();
    match &error {
        LongConnectionError::ReconnectsExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(matches!(**last, LongConnectionError::Failed { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stand_in.endpoint_calls(), 4, "the first try and three reconnects");
}

#[tokio::test]
async fn the_platforms_reconnect_count_is_honoured_unless_the_user_set_one() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_client_config(ClientConfig {
        reconnect_count: 1,
        reconnect_interval: 1,
        reconnect_nonce: 0,
        ping_interval: 120,
    });
    let connection = Arc::new(
        LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .pong_timeout(Duration::from_millis(400))
            .connect_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let run = run_recording(connection, &Seen::default());
    live(stand_in, 1).await;
    stand_in.refuse_handshakes(HandshakeRefusal::AuthFailed, 100);
    stand_in.drop_connections();
    let error = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("run returned in time")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            error,
            LongConnectionError::ReconnectsExhausted { attempts: 1, .. }
        ),
        "{error:?}"
    );
    assert_eq!(stand_in.refused_handshakes(), 1);
}

#[tokio::test]
async fn the_platforms_ping_interval_applies_and_absurd_values_are_ignored() {
    // PingInterval 1 s from the endpoint: a second ping about a second after the first.
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_client_config(ClientConfig {
        ping_interval: 1,
        ..ClientConfig::default()
    });
    stand_in.set_pong(PongPayload::Empty);
    let connection = Arc::new(
        LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .build()
            .unwrap(),
    );
    let run = run_recording(Arc::clone(&connection), &Seen::default());
    assert!(stand_in.wait_until(SOON, |s| s.ping_count() >= 1).await);
    let first = Instant::now();
    assert!(stand_in.wait_until(SOON, |s| s.ping_count() >= 2).await);
    let gap = first.elapsed();
    assert!(
        (Duration::from_millis(800)..Duration::from_millis(2500)).contains(&gap),
        "{gap:?}"
    );
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();

    // Zeros in pongs are ignored: the interval stays the endpoint's 1 s.
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_client_config(ClientConfig {
        ping_interval: 1,
        ..ClientConfig::default()
    });
    stand_in.set_pong(PongPayload::Config(ClientConfig {
        reconnect_count: 0,
        reconnect_interval: 0,
        reconnect_nonce: 0,
        ping_interval: 0,
    }));
    let connection = Arc::new(
        LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .build()
            .unwrap(),
    );
    let run = run_recording(Arc::clone(&connection), &Seen::default());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pings = stand_in.ping_count();
    assert!((2..=3).contains(&pings), "{pings} pings in 1.5 s");
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn card_unknown_and_undecodable_frames_are_skipped() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    let first = stand_in.live_connections();
    for injected in [
        Injected::Card,
        Injected::UnknownType,
        Injected::UnknownMethod,
        Injected::ServerPing,
        Injected::Text,
        Injected::Undecodable,
    ] {
        assert_eq!(stand_in.inject(injected), 1);
    }
    let event = ticket_created("after-oddities");
    assert!(stand_in.push(&event).await.delivered);
    assert_eq!(stand_in.live_connections(), first, "the same connection");
    assert_eq!(stand_in.acks().len(), 1, "only the event acknowledged");
    assert_eq!(seen.ids(), std::slice::from_ref(&event.event_id));
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn two_connections_share_the_traffic_and_each_event_is_handled_once() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_scale(0.01);
    let store: Arc<dyn DedupeStore> = Arc::new(MemoryDedupeStore::default());
    let seen = [Seen::default(), Seen::default()];
    let connections: Vec<_> = (0..2)
        .map(|_| {
            Arc::new(
                builder(&platform)
                    .delivery(DeliveryOptions::default().dedupe_store(Arc::clone(&store)))
                    .build()
                    .unwrap(),
            )
        })
        .collect();
    let runs: Vec<_> = connections
        .iter()
        .zip(&seen)
        .map(|(connection, seen)| run_recording(Arc::clone(connection), seen))
        .collect();
    live(stand_in, 2).await;
    let events: Vec<_> = (0..40).map(|n| ticket_created(&format!("split-{n}"))).collect();
    let deliveries = futures_util::future::join_all(events.iter().map(|event| stand_in.push(event))).await;
    assert!(deliveries.iter().all(|d| d.delivered));
    // The same event pushed once more to each connection: still handled once.
    let twice = &events[0];
    for _ in 0..4 {
        assert_eq!(stand_in.push_once(twice).await.code, Some(200));
    }
    for event in &events {
        assert_eq!(
            seen[0].count(&event.event_id) + seen[1].count(&event.event_id),
            1,
            "{}",
            event.event_id
        );
    }
    assert!(
        !seen[0].ids().is_empty() && !seen[1].ids().is_empty(),
        "both connections received events: {} and {}",
        seen[0].ids().len(),
        seen[1].ids().len()
    );
    for connection in &connections {
        connection.shutdown_handle().shutdown();
    }
    for run in runs {
        finished(run).await.unwrap();
    }
}

#[tokio::test]
async fn shutdown_lets_events_in_flight_finish_acknowledged_and_closes_the_socket() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).build().unwrap());
    let run = spawn_run(&connection, |_event: HelpdeskEvent| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(())
    });
    live(stand_in, 1).await;
    let event = ticket_created("in-flight");
    let (attempt, ()) = tokio::join!(stand_in.push_once(&event), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        connection.shutdown_handle().shutdown();
    });
    assert_eq!(attempt.code, Some(200), "the event in flight was acknowledged");
    let stopped = Instant::now();
    finished(run).await.unwrap();
    assert!(stopped.elapsed() < Duration::from_secs(2));
    assert!(
        stand_in.wait_until(SOON, |s| !s.closes().is_empty()).await,
        "a close frame"
    );
    assert!(
        stand_in
            .wait_until(SOON, |s| s.open_connections().is_empty())
            .await
    );
    // After the shutdown, nothing reconnects.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stand_in.handshakes(), 1);
}

#[tokio::test]
async fn a_shutdown_before_run_returns_at_once() {
    let platform = MockPlatform::start().await;
    let connection = builder(&platform).build().unwrap();
    connection.shutdown_handle().shutdown();
    let result = tokio::time::timeout(
        SOON,
        connection.run(|_event: HelpdeskEvent| async { Ok::<(), String>(()) }),
    )
    .await;
    assert!(matches!(result, Ok(Ok(()))));
    assert_eq!(platform.long_connection().endpoint_calls(), 0);
}

#[tokio::test]
async fn dropping_run_stops_its_handlers_and_its_connection() {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let dropped = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let connection = Arc::new(builder(&platform).build().unwrap());
    let run = spawn_run(&connection, {
        let (dropped, started) = (Arc::clone(&dropped), Arc::clone(&started));
        move |_event: HelpdeskEvent| {
            let guard = Guard(Arc::clone(&dropped));
            started.fetch_add(1, Ordering::SeqCst);
            async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            }
        }
    });
    live(stand_in, 1).await;
    let event = ticket_created("dropped");
    let pushing = stand_in.push_once(&event);
    tokio::pin!(pushing);
    // Wait until the handler runs, then drop `run`.
    tokio::select! {
        _ = &mut pushing => panic!("the handler should still run"),
        () = async { while started.load(Ordering::SeqCst) == 0 { tokio::time::sleep(Duration::from_millis(5)).await } } => {}
    }
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    tokio::time::timeout(SOON, async {
        while dropped.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the handler's future was dropped with run");
    assert!(
        stand_in
            .wait_until(SOON, |s| s.open_connections().is_empty())
            .await
    );
}

#[tokio::test]
async fn debug_shows_no_secret_and_bad_settings_are_refused() {
    let connection = LongConnection::builder()
        .app_credentials("cli_a", "very-secret-value")
        .build()
        .unwrap();
    let shown = format!(
        "{connection:?} {:?}",
        LongConnection::builder().app_credentials("cli_a", "very-secret-value")
    );
    assert!(!shown.contains("very-secret-value"), "{shown}");
    for (builder, field) in [
        (LongConnection::builder(), "app_credentials"),
        (
            LongConnection::builder().app_credentials("cli_a", ""),
            "app_credentials",
        ),
        (
            LongConnection::builder()
                .app_credentials("cli_a", "s")
                .base_url("http://example.com"),
            "base_url",
        ),
        (
            LongConnection::builder()
                .app_credentials("cli_a", "s")
                .max_in_flight(0),
            "max_in_flight",
        ),
        (
            LongConnection::builder()
                .app_credentials("cli_a", "s")
                .pong_timeout(Duration::ZERO),
            "pong_timeout",
        ),
        (
            LongConnection::builder()
                .app_credentials("cli_a", "s")
                .ping_interval(Duration::ZERO),
            "ping_interval",
        ),
        (
            LongConnection::builder().app_credentials("cli_a", "s").delivery(
                DeliveryOptions::default()
                    .handler_deadline(Duration::from_secs(5))
                    .claim_lease(Duration::from_secs(1)),
            ),
            "claim_lease",
        ),
    ] {
        match builder.build() {
            Err(Error::InvalidInput { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_event_over_http_and_over_the_connection_is_handled_once() {
    use feishu_helpdesk::events::Receiver;
    use feishu_helpdesk::testing::{EventPusher, Fault};

    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    // One value configures both ways in: clones share the store.
    let delivery = DeliveryOptions::default().dedupe_store(Arc::new(MemoryDedupeStore::default()));
    let receiver = Receiver::builder()
        .verification_token("v-token")
        .delivery(delivery.clone())
        .build()
        .unwrap();
    let connection = Arc::new(builder(&platform).delivery(delivery).build().unwrap());
    let seen = Seen::default();
    let run = run_recording(Arc::clone(&connection), &seen);
    live(stand_in, 1).await;
    let pusher = EventPusher::new("v-token");
    let over_http = |event: &PushEvent| {
        let (headers, body) = pusher.request(event, Fault::None);
        let (seen, receiver) = (seen.clone(), receiver.clone());
        async move {
            receiver
                .handle(&headers, &body, |event: HelpdeskEvent| async move {
                    seen.0.lock().unwrap().push(event.header().event_id.clone());
                    Ok::<(), String>(())
                })
                .await
                .status()
        }
    };
    // Over HTTP first, then over the connection; and the other way round.
    let first = ticket_created("http-first");
    assert_eq!(over_http(&first).await, 200);
    assert_eq!(stand_in.push_once(&first).await.code, Some(200));
    let second = ticket_created("connection-first");
    assert_eq!(stand_in.push_once(&second).await.code, Some(200));
    assert_eq!(over_http(&second).await, 200);
    assert_eq!(seen.count(&first.event_id), 1);
    assert_eq!(seen.count(&second.event_id), 1);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

/// Two replicas, each with its own connection, sharing a real `redis-server`.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
async fn two_replicas_sharing_redis_handle_each_event_once() {
    use crate::support::redis_server::RedisServer;
    use feishu_helpdesk::events::RedisDedupeStore;

    let redis_server = RedisServer::start();
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let seen = [Seen::default(), Seen::default()];
    let replicas: Vec<_> = (0..2)
        .map(|_| {
            let store = Arc::new(RedisDedupeStore::new(&redis_server.url).unwrap());
            Arc::new(
                builder(&platform)
                    .delivery(DeliveryOptions::default().dedupe_store(store))
                    .build()
                    .unwrap(),
            )
        })
        .collect();
    let runs: Vec<_> = replicas
        .iter()
        .zip(&seen)
        .map(|(replica, seen)| run_recording(Arc::clone(replica), seen))
        .collect();
    live(stand_in, 2).await;
    let events: Vec<_> = (0..20).map(|n| ticket_created(&format!("redis-{n}"))).collect();
    for event in &events {
        // Each event pushed three times, to whichever replica the platform picks.
        for _ in 0..3 {
            assert_eq!(stand_in.push_once(event).await.code, Some(200));
        }
        assert_eq!(
            seen[0].count(&event.event_id) + seen[1].count(&event.event_id),
            1,
            "{}",
            event.event_id
        );
    }
    for replica in &replicas {
        replica.shutdown_handle().shutdown();
    }
    for run in runs {
        finished(run).await.unwrap();
    }
}

#[tokio::test]
async fn no_more_handlers_run_at_once_than_max_in_flight() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let connection = Arc::new(builder(&platform).max_in_flight(2).build().unwrap());
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let run = spawn_run(&connection, {
        let (running, most) = (Arc::clone(&running), Arc::clone(&most));
        move |_event: HelpdeskEvent| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        }
    });
    live(stand_in, 1).await;
    let events: Vec<_> = (0..10).map(|n| ticket_created(&format!("bounded-{n}"))).collect();
    let attempts = futures_util::future::join_all(events.iter().map(|event| stand_in.push_once(event))).await;
    assert!(attempts.iter().all(|a| a.code == Some(200)), "{attempts:?}");
    assert_eq!(most.load(Ordering::SeqCst), 2);
    connection.shutdown_handle().shutdown();
    finished(run).await.unwrap();
}

#[tokio::test]
async fn the_endpoint_request_follows_no_redirect_so_the_app_secret_stays_with_the_platform() {
    // The endpoint request carries the app secret in its body: a redirect to another host
    // must not take it there.
    let platform = crate::support::StandIn::start().await;
    let elsewhere = crate::support::StandIn::start().await;
    let anything_elsewhere = elsewhere
        .server
        .mock_async(|_, then| {
            then.status(200)
                .body(r#"{"code":0,"data":{"URL":"ws://127.0.0.1:1/"}}"#);
        })
        .await;
    for status in [301, 302, 307, 308] {
        let location = format!("{}/callback/ws/endpoint", elsewhere.base_url());
        let redirect = platform
            .server
            .mock_async(|when, then| {
                when.path("/callback/ws/endpoint");
                then.status(status).header("location", location);
            })
            .await;
        let connection = LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .reconnect_count(Some(0))
            .connect_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let error = finished(run_recording(Arc::new(connection), &Seen::default()))
            .await
            .unwrap_err();
        assert_eq!(redirect.calls_async().await, 1, "HTTP {status}");
        assert!(!format!("{error} {error:?}").contains(testing::APP_SECRET));
        redirect.delete_async().await;
    }
    assert_eq!(anything_elsewhere.calls_async().await, 0);
}

#[tokio::test]
async fn errors_of_the_calls_kind_are_kept_whole() {
    // The endpoint cannot be reached: retried, and the last failure is the call's error.
    let connection = LongConnection::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .base_url(crate::support::unreachable_base_url())
        .reconnect_count(Some(1))
        .reconnect_jitter(Duration::from_millis(10))
        .reconnect_interval(Duration::from_millis(20))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let error = finished(run_recording(Arc::new(connection), &Seen::default()))
        .await
        .unwrap_err();
    match &error {
        LongConnectionError::ReconnectsExhausted {
            attempts: 1, last, ..
        } => assert!(
            matches!(
                **last,
                LongConnectionError::Call {
                    error: Error::Transport { .. },
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!((error.code(), error.http_status()), (None, None));
    assert_eq!(
        error.to_string(),
        "the long connection was not restored after 1 reconnects"
    );
    // The last failure is the source, shown as the call's error is.
    let last = std::error::Error::source(&error).expect("the last failure");
    assert_eq!(last.to_string(), "the request failed in transport");
    assert!(last.source().is_some(), "the transport error under it");
    assert_eq!(error.clone().to_string(), error.to_string());

    // A plain ws:// URL to a host that is not loopback: the settings refuse it, not retried.
    let platform = crate::support::StandIn::start().await;
    let endpoint = platform
        .server
        .mock_async(|when, then| {
            when.path("/callback/ws/endpoint");
            then.status(200)
                .body(r#"{"code":0,"data":{"URL":"ws://example.com/ws?device_id=1"}}"#);
        })
        .await;
    let connection = LongConnection::builder()
        .app_credentials(testing::APP_ID, testing::APP_SECRET)
        .base_url(platform.base_url())
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let error = finished(run_recording(Arc::new(connection), &Seen::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            LongConnectionError::Call {
                error: Error::InvalidInput {
                    field: "base_url",
                    ..
                },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("invalid base_url: "), "{error}");
    assert_eq!(endpoint.calls_async().await, 1);

    // `build`'s error converts: one `?` serves both.
    async fn connect_and_run() -> Result<(), LongConnectionError> {
        LongConnection::builder()
            .build()?
            .run(|_| async { Ok::<(), String>(()) })
            .await
    }
    assert!(
        matches!(
            connect_and_run().await,
            Err(LongConnectionError::Call {
                error: Error::InvalidInput {
                    field: "app_credentials",
                    ..
                },
                ..
            })
        ),
        "build's error"
    );
}
