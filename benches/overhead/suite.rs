//! The full run: checks that every variant sends the same bytes, then measures latency,
//! allocations, throughput at 1, 16 and 64 in flight, cold start and peak memory, and prints
//! the table.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use feishu_helpdesk::EventType;
use reqwest::header::HeaderValue;

use crate::alloc::allocation_counters;
use crate::memory::rss_of;
use crate::server::{block_on_local, start_server};
use crate::stats::{median, percentile, throughput};
use crate::variants::{app_client, fixed_token_client, Baseline, Variant};

/// The index of the first `get_ticket` row.
const GET_ROWS: usize = 4;

pub(crate) fn run() {
    let server = start_server();
    let (base_url, token_requests) = (server.base_url.as_str(), &server.token_requests);
    block_on_local(async {
        let variants: Vec<(&str, Arc<Variant>)> = vec![
            // The reference: the client's own reqwest settings (10 s timeout, no redirects).
            (
                "hand-written, same reqwest settings",
                Arc::new(Variant::Baseline(Baseline::with_timeout(base_url))),
            ),
            (
                "hand-written, reqwest's defaults",
                Arc::new(Variant::Baseline(Baseline::new(base_url))),
            ),
            (
                "Client, fixed token",
                Arc::new(Variant::Client(fixed_token_client(base_url))),
            ),
            (
                "Client, app credentials",
                Arc::new(Variant::Client(app_client(base_url))),
            ),
            // `get_ticket`, a GET with a path parameter: paired with its own hand-written call.
            (
                "get_ticket: hand-written, same reqwest settings",
                Arc::new(Variant::BaselineGet(Baseline::with_timeout(base_url))),
            ),
            (
                "get_ticket: Client, fixed token",
                Arc::new(Variant::ClientGet(fixed_token_client(base_url))),
            ),
        ];
        // The reference of each row: `get_ticket` rows are compared with the hand-written GET.
        let reference = |i: usize| if i >= GET_ROWS { GET_ROWS } else { 0 };
        // Every variant sends the same bytes as its reference (header order aside).
        let mut sent = Vec::new();
        for (name, variant) in &variants {
            variant.call().await;
            sent.push((name, server.last_request.lock().unwrap().take()));
        }
        for (i, (name, request)) in sent.iter().enumerate() {
            assert_eq!(
                request,
                &sent[reference(i)].1,
                "{name} sends other bytes than its reference"
            );
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
        // once per level, in an order that rotates, and is compared with the reference's run
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
        // Per round, each variant's figure over the reference's.
        let paired = |series: &[f64], base: &[f64]| -> f64 {
            let mut ratios: Vec<f64> = series.iter().zip(base).map(|(v, b)| v / b).collect();
            median(&mut ratios)
        };

        // Cold start: from building to the first completed call with app credentials.
        let mut cold_baseline = Vec::new();
        let mut cold_client = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let client = feishu_helpdesk::http_client_builder().unwrap().build().unwrap();
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
            let bearer = HeaderValue::from_str(&format!(
                "Bearer {}",
                token["tenant_access_token"].as_str().unwrap()
            ))
            .unwrap();
            let baseline = Baseline::with_token(client, base_url, bearer);
            baseline.call().await;
            cold_baseline.push(started.elapsed().as_secs_f64() * 1e3);

            let started = Instant::now();
            app_client(base_url)
                .unsubscribe(&[EventType::TICKET_MESSAGE_CREATED])
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
        for (i, (name, _)) in variants.iter().enumerate() {
            let r = reference(i);
            let base_latency = median(&mut latencies[r].clone());
            let med = median(&mut latencies[i]);
            let p99 = percentile(&mut latencies[i], 0.99);
            let level = |l: usize| {
                let rate = median(&mut rates[i][l].clone());
                format!("{rate:.0} ({:.2}x)", paired(&rates[i][l], &rates[r][l]))
            };
            let cpu_us = median(&mut cpu[i].clone());
            let (allocs, bytes) = allocations[i];
            println!(
                "| {name} | {med:.1} ({:.2}x) | {p99:.1} | {} | {} | {} | {cpu_us:.1} ({:.2}x) | {allocs:.1} | {bytes:.0} |",
                med / base_latency,
                level(0),
                level(1),
                level(2),
                paired(&cpu[i], &cpu[r]),
            );
        }
        println!(
            "\nthroughput: median of {rounds} rounds; ratios: median over rounds of the variant's figure over the \
             first row's in the same round (for the get_ticket rows, the hand-written GET's). CPU: the client \
             thread's CPU time per call at 64 in flight."
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
