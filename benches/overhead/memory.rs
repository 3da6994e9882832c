//! Peak resident memory, measured in a child process per variant.

use std::sync::Arc;

use crate::server::{block_on_local, start_server};
use crate::stats::throughput;
use crate::variants::variant_named;

pub(crate) fn peak_rss_kib() -> u64 {
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
pub(crate) fn rss_child(which: &str) {
    let base_url = start_server().base_url;
    block_on_local(async {
        throughput(&Arc::new(variant_named(which, &base_url)), 16, 100_000).await;
    });
    println!("{}", peak_rss_kib());
}

pub(crate) fn rss_of(which: &str) -> u64 {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--rss", which])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}
