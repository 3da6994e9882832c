//! What the client costs on top of a hand-written `reqwest` call that sends the same bytes.
//!
//! ```sh
//! cargo bench --bench overhead
//! ```
//!
//! A local HTTP/1.1 server (hyper, on its own thread) answers the success envelope and the
//! token endpoint. The client side runs on one current-thread runtime on the main thread,
//! so that a thread-local counting allocator sees exactly the client's allocations, and so
//! that the thread's CPU time is the client's. The bench first checks that every variant
//! sends the same headers and body. Variants are measured in interleaved rounds whose order
//! rotates; the table gives medians, and ratios paired by round.
//!
//! For a profiler, `--profile <baseline|baseline-timeout|client|app> <calls> [in flight]`
//! makes only the calls of one variant.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use feishu_helpdesk::{Client, Event};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

// ---- allocation counting (this thread only) ----

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static ALLOCATED_BYTES: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        let _ = ALLOCATED_BYTES.try_with(|c| c.set(c.get() + layout.size() as u64));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        let _ = ALLOCATED_BYTES.try_with(|c| c.set(c.get() + new_size as u64));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocation_counters() -> (u64, u64) {
    (ALLOCATIONS.with(Cell::get), ALLOCATED_BYTES.with(Cell::get))
}

// ---- the server ----

const SUCCESS: &str = r#"{"code":0,"msg":"success","data":{}}"#;
const TOKEN: &str =
    r#"{"code":0,"msg":"ok","tenant_access_token":"t-7f1bcd13fc57d46bac21793a18e560","expire":7200}"#;

/// The headers (without `host`) and body of the last helpdesk request the server saw, so
/// that the bench can check that every variant sends the same bytes.
type LastRequest = Arc<std::sync::Mutex<Option<(Vec<(String, String)>, String)>>>;

/// The server: its base URL, a count of token requests, and the last helpdesk request.
struct Server {
    base_url: String,
    token_requests: Arc<AtomicUsize>,
    last_request: LastRequest,
}

/// Starts the server on its own thread.
fn start_server() -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let token_requests = Arc::new(AtomicUsize::new(0));
    let last_request = LastRequest::default();
    let counter = Arc::clone(&token_requests);
    let last = Arc::clone(&last_request);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let _ = stream.set_nodelay(true);
                let (counter, last) = (Arc::clone(&counter), Arc::clone(&last));
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (counter, last) = (Arc::clone(&counter), Arc::clone(&last));
                        async move {
                            let is_token = request.uri().path().ends_with("/tenant_access_token/internal");
                            let (parts, body) = request.into_parts();
                            let received = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let body = if is_token {
                                counter.fetch_add(1, Ordering::Relaxed);
                                TOKEN
                            } else {
                                let mut headers: Vec<(String, String)> = parts
                                    .headers
                                    .iter()
                                    .filter(|(name, _)| *name != "host")
                                    .map(|(name, value)| {
                                        (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into())
                                    })
                                    .collect();
                                headers.sort();
                                *last.lock().unwrap() =
                                    Some((headers, String::from_utf8_lossy(&received).into()));
                                SUCCESS
                            };
                            let response = hyper::Response::builder()
                                .header("content-type", "application/json; charset=utf-8")
                                .header("x-tt-logid", "20231125120000A1B2C3D4E5F6071829")
                                .body(Full::new(Bytes::from_static(body.as_bytes())))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Server {
        base_url: format!("http://{address}"),
        token_requests,
        last_request,
    }
}

/// Runs `future` on a current-thread runtime of this thread (whose allocations the counting
/// allocator sees), with a `LocalSet` for the `spawn_local` of the throughput runs.
fn block_on_local<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

// ---- the variants ----

/// The fields in the order the generated type writes them.
#[derive(serde::Serialize)]
struct BaselineEvent<'a> {
    subtype: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
}

#[derive(serde::Serialize)]
struct BaselineBody<'a> {
    events: &'a [BaselineEvent<'a>],
}

#[derive(serde::Deserialize)]
struct Envelope {
    code: i64,
}

/// The `User-Agent` the client sends.
const USER_AGENT: &str = concat!("feishu-helpdesk/", env!("CARGO_PKG_VERSION"));

/// The hand-written call: one reused client, header values built once.
struct Baseline {
    client: reqwest::Client,
    url: String,
    bearer: HeaderValue,
    helpdesk: HeaderValue,
}

impl Baseline {
    fn new(base_url: &str) -> Self {
        Self::with_client(base_url, reqwest::Client::builder())
    }

    /// The same call with the 10 s timeout the client applies to every call.
    fn with_timeout(base_url: &str) -> Self {
        Self::with_client(
            base_url,
            reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)),
        )
    }

    fn with_client(base_url: &str, client: reqwest::ClientBuilder) -> Self {
        let mut bearer = HeaderValue::from_static("Bearer t-7f1bcd13fc57d46bac21793a18e560");
        bearer.set_sensitive(true);
        let mut helpdesk = HeaderValue::from_static("NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl");
        helpdesk.set_sensitive(true);
        Self {
            client: client.user_agent(USER_AGENT).build().unwrap(),
            url: format!("{base_url}/open-apis/helpdesk/v1/events/unsubscribe"),
            bearer,
            helpdesk,
        }
    }

    async fn call(&self) {
        let body = BaselineBody {
            events: &[BaselineEvent {
                event_type: "helpdesk.ticket_message",
                subtype: "ticket_message.created_v1",
            }],
        };
        let response = self
            .client
            .post(&self.url)
            .header(AUTHORIZATION, self.bearer.clone())
            .header("x-lark-helpdesk-authorization", self.helpdesk.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(serde_json::to_vec(&body).unwrap())
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(envelope.code, 0);
    }
}

enum Variant {
    Baseline(Baseline),
    Client(Client),
}

impl Variant {
    async fn call(&self) {
        match self {
            Variant::Baseline(baseline) => baseline.call().await,
            Variant::Client(client) => {
                client
                    .unsubscribe(&[Event::TICKET_MESSAGE_CREATED])
                    .await
                    .unwrap();
            }
        }
    }
}

/// The variant a command line names: `baseline`, `baseline-timeout`, `app`, or (any other
/// name) the client with a fixed token.
fn variant_named(name: &str, base_url: &str) -> Variant {
    match name {
        "baseline" => Variant::Baseline(Baseline::new(base_url)),
        "baseline-timeout" => Variant::Baseline(Baseline::with_timeout(base_url)),
        "app" => Variant::Client(app_client(base_url)),
        _ => Variant::Client(fixed_token_client(base_url)),
    }
}

fn fixed_token_client(base_url: &str) -> Client {
    Client::builder()
        .tenant_access_token("t-7f1bcd13fc57d46bac21793a18e560")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(base_url)
        .build()
        .unwrap()
}

fn app_client(base_url: &str) -> Client {
    Client::builder()
        .app_credentials("cli_a1b2c3d4e5f6a7b8", "dskLLdkasdjlasdKK")
        .helpdesk_credentials("7180000000000000001", "ht-example")
        .base_url(base_url)
        .build()
        .unwrap()
}

// ---- measurements ----

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

/// The CPU time this thread has used, in nanoseconds (0 where the kernel does not say).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Calls per second with `in_flight` calls at a time, and the client thread's CPU time per
/// call in microseconds.
async fn throughput(variant: &Arc<Variant>, in_flight: usize, calls: usize) -> (f64, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let (started, cpu) = (Instant::now(), thread_cpu_ns());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (variant, next) = (Arc::clone(variant), Arc::clone(&next));
        tasks.spawn_local(async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                variant.call().await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let cpu_us = (thread_cpu_ns() - cpu) as f64 / 1e3 / calls as f64;
    (calls as f64 / started.elapsed().as_secs_f64(), cpu_us)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// In a child process: 100,000 calls of one variant, then the peak resident memory.
fn rss_child(which: &str) {
    let base_url = start_server().base_url;
    block_on_local(async {
        throughput(&Arc::new(variant_named(which, &base_url)), 16, 100_000).await;
    });
    println!("{}", peak_rss_kib());
}

fn rss_of(which: &str) -> u64 {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--rss", which])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss") {
        rss_child(&args[i + 1]);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        // `--profile <baseline|baseline-timeout|client|app> <calls> [in flight]`: only
        // calls, for a profiler.
        let base_url = start_server().base_url;
        let calls: usize = args[i + 2].parse().unwrap();
        let in_flight: usize = args.get(i + 3).map_or(1, |n| n.parse().unwrap());
        block_on_local(async {
            throughput(
                &Arc::new(variant_named(&args[i + 1], &base_url)),
                in_flight,
                calls,
            )
            .await;
        });
        return;
    }

    let server = start_server();
    let (base_url, token_requests) = (server.base_url.as_str(), &server.token_requests);
    block_on_local(async {
        let variants: Vec<(&str, Arc<Variant>)> = vec![
            (
                "hand-written reqwest",
                Arc::new(Variant::Baseline(Baseline::new(base_url))),
            ),
            (
                "hand-written, 10 s timeout",
                Arc::new(Variant::Baseline(Baseline::with_timeout(base_url))),
            ),
            (
                "Client, fixed token",
                Arc::new(Variant::Client(fixed_token_client(base_url))),
            ),
            (
                "Client, app credentials",
                Arc::new(Variant::Client(app_client(base_url))),
            ),
        ];
        // Every variant sends the same bytes (header order aside).
        let mut sent = Vec::new();
        for (name, variant) in &variants {
            variant.call().await;
            sent.push((name, server.last_request.lock().unwrap().take()));
        }
        for (name, request) in &sent[1..] {
            assert_eq!(request, &sent[0].1, "{name} sends other bytes than the baseline");
        }
        for (_, variant) in &variants {
            for _ in 0..500 {
                variant.call().await;
            }
        }
        assert_eq!(
            token_requests.load(Ordering::Relaxed),
            1,
            "the app token is cached"
        );

        // Sequential latency, in rounds whose order rotates.
        let mut latencies: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        for round in 0..12 {
            for k in 0..variants.len() {
                let i = (k + round) % variants.len();
                let variant = &variants[i].1;
                for _ in 0..500 {
                    let started = Instant::now();
                    variant.call().await;
                    latencies[i].push(started.elapsed().as_secs_f64() * 1e6);
                }
            }
        }

        // Allocations per call.
        let mut allocations = Vec::new();
        for (_, variant) in &variants {
            let (count, bytes) = allocation_counters();
            for _ in 0..1000 {
                variant.call().await;
            }
            let (count_after, bytes_after) = allocation_counters();
            allocations.push((
                (count_after - count) as f64 / 1000.0,
                (bytes_after - bytes) as f64 / 1000.0,
            ));
        }

        // Throughput at 1, 16 and 64 in flight, in rounds; within a round each variant runs
        // once per level, in an order that rotates, and is compared with the baseline's run
        // of the same round (the machine's speed drifts between rounds).
        let levels = [(1usize, 1000usize), (16, 2000), (64, 2000)];
        let rounds = 48;
        let mut rates: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); levels.len()]; variants.len()];
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        for round in 0..rounds {
            for (l, &(in_flight, calls)) in levels.iter().enumerate() {
                for k in 0..variants.len() {
                    let i = (k + round) % variants.len();
                    let (rate, cpu_us) = throughput(&variants[i].1, in_flight, calls).await;
                    rates[i][l].push(rate);
                    if in_flight == 64 {
                        cpu[i].push(cpu_us);
                    }
                }
            }
        }
        // Per round, each variant's figure over the baseline's.
        let paired = |series: &[f64], base: &[f64]| -> f64 {
            let mut ratios: Vec<f64> = series.iter().zip(base).map(|(v, b)| v / b).collect();
            median(&mut ratios)
        };

        // Cold start: from building to the first completed call with app credentials.
        let mut cold_baseline = Vec::new();
        let mut cold_client = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let client = reqwest::Client::builder().user_agent(USER_AGENT).build().unwrap();
            let token: serde_json::Value = client
                .post(format!(
                    "{base_url}/open-apis/auth/v3/tenant_access_token/internal"
                ))
                .json(
                    &serde_json::json!({"app_id": "cli_a1b2c3d4e5f6a7b8", "app_secret": "dskLLdkasdjlasdKK"}),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let baseline = Baseline {
                client,
                url: format!("{base_url}/open-apis/helpdesk/v1/events/unsubscribe"),
                bearer: HeaderValue::from_str(&format!(
                    "Bearer {}",
                    token["tenant_access_token"].as_str().unwrap()
                ))
                .unwrap(),
                helpdesk: HeaderValue::from_static("NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl"),
            };
            baseline.call().await;
            cold_baseline.push(started.elapsed().as_secs_f64() * 1e3);

            let started = Instant::now();
            app_client(base_url)
                .unsubscribe(&[Event::TICKET_MESSAGE_CREATED])
                .await
                .unwrap();
            cold_client.push(started.elapsed().as_secs_f64() * 1e3);
        }

        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!("\nfeishu-helpdesk overhead ({cores} cores; client on one thread, server on another)\n");
        println!(
            "| variant | median µs | p99 µs | 1 in flight /s | 16 in flight /s | 64 in flight /s | CPU µs/call | allocs/call | bytes/call |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        let base_latency = median(&mut latencies[0].clone());
        for (i, (name, _)) in variants.iter().enumerate() {
            let med = median(&mut latencies[i]);
            let p99 = percentile(&mut latencies[i], 0.99);
            let level = |l: usize| {
                let rate = median(&mut rates[i][l].clone());
                format!("{rate:.0} ({:.2}x)", paired(&rates[i][l], &rates[0][l]))
            };
            let cpu_us = median(&mut cpu[i].clone());
            let (allocs, bytes) = allocations[i];
            println!(
                "| {name} | {med:.1} ({:.2}x) | {p99:.1} | {} | {} | {} | {cpu_us:.1} ({:.2}x) | {allocs:.1} | {bytes:.0} |",
                med / base_latency,
                level(0),
                level(1),
                level(2),
                paired(&cpu[i], &cpu[0]),
            );
        }
        println!(
            "\nthroughput: median of {rounds} rounds; ratios: median over rounds of the variant's figure over the \
             baseline's in the same round. CPU: the client thread's CPU time per call at 64 in flight."
        );
        let (cold_b, cold_c) = (median(&mut cold_baseline), median(&mut cold_client));
        println!("\ncold start, build to first call with app credentials (token + call), median of 30:");
        println!(
            "  hand-written reqwest: {cold_b:.2} ms; Client: {cold_c:.2} ms ({:.2}x)",
            cold_c / cold_b
        );
    });

    let (rss_baseline, rss_client) = (rss_of("baseline"), rss_of("client"));
    println!("\npeak resident memory after 100,000 calls (16 in flight), each in its own process:");
    println!(
        "  hand-written reqwest: {rss_baseline} KiB; Client, fixed token: {rss_client} KiB ({:.2}x)",
        rss_client as f64 / rss_baseline.max(1) as f64
    );
}
