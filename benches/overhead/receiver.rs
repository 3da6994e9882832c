//! What receiving costs: `Receiver::handle` in process (verify + decrypt + parse + dedupe of
//! the encrypted `ticket_message.created_v1` sample), warmed up; and the receiver mounted in
//! axum over HTTP against a bare axum handler that answers 200 to the same requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use feishu_helpdesk::events::{HelpdeskEvent, Receiver};
use feishu_helpdesk::testing::{EventPusher, Fault, PushEvent};
use http::HeaderMap;

use crate::stats::median;

const TOKEN: &str = "v-sample-verification-token";
const KEY: &str = "kx-sample-encrypt-key";
const SAMPLE: &str = include_str!("../../tests/fixtures/events/ticket_message.created_v1.json");

/// `count` signed, encrypted pushes of the sample, each with its own event id, made by the
/// testing kit as the platform makes them.
fn pushes(count: usize) -> Vec<(HeaderMap, Vec<u8>)> {
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let pusher = EventPusher::new(TOKEN).encrypt_key(KEY);
    (0..count)
        .map(|_| {
            let event = PushEvent::new("helpdesk.ticket_message.created_v1", &sample["event"]);
            pusher.request(&event, Fault::None)
        })
        .collect()
}

/// Writes one push of the sample, as `pushes` makes them, to `path` as JSON: its headers (names
/// in lowercase), its body as a string, and the secrets it is signed and encrypted with, so
/// that `benches/receiving/compare` can hand the same push to the Node and Python SDKs.
pub(crate) fn write_push(path: &str) {
    let (headers, body) = pushes(1).remove(0);
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().into()))
        .collect();
    let push = serde_json::json!({
        "event_type": "helpdesk.ticket_message.created_v1",
        "verification_token": TOKEN,
        "encrypt_key": KEY,
        "headers": headers,
        "body": String::from_utf8(body).unwrap(),
    });
    std::fs::write(path, push.to_string()).unwrap();
}

fn receiver() -> Receiver {
    Receiver::builder()
        .verification_token(TOKEN)
        .encrypt_key(KEY)
        .build()
        .unwrap()
}

async fn handler(event: HelpdeskEvent) -> Result<(), std::convert::Infallible> {
    std::hint::black_box(event);
    Ok(())
}

/// The events of one round in process.
const ROUND: usize = 20_000;
/// The pushes of a round are handled in batches of this many, each copied (untimed) just
/// before it is handled: the round's 20,000 pushes, made in advance, are out of the CPU's
/// caches, where a server handles bytes it has just read.
const BATCH: usize = 256;

/// What one process measured in process: its first round (cold: a new process, the code and
/// the allocator not yet warm) and, after `warm_up` more events, each timed round.
pub(crate) struct Rates {
    pub(crate) cold: f64,
    pub(crate) rates: Vec<f64>,
}

/// Events per second through `handle` on one thread: a first round, then at least `warm_up`
/// events untimed, then `rounds` timed rounds of 20,000 new events (a fresh receiver each
/// round, so that each push is a new event to it).
pub(crate) fn in_process_rates(warm_up: usize, rounds: usize) -> Rates {
    let pushes = pushes(ROUND);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let round = || async {
            let receiver = receiver();
            let mut elapsed = Duration::ZERO;
            for batch in pushes.chunks(BATCH) {
                // Copied untimed: hot in cache, as the bytes a server has just read.
                let batch = batch.to_vec();
                let started = Instant::now();
                for (headers, body) in &batch {
                    let answer = receiver.handle(headers, body, handler).await;
                    assert_eq!(answer.status(), 200);
                }
                elapsed += started.elapsed();
            }
            pushes.len() as f64 / elapsed.as_secs_f64()
        };
        let cold = round().await;
        for _ in 0..warm_up.div_ceil(ROUND) {
            round().await;
        }
        let mut rates = Vec::new();
        for _ in 0..rounds {
            rates.push(round().await);
        }
        Rates { cold, rates }
    })
}

/// `in_process_rates` as one line of JSON, `{"cold": …, "rates": […]}`, the form the Node and
/// Python scripts of `benches/receiving/compare` print too.
pub(crate) fn print_in_process_rates(warm_up: usize, rounds: usize) {
    let Rates { cold, rates } = in_process_rates(warm_up, rounds);
    println!("{}", serde_json::json!({ "cold": cold, "rates": rates }));
}

/// `in_process_rates`, told.
pub(crate) fn in_process(warm_up: usize, rounds: usize) {
    let Rates { cold, mut rates } = in_process_rates(warm_up, rounds);
    println!(
        "\nreceiver, in process (one thread): {:.0} events/s warm (median of {rounds} rounds of 20,000 signed, \
         encrypted ticket_message.created_v1 pushes, in cache as just read: signature, decryption, token, \
         parse, dedupe; after a warm-up of {warm_up}); first round {cold:.0} events/s",
        median(&mut rates)
    );
}

/// The receiver in axum over HTTP (keep-alive, 16 in flight) against a bare axum handler
/// answering 200, in interleaved rounds; the ratio is the median over rounds.
pub(crate) fn over_http(rounds: usize) {
    let pushes = Arc::new(pushes(20_000));
    let server = tokio::runtime::Runtime::new().unwrap();
    let (receiver_url, bare_url, current) = server.block_on(async {
        // A fresh receiver per round: the pushes are new events each time.
        let current = Arc::new(std::sync::Mutex::new(receiver()));
        let for_route = current.clone();
        let app = axum::Router::new()
            .route(
                "/receiver",
                axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                    let receiver = for_route.lock().unwrap().clone();
                    async move {
                        let (parts, body) = receiver.handle(&headers, &body, handler).await.into_parts();
                        axum::response::Response::from_parts(parts, axum::body::Body::from(body))
                    }
                }),
            )
            .route(
                "/bare",
                axum::routing::post(|_: HeaderMap, _: axum::body::Bytes| async { "" }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (
            format!("http://{addr}/receiver"),
            format!("http://{addr}/bare"),
            current,
        )
    });
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = feishu_helpdesk::http_client_builder().unwrap().build().unwrap();
    let run = |url: &str| {
        let (http, pushes, url) = (http.clone(), pushes.clone(), url.to_owned());
        client.block_on(async move {
            let next = Arc::new(AtomicUsize::new(0));
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..16 {
                let (http, pushes, url, next) = (http.clone(), pushes.clone(), url.clone(), next.clone());
                tasks.spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((headers, body)) = pushes.get(i) else {
                            break;
                        };
                        let answer = http
                            .post(&url)
                            .headers(headers.clone())
                            .body(body.clone())
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(answer.status().as_u16(), 200);
                        answer.bytes().await.unwrap();
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
            pushes.len() as f64 / started.elapsed().as_secs_f64()
        })
    };
    run(&bare_url);
    let (mut bare, mut received, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        *current.lock().unwrap() = receiver();
        let (b, r) = if round % 2 == 0 {
            let b = run(&bare_url);
            (b, run(&receiver_url))
        } else {
            let r = run(&receiver_url);
            (run(&bare_url), r)
        };
        bare.push(b);
        received.push(r);
        ratios.push(r / b);
    }
    println!(
        "receiver over HTTP (axum, loopback, keep-alive, 16 in flight, {rounds} rounds): {:.0} pushes/s against a bare \
         axum handler's {:.0} ({:.2}x)",
        median(&mut received),
        median(&mut bare),
        median(&mut ratios)
    );
}
