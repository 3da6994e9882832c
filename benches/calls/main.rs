//! What a call costs through the client against the same call written by hand, measured as
//! users run them: `#[tokio::main]`'s multi-thread runtime, against a server in another
//! process (nginx with fixed answers, started here), so that this process's time and CPU are
//! the client's alone.
//!
//! ```sh
//! cargo bench --bench calls                 # 20 rounds, tables, and target/bench-calls.tsv
//! cargo bench --bench calls -- --rounds 30 --out calls.tsv
//! BENCH_ALLOCATOR=mimalloc cargo bench --bench calls -- --out target/bench-calls-mimalloc.tsv
//! cargo bench --bench calls -- --allocs      # allocations per call, by size
//! python3 benches/calls/plot.py target/bench-calls.tsv > docs/calls.svg
//! ```
//!
//! Two calling patterns, at 1, 16 and 64 calls in flight: a task spawned per caller (as a
//! server's handlers call), and many calls from one task (`buffer_unordered`, as a batch job or
//! a command-line tool does, in `block_on`'s future as under `#[tokio::main]`). Two operations:
//! `unsubscribe` (a POST with a JSON body) and `get_ticket` (a GET with a path parameter), each
//! through the client with a fixed token and with app credentials, against the hand-written
//! `reqwest` call with the client's settings, which checks the answer's `code` as a user must.
//! A second instance of the hand-written call gives the noise floor. Each line (operation,
//! pattern, calls in flight) runs its rounds back to back after one unrecorded round; a round
//! is 2,000 calls of each variant, in an order that rotates from round to round; each ratio is
//! the median over rounds of the variant's figure over the reference's in the same round. CPU
//! per call is this process's (every thread's). The build is cargo's release profile, which
//! users' release builds have. This is the shape of `../shared/bench/interleave` (the
//! project's measuring stick), and the hand-written call is its reference's: the header map
//! and the body built once and cloned per call, no `User-Agent`.
//!
//! The process allocates with glibc's malloc (the system allocator, a library's users' default)
//! or, with `BENCH_ALLOCATOR=mimalloc`, with mimalloc, reference and client alike.
//!
//! For a profiler, `--profile <variant> <spawned|one-task> <in flight> <calls>` makes only the
//! calls of one variant (`baseline-timeout`, `client`, `app`, `baseline-get`, `get`, `get-app`).

mod nginx;
#[allow(dead_code)]
#[path = "../overhead/stats.rs"]
mod stats;
#[allow(dead_code)]
#[path = "../overhead/variants.rs"]
mod variants;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use std::future::Future;

use feishu_helpdesk::prelude::*;
use feishu_helpdesk::{Client, EventType};
use futures_util::StreamExt as _;
use stats::process_cpu_ns;
use variants::{app_client, fixed_token_client, Baseline, TICKET_ID};

/// Counts allocations while `--allocs` measures them, and passes every call on to glibc's
/// malloc (the system allocator, what a program gets by default) or, with
/// `BENCH_ALLOCATOR=mimalloc` in the environment, to mimalloc.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Allocations larger than glibc's per-thread cache takes (1,032 bytes): each takes a lock on
/// an arena, and contends when another thread frees into it.
static LARGE_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Allocations by size, exactly up to 4,096 bytes (the last slot: any larger).
static SIZES: [AtomicUsize; 4098] = [const { AtomicUsize::new(0) }; 4098];

/// The allocator of this run: 0 until the first allocation decides, then 1 (the system's)
/// or 2 (mimalloc). Decided once, before anything is allocated, so that every block is freed
/// by the allocator that gave it.
static ALLOCATOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

fn mimalloc_chosen() -> bool {
    match ALLOCATOR.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // `getenv` allocates nothing (std's `env::var` would, from inside the allocator).
            // SAFETY: a NUL-terminated name; the value is read before anything sets the
            // environment.
            let value = unsafe { libc::getenv(c"BENCH_ALLOCATOR".as_ptr()) };
            let chosen = !value.is_null()
                // SAFETY: `getenv` gives a NUL-terminated string.
                && unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() == b"mimalloc";
            ALLOCATOR.store(if chosen { 2 } else { 1 }, Ordering::Relaxed);
            chosen
        }
    }
}

// SAFETY: every call is passed on unchanged to one allocator, the same for the whole run.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        if mimalloc_chosen() {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mimalloc_chosen() {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        if mimalloc_chosen() {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        } else {
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

fn count(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(size, Ordering::Relaxed);
        if size > 1032 {
            LARGE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        SIZES[size.min(4097)].fetch_add(1, Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The operations and their variants, by the names `variant_named` takes: the reference, the
/// reference again (the noise floor), the client with a fixed token, with app credentials.
const OPERATIONS: [(&str, [&str; 4]); 2] = [
    (
        "unsubscribe",
        ["baseline-timeout", "baseline-timeout", "client", "app"],
    ),
    ("get_ticket", ["baseline-get", "baseline-get", "get", "get-app"]),
];
const LABELS: [&str; 4] = [
    "hand-written (reference)",
    "hand-written vs itself (noise floor)",
    "Client, fixed token",
    "Client, app credentials",
];

/// Calls in flight, and calls per measurement.
const LEVELS: [(usize, usize); 3] = [(1, 2000), (16, 2000), (64, 2000)];

#[derive(Clone, Copy, PartialEq)]
enum Pattern {
    /// A task per caller, spawned on the runtime.
    Spawned,
    /// Every call from one task: `stream::iter(..).buffer_unordered(in_flight)`.
    OneTask,
}

const PATTERNS: [(Pattern, &str); 2] = [
    (Pattern::Spawned, "spawned tasks"),
    (Pattern::OneTask, "one task"),
];

/// One call of one variant. Each variant's future is its own type, as in a user's program
/// (an enum's `async fn` would give every variant the size of the largest).
trait Call: Send + Sync + 'static {
    fn call(&self) -> impl Future<Output = ()> + Send + '_;
}

/// `unsubscribe` by hand.
struct PostByHand(Baseline);
/// `get_ticket` by hand.
struct GetByHand(Baseline);
/// `unsubscribe` through the client.
struct Unsubscribe(Client);
/// `get_ticket` through the client.
struct GetTicket(Client);

impl Call for PostByHand {
    fn call(&self) -> impl Future<Output = ()> + Send + '_ {
        self.0.call()
    }
}

impl Call for GetByHand {
    fn call(&self) -> impl Future<Output = ()> + Send + '_ {
        self.0.get()
    }
}

impl Call for Unsubscribe {
    async fn call(&self) {
        self.0
            .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
            .await
            .unwrap();
    }
}

impl Call for GetTicket {
    async fn call(&self) {
        self.0
            .api()
            .get_ticket()
            .ticket_id(TICKET_ID)
            .send()
            .await
            .unwrap();
    }
}

/// The variants, by name: `baseline-timeout`, `client`, `app`, `baseline-get`, `get`, `get-app`.
enum Variant {
    PostByHand(Arc<PostByHand>),
    GetByHand(Arc<GetByHand>),
    Unsubscribe(Arc<Unsubscribe>),
    GetTicket(Arc<GetTicket>),
}

fn variant_named(name: &str, base_url: &str) -> Variant {
    match name {
        "baseline-timeout" => Variant::PostByHand(Arc::new(PostByHand(Baseline::with_timeout(base_url)))),
        "baseline-get" => Variant::GetByHand(Arc::new(GetByHand(Baseline::with_timeout(base_url)))),
        "client" => Variant::Unsubscribe(Arc::new(Unsubscribe(fixed_token_client(base_url)))),
        "app" => Variant::Unsubscribe(Arc::new(Unsubscribe(app_client(base_url)))),
        "get" => Variant::GetTicket(Arc::new(GetTicket(fixed_token_client(base_url)))),
        "get-app" => Variant::GetTicket(Arc::new(GetTicket(app_client(base_url)))),
        other => panic!("no variant named {other}"),
    }
}

/// Calls per second and this process's CPU time per call (µs) for `calls` calls of `variant`,
/// `in_flight` at a time, in `pattern`.
async fn measure(variant: &Variant, pattern: Pattern, in_flight: usize, calls: usize) -> (f64, f64) {
    match variant {
        Variant::PostByHand(call) => measure_calls(call, pattern, in_flight, calls).await,
        Variant::GetByHand(call) => measure_calls(call, pattern, in_flight, calls).await,
        Variant::Unsubscribe(call) => measure_calls(call, pattern, in_flight, calls).await,
        Variant::GetTicket(call) => measure_calls(call, pattern, in_flight, calls).await,
    }
}

async fn measure_calls<C: Call>(
    call: &Arc<C>,
    pattern: Pattern,
    in_flight: usize,
    calls: usize,
) -> (f64, f64) {
    let (started, cpu) = (Instant::now(), process_cpu_ns());
    match pattern {
        Pattern::Spawned => {
            let next = Arc::new(AtomicUsize::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..in_flight {
                let (call, next) = (Arc::clone(call), Arc::clone(&next));
                tasks.spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < calls {
                        call.call().await;
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        }
        Pattern::OneTask => {
            futures_util::stream::iter(0..calls)
                .map(|_| call.call())
                .buffer_unordered(in_flight)
                .for_each(|()| std::future::ready(()))
                .await;
        }
    }
    let cpu_us = (process_cpu_ns() - cpu) as f64 / 1e3 / calls as f64;
    (calls as f64 / started.elapsed().as_secs_f64(), cpu_us)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let Some(server) = nginx::start() else {
        std::process::exit(1);
    };
    // What `#[tokio::main]` builds: a worker per core; the calls' driver is `block_on`'s future.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let variant = variant_named(&args[i + 1], &server.base_url);
        let pattern = if args[i + 2] == "one-task" {
            Pattern::OneTask
        } else {
            Pattern::Spawned
        };
        let (in_flight, calls) = (args[i + 3].parse().unwrap(), args[i + 4].parse().unwrap());
        let before = user_and_system_us();
        let (rate, cpu) = runtime.block_on(measure(&variant, pattern, in_flight, calls));
        let after = user_and_system_us();
        println!(
            "{rate:.0} calls/s, {cpu:.1} µs CPU per call ({:.1} user, {:.1} system)",
            (after.0 - before.0) / calls as f64,
            (after.1 - before.1) / calls as f64
        );
        return;
    }
    if args.iter().any(|a| a == "--allocs") {
        // Allocations per call (every thread's), after a warm-up, in both patterns at 64 in flight.
        runtime.block_on(async {
            for (operation, names) in OPERATIONS {
                for name in [names[0], names[2], names[3]] {
                    let variant = variant_named(name, &server.base_url);
                    for (pattern, label) in PATTERNS {
                        measure(&variant, pattern, 64, 2000).await;
                        for counter in [&ALLOCATIONS, &ALLOCATED_BYTES, &LARGE_ALLOCATIONS]
                            .into_iter()
                            .chain(&SIZES)
                        {
                            counter.store(0, Ordering::Relaxed);
                        }
                        COUNTING.store(true, Ordering::Relaxed);
                        measure(&variant, pattern, 64, 10_000).await;
                        COUNTING.store(false, Ordering::Relaxed);
                        let per_call = |counter: &AtomicUsize| counter.load(Ordering::Relaxed) as f64 / 10_000.0;
                        println!(
                            "{operation}, {name}, {label}: {:.1} allocations per call, {:.0} bytes, {:.2} over 1,032 bytes",
                            per_call(&ALLOCATIONS),
                            per_call(&ALLOCATED_BYTES),
                            per_call(&LARGE_ALLOCATIONS)
                        );
                        // The sizes a call allocates (bytes x allocations per call), the rare
                        // ones (a pool's connection, a timer wheel's slot) left out.
                        let sizes: Vec<String> = SIZES
                            .iter()
                            .enumerate()
                            .map(|(size, count)| (size, per_call(count)))
                            .filter(|&(_, count)| count >= 0.05)
                            .map(|(size, count)| {
                                let size = if size > 4096 { ">4096".to_owned() } else { size.to_string() };
                                if (count - 1.0).abs() < 0.05 { size } else { format!("{size}x{count:.1}") }
                            })
                            .collect();
                        println!("    sizes: {}", sizes.join(" "));
                    }
                }
            }
        });
        return;
    }
    if args.iter().any(|a| a == "--sizes") {
        // The size of one call's future, which a task or `buffer_unordered` stores and moves.
        for (operation, names) in OPERATIONS {
            for name in [names[0], names[2]] {
                let bytes = match variant_named(name, &server.base_url) {
                    Variant::PostByHand(call) => std::mem::size_of_val(&call.call()),
                    Variant::GetByHand(call) => std::mem::size_of_val(&call.call()),
                    Variant::Unsubscribe(call) => std::mem::size_of_val(&call.call()),
                    Variant::GetTicket(call) => std::mem::size_of_val(&call.call()),
                };
                println!("{operation}, {name}: {bytes} bytes");
            }
        }
        return;
    }
    let rounds: usize = value("--rounds").map_or(20, |n| n.parse().unwrap());
    let out = value("--out").map_or("target/bench-calls.tsv", String::as_str);

    // figures[operation][pattern][level][variant]: (rate, cpu) per round.
    let mut figures = vec![vec![vec![vec![Vec::new(); 4]; LEVELS.len()]; PATTERNS.len()]; OPERATIONS.len()];
    runtime.block_on(async {
        let variants: Vec<Vec<Variant>> = OPERATIONS
            .iter()
            .map(|(_, names)| {
                names
                    .iter()
                    .map(|name| variant_named(name, &server.base_url))
                    .collect()
            })
            .collect();
        // Warmed at the most calls in flight, so that every variant's pool holds its
        // connections before the first round (a pool that grows mid-round pays connects).
        for variant in variants.iter().flatten() {
            for (pattern, _) in PATTERNS {
                measure(variant, pattern, 64, 4000).await;
            }
        }
        // Each line's rounds run back to back, as the interleave harness runs them: its
        // variants' figures are taken minutes apart at most, not across the whole run, and
        // each line starts with one round unrecorded (the pool and the allocator settle).
        let lines = OPERATIONS.len() * PATTERNS.len() * LEVELS.len();
        let mut line = 0;
        for (o, operation) in variants.iter().enumerate() {
            for (p, &(pattern, _)) in PATTERNS.iter().enumerate() {
                for (l, &(in_flight, calls)) in LEVELS.iter().enumerate() {
                    line += 1;
                    for variant in operation {
                        measure(variant, pattern, in_flight, calls).await;
                    }
                    for round in 0..rounds {
                        for k in 0..operation.len() {
                            let v = (k + round) % operation.len();
                            let figure = measure(&operation[v], pattern, in_flight, calls).await;
                            figures[o][p][l][v].push(figure);
                        }
                    }
                    eprint!("\rline {line}/{lines}");
                }
            }
        }
        eprintln!();
    });

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut tsv =
        String::from("operation\tpattern\tvariant\tin_flight\tcalls_per_s\tratio\tcpu_us\tcpu_ratio\n");
    let allocator = if mimalloc_chosen() {
        "mimalloc"
    } else {
        "the system's (glibc malloc)"
    };
    println!(
        "calls against nginx in another process ({cores} cores, multi-thread runtime, allocator: \
         {allocator}; {rounds} rounds of 2,000 calls; medians, and median ratios to the reference \
         in the same round)"
    );
    for (o, (operation, _)) in OPERATIONS.iter().enumerate() {
        for (p, (_, pattern)) in PATTERNS.iter().enumerate() {
            println!("\n`{operation}`, {pattern}: calls/s (ratio), CPU µs per call (ratio)\n");
            println!("| variant | 1 in flight | 16 in flight | 64 in flight |");
            println!("| --- | ---: | ---: | ---: |");
            for (v, label) in LABELS.iter().enumerate() {
                let mut cells = Vec::new();
                for (l, &(in_flight, _)) in LEVELS.iter().enumerate() {
                    let own = &figures[o][p][l][v];
                    let reference = &figures[o][p][l][0];
                    let median = |mut values: Vec<f64>| stats::median(&mut values);
                    let rate = median(own.iter().map(|f| f.0).collect());
                    let cpu = median(own.iter().map(|f| f.1).collect());
                    let rate_ratio = median(own.iter().zip(reference).map(|(f, r)| f.0 / r.0).collect());
                    let cpu_ratio = median(own.iter().zip(reference).map(|(f, r)| f.1 / r.1).collect());
                    cells.push(format!(
                        "{rate:.0} ({rate_ratio:.2}x), {cpu:.1} µs ({cpu_ratio:.2}x)"
                    ));
                    let _ = writeln!(
                        tsv,
                        "{operation}\t{pattern}\t{label}\t{in_flight}\t{rate:.0}\t{rate_ratio:.4}\t{cpu:.2}\t{cpu_ratio:.4}"
                    );
                }
                println!("| {label} | {} |", cells.join(" | "));
            }
        }
    }
    match std::fs::write(out, tsv) {
        Ok(()) => println!("\nfigures written to {out}"),
        Err(err) => eprintln!("could not write {out}: {err}"),
    }
}

/// This process's user and system CPU time so far, in microseconds (0 where unknown).
fn user_and_system_us() -> (f64, f64) {
    #[cfg(unix)]
    {
        // SAFETY: `usage` is a valid, writable rusage for the call's duration.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
            return (us(usage.ru_utime), us(usage.ru_stime));
        }
    }
    (0.0, 0.0)
}
