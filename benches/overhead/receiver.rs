//! What receiving costs: `Receiver::handle` in process (verify + decrypt + parse + dedupe of
//! the encrypted `ticket_message.created_v1` sample), warmed up; and the receiver mounted in
//! axum (`Receiver::into_service`, feature `axum`) over HTTP against a bare axum handler that
//! reads the body and gives the same answer, both served by a process of their own to a
//! `reqwest` client in this one.

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use feishu_helpdesk::events::{HelpdeskEvent, Receiver};
use feishu_helpdesk::testing::{EventPusher, Fault, PushEvent};
use http::HeaderMap;

use crate::alloc::allocation_counters;
use crate::stats::{median, thread_cpu_ns};

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
    /// Allocations per push in the timed rounds (`handle` and the handler's, this thread's).
    pub(crate) allocations: f64,
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
        let allocations = Cell::new(0);
        let round = || async {
            let receiver = receiver();
            let mut elapsed = Duration::ZERO;
            for batch in pushes.chunks(BATCH) {
                // Copied untimed: hot in cache, as the bytes a server has just read.
                let batch = batch.to_vec();
                let (started, (allocated, _)) = (Instant::now(), allocation_counters());
                for (headers, body) in &batch {
                    let answer = receiver.handle(headers, body, handler).await;
                    assert_eq!(answer.status(), 200);
                }
                elapsed += started.elapsed();
                allocations.set(allocations.get() + allocation_counters().0 - allocated);
            }
            pushes.len() as f64 / elapsed.as_secs_f64()
        };
        let cold = round().await;
        for _ in 0..warm_up.div_ceil(ROUND) {
            round().await;
        }
        allocations.set(0);
        let mut rates = Vec::new();
        for _ in 0..rounds {
            rates.push(round().await);
        }
        let allocations = allocations.get() as f64 / (rounds * ROUND) as f64;
        Rates {
            cold,
            rates,
            allocations,
        }
    })
}

/// `in_process_rates` as one line of JSON, `{"cold": …, "rates": […]}`, the form the Node and
/// Python scripts of `benches/receiving/compare` print too.
pub(crate) fn print_in_process_rates(warm_up: usize, rounds: usize) {
    let Rates { cold, rates, .. } = in_process_rates(warm_up, rounds);
    println!("{}", serde_json::json!({ "cold": cold, "rates": rates }));
}

/// `in_process_rates`, told.
pub(crate) fn in_process(warm_up: usize, rounds: usize) {
    let Rates {
        cold,
        mut rates,
        allocations,
    } = in_process_rates(warm_up, rounds);
    println!(
        "\nreceiver, in process (one thread): {:.0} events/s warm (median of {rounds} rounds of 20,000 signed, \
         encrypted ticket_message.created_v1 pushes, in cache as just read: signature, decryption, token, \
         parse, dedupe; after a warm-up of {warm_up}); first round {cold:.0} events/s; {allocations:.1} \
         allocations per push",
        median(&mut rates)
    );
}

/// The events of one run over HTTP.
const HTTP_RUN: usize = 20_000;
/// Requests in flight over HTTP.
const IN_FLIGHT: usize = 16;

/// `--receiver-serve`: the server of `over_http`, in a process of its own on the multi-thread
/// runtime (as `#[tokio::main]` makes it): `POST /receiver` is the receiver as the README
/// mounts it (`Receiver::into_service`), `POST /bare` an axum handler that reads the body and
/// gives the receiver's answer to a handled event (200, no body), so that the two differ only
/// by what the receiver does. Prints its address, and exits when its standard input closes.
#[cfg(feature = "axum")]
pub(crate) fn serve() {
    use std::io::Write as _;

    async fn bare(headers: HeaderMap, body: axum::body::Bytes) -> axum::response::Response {
        std::hint::black_box((headers, body));
        axum::response::Response::new(axum::body::Body::from(String::new()))
    }
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // One receiver for the process, as a server has: each run pushes new events.
        let app = axum::Router::new()
            .route("/receiver", receiver().into_service(handler))
            .route("/bare", axum::routing::post(bare));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", listener.local_addr().unwrap()).unwrap();
        stdout.flush().unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

/// The on-CPU time of every thread of process `pid` so far, in nanoseconds (0 where there is
/// no `/proc`).
fn process_on_cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// What one run over HTTP measured.
#[derive(Clone, Copy)]
struct Run {
    /// Pushes per second.
    rate: f64,
    /// The server's CPU per push (every thread's), in microseconds.
    server_us: f64,
    /// The client's CPU per push (this thread's, which runs it), in microseconds.
    client_us: f64,
}

/// The server process of `over_http` (`--receiver-serve`) and the client that loads it.
struct HttpBench {
    server: Child,
    base: String,
    client: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl HttpBench {
    /// Starts the server and checks that both routes answer a push alike: the same status,
    /// headers (but the date) and body.
    fn start() -> HttpBench {
        let mut server = Command::new(std::env::current_exe().unwrap())
            .arg("--receiver-serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut address = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let bench = HttpBench {
            server,
            base: format!("http://{}", address.trim()),
            client: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: feishu_helpdesk::http_client_builder().unwrap().build().unwrap(),
        };
        let answers: Vec<_> = ["/receiver", "/bare"]
            .iter()
            .map(|path| {
                let (headers, body) = pushes(1).remove(0);
                bench.client.block_on(async {
                    let answer = bench
                        .http
                        .post(format!("{}{path}", bench.base))
                        .headers(headers)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let mut headers = answer.headers().clone();
                    headers.remove(http::header::DATE);
                    (answer.status(), headers, answer.bytes().await.unwrap())
                })
            })
            .collect();
        assert_eq!(
            answers[0], answers[1],
            "the receiver and the bare handler answer alike"
        );
        assert_eq!(answers[0].0, 200);
        bench
    }

    /// One run against `path`: 20,000 pushes made for it (new events), 16 in flight. Returns
    /// pushes/s, and the server's and the client's CPU per push in microseconds.
    fn run(&self, path: &str) -> Run {
        let pushes = Arc::new(pushes(HTTP_RUN));
        let (http, url) = (self.http.clone(), format!("{}{path}", self.base));
        let (server_cpu, client_cpu) = (process_on_cpu_ns(self.server.id()), thread_cpu_ns());
        let rate = self.client.block_on(async move {
            let next = Arc::new(AtomicUsize::new(0));
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..IN_FLIGHT {
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
            HTTP_RUN as f64 / started.elapsed().as_secs_f64()
        });
        let per_push = |ns: u64| ns as f64 / 1e3 / HTTP_RUN as f64;
        Run {
            rate,
            server_us: per_push(process_on_cpu_ns(self.server.id()) - server_cpu),
            client_us: per_push(thread_cpu_ns() - client_cpu),
        }
    }
}

impl Drop for HttpBench {
    fn drop(&mut self) {
        // The server exits when its standard input closes.
        drop(self.server.stdin.take());
        let _ = self.server.wait();
    }
}

/// The `axum` feature, without which there is no server to measure.
fn has_axum() -> bool {
    if !cfg!(feature = "axum") {
        println!(
            "receiver over HTTP: needs the `axum` feature (`Receiver::into_service`): \
             cargo bench --bench overhead --features axum -- --receiver"
        );
    }
    cfg!(feature = "axum")
}

/// The receiver in axum over HTTP against the bare axum handler, served by another process
/// (`--receiver-serve`) to a `reqwest` client in this one (keep-alive, 16 in flight, the same
/// client for both). Each run sends 20,000 pushes made for it (new events); each round runs
/// the bare handler, the receiver and the bare handler again in an order that rotates. The
/// ratios are medians over rounds of each figure over the first bare run's of the same round;
/// the bare handler over itself is the noise floor.
pub(crate) fn over_http(rounds: usize) {
    if !has_axum() {
        return;
    }
    let bench = HttpBench::start();
    let paths = ["/bare", "/receiver", "/bare"];
    for path in paths {
        bench.run(path);
    }
    let mut runs: [Vec<Run>; 3] = Default::default();
    for round in 0..rounds {
        for k in 0..paths.len() {
            let variant = (round + k) % paths.len();
            runs[variant].push(bench.run(paths[variant]));
        }
    }
    drop(bench);
    let of = |variant: usize, figure: fn(&Run) -> f64| {
        median(&mut runs[variant].iter().map(figure).collect::<Vec<_>>())
    };
    // The median of the rounds' ratios of `variant` over the first bare run, and their range.
    let ratio = |variant: usize| {
        let mut ratios: Vec<f64> = runs[variant]
            .iter()
            .zip(&runs[0])
            .map(|(run, bare)| run.rate / bare.rate)
            .collect();
        let median = median(&mut ratios);
        format!(
            "{median:.2}x ({:.2}x–{:.2}x)",
            ratios[0],
            ratios[ratios.len() - 1]
        )
    };
    println!(
        "receiver over HTTP (axum in another process, loopback, keep-alive, {IN_FLIGHT} in flight, {rounds} \
         interleaved rounds of {HTTP_RUN} pushes): {:.0} pushes/s against a bare axum handler's {:.0}: {} \
         (median of the rounds' ratios, their range); the bare handler over itself: {:.0} pushes/s, {}; \
         CPU per push: the server {:.1} µs against {:.1} µs, the client {:.1} µs",
        of(1, |run| run.rate),
        of(0, |run| run.rate),
        ratio(1),
        of(2, |run| run.rate),
        ratio(2),
        of(1, |run| run.server_us),
        of(0, |run| run.server_us),
        of(0, |run| run.client_us),
    );
}

/// `--receiver-http-profile <bare|receiver> <runs>`: only the runs of one route, for a
/// profiler of the server's threads (`perf record -g` on this process and its child; the
/// server's are the `tokio-runtime-w` threads).
pub(crate) fn over_http_profile(route: &str, runs: usize) {
    if !has_axum() {
        return;
    }
    let bench = HttpBench::start();
    let runs: Vec<Run> = (0..runs).map(|_| bench.run(&format!("/{route}"))).collect();
    let of = |figure: fn(&Run) -> f64| median(&mut runs.iter().map(figure).collect::<Vec<_>>());
    println!(
        "{route} over HTTP: {:.0} pushes/s; CPU per push: the server {:.1} µs, the client {:.1} µs (medians of {} runs)",
        of(|run| run.rate),
        of(|run| run.server_us),
        of(|run| run.client_us),
        runs.len()
    );
}
