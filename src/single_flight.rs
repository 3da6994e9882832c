//! One caller does the work, and the callers that waited on it share its outcome, success
//! or error: a tenant token's fetch (`crate::token_manager`) and a person's refresh
//! (`crate::user_tokens`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// The outcome of the latest run, for the callers that waited on it.
struct Outcome<T> {
    sequence: u64,
    result: Result<T, Error>,
}

/// Runs a piece of work once for all the callers that find it needed at the same time.
pub(crate) struct SingleFlight<T> {
    latest: tokio::sync::Mutex<Option<Outcome<T>>>,
    /// How many runs have completed.
    completed: AtomicU64,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            latest: tokio::sync::Mutex::new(None),
            completed: AtomicU64::new(0),
        }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// The outcome of a run that completed while this caller waited for its turn; else what
    /// `recheck` finds now (another caller's work may have made the run needless), else
    /// `work`'s outcome, shared with the callers waiting meanwhile.
    pub(crate) async fn run<R, RF, W, WF>(&self, recheck: R, work: W) -> Result<T, Error>
    where
        R: FnOnce() -> RF,
        RF: Future<Output = Option<T>>,
        W: FnOnce() -> WF,
        WF: Future<Output = Result<T, Error>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        let mut latest = self.latest.lock().await;
        if let Some(done) = latest.as_ref().filter(|done| done.sequence > seen) {
            return done.result.clone();
        }
        if let Some(value) = recheck().await {
            return Ok(value);
        }
        let result = work().await;
        let sequence = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
        *latest = Some(Outcome {
            sequence,
            result: result.clone(),
        });
        result
    }
}
