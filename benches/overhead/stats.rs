//! Measurements: throughput and CPU time per call, medians and percentiles.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::variants::Variant;

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub(crate) fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

/// The CPU time this thread has used, in nanoseconds (0 where the platform has no such
/// clock: the CPU columns then read 0).
pub(crate) fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    return cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(unix))]
    return 0;
}

/// The CPU time of this process, every thread's, in nanoseconds (0 as above). For the
/// `calls` bench, which measures a process that holds the client alone.
#[allow(dead_code)]
pub(crate) fn process_cpu_ns() -> u64 {
    #[cfg(unix)]
    return cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(unix))]
    return 0;
}

/// The time of a CPU-time clock, in nanoseconds (0 where there is none). Read with
/// `clock_gettime`, which counts nanoseconds where `/proc/.../schedstat` may move in
/// scheduler ticks (4 ms steps on this project's machines).
#[cfg(unix)]
fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec for the call's duration.
    if unsafe { libc::clock_gettime(clock, &mut time) } != 0 {
        return 0;
    }
    time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64
}

/// Calls per second with `in_flight` calls at a time, and the client thread's CPU time per
/// call in microseconds.
pub(crate) async fn throughput(variant: &Arc<Variant>, in_flight: usize, calls: usize) -> (f64, f64) {
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
