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
//! Calls on the multi-thread runtime, against a server in another process, are measured by
//! the `calls` bench (`benches/calls`).
//!
//! For a profiler, `--profile <baseline|baseline-timeout|client|app> <calls> [in flight]`
//! makes only the calls of one variant.
//!
//! `-- --receiver` measures the event receiver instead (`receiver.rs`): in process, and over
//! HTTP in axum against a bare axum handler, which needs the `axum` feature:
//!
//! ```sh
//! cargo bench --bench overhead --features axum -- --receiver
//! ```

mod alloc;
mod memory;
mod receiver;
mod server;
mod stats;
mod suite;
mod variants;

use std::sync::Arc;

use memory::rss_child;
use server::{block_on_local, start_server};
use stats::throughput;
use variants::variant_named;

/// Events the in-process receiver handles untimed, after its first round, before its rounds.
const RECEIVER_WARM_UP: usize = 40_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss") {
        rss_child(&args[i + 1]);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    // `--receiver-profile [rounds]`: only the in-process receiver, for a profiler.
    if let Some(i) = args.iter().position(|a| a == "--receiver-profile") {
        receiver::in_process(
            RECEIVER_WARM_UP,
            args.get(i + 1).map_or(30, |n| n.parse().unwrap()),
        );
        return;
    }
    // `--receiver-push <file>`: writes one push of the receiver bench, for other SDKs to handle.
    if let Some(i) = args.iter().position(|a| a == "--receiver-push") {
        receiver::write_push(&args[i + 1]);
        return;
    }
    // `--receiver-rates <warm-up events> <rounds>`: the in-process receiver's first round and
    // warm rounds as JSON, for `benches/receiving/compare`.
    if let Some(i) = args.iter().position(|a| a == "--receiver-rates") {
        receiver::print_in_process_rates(args[i + 1].parse().unwrap(), args[i + 2].parse().unwrap());
        return;
    }
    // `--receiver-serve`: the server process of the receiver over HTTP.
    #[cfg(feature = "axum")]
    if args.iter().any(|a| a == "--receiver-serve") {
        receiver::serve();
        return;
    }
    // `--receiver-http [rounds]`: only the receiver over HTTP (feature `axum`).
    if let Some(i) = args.iter().position(|a| a == "--receiver-http") {
        receiver::over_http(args.get(i + 1).map_or(10, |n| n.parse().unwrap()));
        return;
    }
    // `--receiver-http-profile <bare|receiver> <runs>`: only one route over HTTP, for a profiler.
    if let Some(i) = args.iter().position(|a| a == "--receiver-http-profile") {
        receiver::over_http_profile(&args[i + 1], args[i + 2].parse().unwrap());
        return;
    }
    if args.iter().any(|a| a == "--receiver") {
        receiver::in_process(RECEIVER_WARM_UP, 9);
        receiver::over_http(10);
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

    suite::run();
}
