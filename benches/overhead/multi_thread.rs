//! Throughput on the runtime users run: `#[tokio::main]`'s multi-thread runtime, calls spawned
//! as tasks that move between worker threads.
//!
//! In one process, the variants run in interleaved rounds whose order rotates; each ratio is
//! the median over rounds of the variant's rate over the reference's in the same round, and
//! likewise for the process CPU time per call (every thread's).
//! A second, independent instance of the reference is measured too, so that its ratio shows
//! the noise floor. `--processes` runs each variant in a process of its own instead,
//! alternating.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::server::start_server;
use crate::stats::{median, process_cpu_ns};
use crate::variants::{variant_named, Variant};

/// The variants, by the names `variant_named` takes, and their labels. The first is the
/// reference; the second is the same reference again (the noise floor).
const VARIANTS: [(&str, &str); 4] = [
    ("baseline-timeout", "hand-written, same reqwest settings"),
    ("baseline-timeout", "hand-written vs itself (noise floor)"),
    ("client", "Client, fixed token"),
    ("app", "Client, app credentials"),
];

/// Calls in flight, and calls per measurement.
const LEVELS: [(usize, usize); 3] = [(1, 1000), (16, 2000), (64, 2000)];

/// Calls per second with `in_flight` tasks (spawned on the multi-thread runtime) making
/// `calls` calls between them.
pub(crate) async fn throughput(variant: &Arc<Variant>, in_flight: usize, calls: usize) -> (f64, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let (started, cpu) = (Instant::now(), process_cpu_ns());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (variant, next) = (Arc::clone(variant), Arc::clone(&next));
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                variant.call().await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let cpu_us = (process_cpu_ns() - cpu) as f64 / 1e3 / calls as f64;
    (calls as f64 / started.elapsed().as_secs_f64(), cpu_us)
}

fn runtime() -> tokio::runtime::Runtime {
    // What `#[tokio::main]` builds: a worker per core.
    tokio::runtime::Runtime::new().unwrap()
}

/// All variants in one process, `rounds` interleaved rounds.
pub(crate) fn in_one_process(rounds: usize) {
    let server = start_server();
    let runtime = runtime();
    let variants: Vec<Arc<Variant>> = VARIANTS
        .iter()
        .map(|(name, _)| Arc::new(variant_named(name, &server.base_url)))
        .collect();
    let mut rates = vec![vec![Vec::new(); LEVELS.len()]; variants.len()];
    let mut cpu = rates.clone();
    runtime.block_on(async {
        for variant in &variants {
            throughput(variant, 16, 2000).await;
        }
        for round in 0..rounds {
            for (l, &(in_flight, calls)) in LEVELS.iter().enumerate() {
                for k in 0..variants.len() {
                    let i = (k + round) % variants.len();
                    let (rate, cpu_us) = throughput(&variants[i], in_flight, calls).await;
                    rates[i][l].push(rate);
                    cpu[i][l].push(cpu_us);
                }
            }
        }
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\nmulti-thread runtime, one process ({cores} cores; {rounds} rounds; calls/s, median ratio to the \
         reference in the same round)\n"
    );
    print_table(&rates, &rates[0], "/s");
    println!("\nprocess CPU time per call (all threads, the server's included; µs, median ratio as above)\n");
    print_table(&cpu, &cpu[0], "µs");
}

/// Each variant in processes of its own, alternating: `pairs` processes per variant, each
/// measuring every level `rounds` times.
pub(crate) fn in_separate_processes(pairs: usize, rounds: usize) {
    let mut rates = vec![vec![Vec::new(); LEVELS.len()]; VARIANTS.len()];
    let mut cpu = vec![Vec::new(); VARIANTS.len()];
    for pair in 0..pairs {
        for k in 0..VARIANTS.len() {
            let i = (k + pair) % VARIANTS.len();
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--mt-child", VARIANTS[i].0, &rounds.to_string()])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout);
            let figures: Vec<f64> = text.split_whitespace().map(|n| n.parse().unwrap()).collect();
            for l in 0..LEVELS.len() {
                rates[i][l].push(figures[l]);
            }
            cpu[i].push(figures[LEVELS.len()]);
        }
    }
    println!(
        "\nmulti-thread runtime, a process per variant ({pairs} processes each, alternating; calls/s, \
         median ratio to the reference's process of the same turn)\n"
    );
    print_table(&rates, &rates[0], "/s");
    println!("\nprocess CPU time per call (all levels):");
    for (i, (_, label)) in VARIANTS.iter().enumerate() {
        let ratios: Vec<f64> = cpu[i].iter().zip(&cpu[0]).map(|(v, b)| v / b).collect();
        println!(
            "  {label}: {:.1} µs ({:.2}x)",
            median(&mut cpu[i].clone()),
            median(&mut ratios.clone())
        );
    }
}

/// In a child process: the median rate of `variant` at each level over `rounds`, then the
/// process CPU time per call in microseconds, on one line.
pub(crate) fn child(variant: &str, rounds: usize) {
    let server = start_server();
    let runtime = runtime();
    let variant = Arc::new(variant_named(variant, &server.base_url));
    let mut rates = vec![Vec::new(); LEVELS.len()];
    let mut calls_made = 0;
    let cpu = runtime.block_on(async {
        throughput(&variant, 16, 2000).await;
        let cpu = process_cpu_ns();
        for _ in 0..rounds {
            for (l, &(in_flight, calls)) in LEVELS.iter().enumerate() {
                rates[l].push(throughput(&variant, in_flight, calls).await.0);
                calls_made += calls;
            }
        }
        process_cpu_ns() - cpu
    });
    let medians: Vec<String> = rates.iter_mut().map(|r| format!("{:.0}", median(r))).collect();
    // The server's thread is in this process too; its share is the same for every variant.
    println!(
        "{} {:.2}",
        medians.join(" "),
        cpu as f64 / 1e3 / calls_made as f64
    );
}

/// One row per variant, one cell per level: the median of `figures` in `unit`, and the
/// median ratio to `reference`'s figure of the same round.
fn print_table(figures: &[Vec<Vec<f64>>], reference: &[Vec<f64>], unit: &str) {
    // Rates in whole calls per second, times to a tenth of a microsecond.
    let precision = if unit == "/s" { 0 } else { 1 };
    println!("| variant | 1 in flight {unit} | 16 in flight {unit} | 64 in flight {unit} |");
    println!("| --- | ---: | ---: | ---: |");
    for (i, (_, label)) in VARIANTS.iter().enumerate() {
        let cells: Vec<String> = (0..LEVELS.len())
            .map(|l| {
                let mut ratios: Vec<f64> = figures[i][l]
                    .iter()
                    .zip(&reference[l])
                    .map(|(v, b)| v / b)
                    .collect();
                format!(
                    "{:.*} ({:.2}x)",
                    precision,
                    median(&mut figures[i][l].clone()),
                    median(&mut ratios)
                )
            })
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
}
