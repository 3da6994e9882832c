//! The long connection, measured against the testing kit's stand-in (in this process, on the
//! default multi-thread runtime): events per second over one connection, the time from push
//! to acknowledgement (median, p99) with fast handlers and with a slow handler beside fast
//! ones, and the resident memory as a million events go through (flat: nothing kept per
//! event beyond the dedupe store's done-markers, which live `done_ttl`).
//!
//! `cargo bench --features long-connection --bench long_connection -- [--events N]
//! [--memory N] [--in-flight N] [--done-ttl SECONDS]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use feishu_helpdesk::events::{DeliveryOptions, HelpdeskEvent, LongConnection};
use feishu_helpdesk::testing::{self, MockPlatform, PushEvent};

/// Every `SLOW_EVERY`-th event of the mixed run has a handler that takes `SLOW`.
const SLOW_EVERY: usize = 20;
const SLOW: Duration = Duration::from_millis(200);

struct Settings {
    events: usize,
    memory: usize,
    in_flight: usize,
    done_ttl: Duration,
}

fn settings() -> Settings {
    let mut settings = Settings {
        events: 50_000,
        memory: 1_000_000,
        in_flight: 64,
        done_ttl: Duration::from_secs(2),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{arg} takes a number"))
        };
        match arg.as_str() {
            "--events" => settings.events = value(),
            "--memory" => settings.memory = value(),
            "--in-flight" => settings.in_flight = value(),
            "--done-ttl" => settings.done_ttl = Duration::from_secs(value() as u64),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    settings
}

fn main() {
    let settings = settings();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(run(settings));
}

/// One pushed event's outcome: whether it was slow, and its push-to-ack time.
type Sample = (bool, Duration);

async fn run(settings: Settings) {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_deadline(Duration::from_secs(30));
    let connection = Arc::new(
        LongConnection::builder()
            .app_credentials(testing::APP_ID, testing::APP_SECRET)
            .base_url(platform.base_url())
            .max_in_flight(settings.in_flight * 2)
            // Done-markers expire quickly unless set (`--done-ttl <seconds>`), so that memory
            // shows the connection's own.
            .delivery(DeliveryOptions::default().done_ttl(settings.done_ttl))
            .build()
            .expect("a connection"),
    );
    let slow_events = Arc::new(std::sync::Mutex::new(std::collections::HashSet::<String>::new()));
    let handled = Arc::new(AtomicUsize::new(0));
    let running = tokio::spawn({
        let (connection, slow_events, handled) = (
            Arc::clone(&connection),
            Arc::clone(&slow_events),
            Arc::clone(&handled),
        );
        async move {
            connection
                .run(move |event: HelpdeskEvent| {
                    let slow = slow_events.lock().unwrap().contains(&event.header().event_id);
                    handled.fetch_add(1, Ordering::Relaxed);
                    async move {
                        if slow {
                            tokio::time::sleep(SLOW).await;
                        }
                        Ok::<(), std::convert::Infallible>(())
                    }
                })
                .await
        }
    });
    assert!(
        stand_in.wait_for_live(1, Duration::from_secs(10)).await,
        "connected"
    );
    // The sample push the receiving benches use too.
    let sample: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/events/ticket_message.created_v1.json"
    ))
    .expect("the sample push");
    let event = PushEvent::new("helpdesk.ticket_message.created_v1", &sample["event"]);

    // The stand-in keeps no record per event: the memory measured is the client's (and the
    // stand-in's per-connection state).
    stand_in.set_recording(false);
    // Warm-up: connections, pools and the allocator settle.
    pushes(stand_in, &event, 2_000, settings.in_flight, None).await;

    println!(
        "long connection, one connection, {} pushes in flight, {} events per run",
        settings.in_flight, settings.events
    );
    println!(
        "| handlers | events/s | fast: median | fast: p99 | slow ({} ms): median | slow: p99 |",
        SLOW.as_millis()
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for mixed in [false, true] {
        let slow = mixed.then_some(&slow_events);
        let started = Instant::now();
        let samples = pushes(stand_in, &event, settings.events, settings.in_flight, slow).await;
        let rate = samples.len() as f64 / started.elapsed().as_secs_f64();
        let (mut fast, mut slow): (Vec<_>, Vec<_>) = samples.into_iter().partition(|(slow, _)| !slow);
        let ms = |samples: &mut Vec<Sample>, p: f64| -> String {
            if samples.is_empty() {
                return "-".to_owned();
            }
            samples.sort_by_key(|(_, latency)| *latency);
            let at = ((samples.len() as f64 * p) as usize).min(samples.len() - 1);
            format!("{:.2} ms", samples[at].1.as_secs_f64() * 1e3)
        };
        println!(
            "| {} | {:.0} | {} | {} | {} | {} |",
            if mixed { "1 in 20 slow" } else { "all fast" },
            rate,
            ms(&mut fast, 0.5),
            ms(&mut fast, 0.99),
            ms(&mut slow, 0.5),
            ms(&mut slow, 0.99),
        );
    }

    if settings.memory > 0 {
        println!();
        println!(
            "resident memory as events go through (done-markers live {} s here):",
            settings.done_ttl.as_secs()
        );
        println!("| events | resident |");
        println!("| ---: | ---: |");
        let step = (settings.memory / 10).max(1);
        let mut done = 0;
        while done < settings.memory {
            pushes(stand_in, &event, step, settings.in_flight, None).await;
            done += step;
            println!("| {done} | {:.1} MiB |", resident_kib() as f64 / 1024.0);
        }
    }
    connection.shutdown_handle().shutdown();
    running.await.expect("run ended").expect("run ended well");
    println!();
    println!("{} events handled", handled.load(Ordering::Relaxed));
}

/// Pushes `count` renewals of `event`, `in_flight` at a time; with `slow`, every
/// `SLOW_EVERY`-th is marked slow for the handler. Panics on an event not acknowledged 200.
async fn pushes(
    stand_in: &testing::MockLongConnection,
    event: &PushEvent,
    count: usize,
    in_flight: usize,
    slow: Option<&Arc<std::sync::Mutex<std::collections::HashSet<String>>>>,
) -> Vec<Sample> {
    let next = AtomicUsize::new(0);
    let workers = (0..in_flight).map(|_| async {
        let mut samples = Vec::new();
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= count {
                return samples;
            }
            let event = event.renewed();
            let is_slow = slow.is_some_and(|slow| {
                n.is_multiple_of(SLOW_EVERY) && slow.lock().unwrap().insert(event.event_id.clone())
            });
            let attempt = stand_in.push_once(&event).await;
            assert_eq!(attempt.code, Some(200), "{attempt:?}");
            if let Some(slow) = slow.filter(|_| is_slow) {
                slow.lock().unwrap().remove(&event.event_id);
            }
            samples.push((is_slow, attempt.latency));
        }
    });
    futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The process's resident memory, in KiB (0 where `/proc` is not there).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
