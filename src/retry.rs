//! When and how long to wait before sending a failed call again.

use std::time::Duration;

use crate::codes::{INVALID_TENANT_TOKEN, INVALID_USER_TOKEN, RATE_LIMITED};
use crate::error::Error;

/// How many times a failed call is sent again, unless set otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// The first backoff delay, unless set otherwise; it doubles with each retry.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// The longest backoff delay between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The longest wait for a rate limit to reset, whatever `x-ogw-ratelimit-reset` says.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The retry policy of one client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) initial_backoff: Duration,
}

/// A failed attempt, as the decision sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Failed<'a> {
    /// What went wrong.
    pub(crate) error: &'a Error,
    /// Whether the request went out (it did not when no token could be obtained for it).
    pub(crate) sent: bool,
    /// Whether sending the operation twice is harmless (the operation table's `idempotent`).
    pub(crate) idempotent: bool,
    /// Whether the token the request carried can be replaced: one the client obtains from
    /// app credentials, not one the caller gave.
    pub(crate) renewable_token: bool,
    /// How long the answer asked to wait (`x-ogw-ratelimit-reset`), if it said.
    pub(crate) rate_limit_reset: Option<Duration>,
}

/// What a call's attempts have come to so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct History {
    /// Requests sent.
    pub(crate) sent: u32,
    /// Retries after failures (token renewals not counted).
    pub(crate) retries: u32,
    /// Whether the token was replaced once already.
    pub(crate) token_renewed: bool,
}

/// What the call does after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Decision {
    /// Replace the rejected token and send again at once: a request refused for its token
    /// was not acted on.
    RenewToken,
    /// Send again after this delay.
    Retry(Duration),
    /// End the call with the error; `outcome_unknown` when the platform may have carried
    /// out the request.
    Fail {
        /// See [`Attempts::outcome_unknown`](crate::error::Attempts::outcome_unknown).
        outcome_unknown: bool,
    },
}

/// The one decision after a failed attempt: renew the token, retry after a delay, or fail.
/// `jitter` (in `[0, 1)`) scales the backoff, so that many clients do not retry in step.
///
/// In order: a token the platform rejected is replaced once; an operation that changes
/// something is never sent again unless the platform surely did not act on it; a transient
/// failure is retried up to the policy's limit, after the wait the platform asked for or an
/// exponential backoff.
pub(crate) fn decide(policy: &RetryPolicy, failed: Failed<'_>, history: History, jitter: f64) -> Decision {
    let err = failed.error;
    if failed.renewable_token && !history.token_renewed && token_rejected(err) {
        return Decision::RenewToken;
    }
    if !failed.idempotent && failed.sent && !surely_not_acted_on(err) {
        // Sending it again could do twice what the platform may have done once.
        return Decision::Fail {
            outcome_unknown: may_have_acted(err),
        };
    }
    if history.retries >= policy.max_retries || !transient(err) {
        return Decision::Fail {
            outcome_unknown: false,
        };
    }
    if let Some(reset) = failed.rate_limit_reset {
        return Decision::Retry(reset.min(MAX_RATE_LIMIT_WAIT));
    }
    // Exponential backoff with full jitter.
    let ceiling = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(history.retries))
        .min(MAX_BACKOFF);
    Decision::Retry(ceiling.mul_f64(jitter.clamp(0.0, 1.0)))
}

/// Whether the platform rejected the tenant token the request carried.
fn token_rejected(err: &Error) -> bool {
    matches!(err, Error::Api { code, .. } if INVALID_TENANT_TOKEN.contains(code) || INVALID_USER_TOKEN.contains(code))
}

/// Whether the same request may succeed if sent again: timeouts, transport failures, rate
/// limiting, and server-side (5xx, 408, 429) failures.
fn transient(err: &Error) -> bool {
    match err {
        Error::Timeout { .. } | Error::Transport { .. } => true,
        Error::Api {
            code, http_status, ..
        }
        | Error::TokenRefused {
            code, http_status, ..
        } => *code == RATE_LIMITED || transient_status(*http_status),
        Error::UnexpectedResponse { http_status, .. } => transient_status(*http_status),
        _ => false,
    }
}

fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..=599).contains(&status)
}

/// Whether the platform surely did not act on a request that failed so: the connection
/// was never made, the platform refused it for its rate limit, or no token could be
/// obtained for it.
fn surely_not_acted_on(err: &Error) -> bool {
    match err {
        Error::Transport { source, .. } => source.is_connect(),
        Error::Api {
            code, http_status, ..
        } => *code == RATE_LIMITED || *http_status == 429,
        _ => false,
    }
}

/// Whether a failure leaves open whether the platform acted: the request may have reached
/// it and no answer says it was refused.
fn may_have_acted(err: &Error) -> bool {
    match err {
        Error::Timeout { .. } | Error::Transport { .. } | Error::ResponseTooLarge { .. } => true,
        // A success the client could not read may well have been carried out.
        Error::UnexpectedResponse { http_status, .. } => {
            *http_status == 0 || (200..300).contains(http_status) || *http_status >= 500
        }
        Error::Api { http_status, .. } => *http_status >= 500,
        _ => false,
    }
}

impl Error {
    /// Whether the same request may succeed if sent again later: timeouts, transport
    /// failures, rate limiting, and server-side (5xx) failures, unless the platform may
    /// have carried it out ([`is_outcome_unknown`](Error::is_outcome_unknown)). Input and
    /// business errors (such as 154000 and 154003) are not retryable. The client has
    /// already retried what its retry policy allows.
    pub fn is_retryable(&self) -> bool {
        !self.is_outcome_unknown() && transient(self)
    }
}

const RATE_LIMIT_RESET: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-ogw-ratelimit-reset");

/// The seconds in an `x-ogw-ratelimit-reset` header.
pub(crate) fn rate_limit_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(RATE_LIMIT_RESET)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_RATE_LIMIT_WAIT.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Attempts;

    fn api(code: i64, http_status: u16) -> Error {
        Error::Api {
            code,
            msg: String::new(),
            http_status,
            log_id: None,
            attempts: Attempts::ONE,
        }
    }

    fn unexpected(http_status: u16) -> Error {
        Error::UnexpectedResponse {
            http_status,
            log_id: None,
            body_excerpt: String::new(),
            source: None,
            attempts: Attempts::ONE,
        }
    }

    fn refused_token(http_status: u16) -> Error {
        Error::TokenRefused {
            app_id: "cli_a".into(),
            code: if http_status == 200 { 10014 } else { 0 },
            msg: String::new(),
            http_status,
            log_id: None,
            attempts: Attempts::ONE,
        }
    }

    fn too_large() -> Error {
        Error::ResponseTooLarge {
            http_status: 200,
            log_id: None,
            limit: 1,
            attempts: Attempts::ONE,
        }
    }

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(100),
    };

    /// The kind of a decision, the delay left out where it is jittered.
    #[derive(Debug, PartialEq)]
    enum Expect {
        Renew,
        RetryWithin(Duration),
        RetryAfter(Duration),
        Fail,
        FailUnknown,
    }
    use Expect::*;

    /// What failed, whether it was sent, whether the operation is idempotent, whether its
    /// token is renewable, the reset asked for, the retries so far, whether the token was
    /// renewed already, and the decision.
    type Row = (Error, bool, bool, bool, Option<Duration>, u32, bool, Expect);

    #[test]
    fn the_decision_table() {
        let ms = Duration::from_millis;
        let secs = Duration::from_secs;
        // (what failed, sent, idempotent, renewable token, reset, retries so far, renewed,
        //  the decision)
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            // Transient failures of a read are retried, with a growing backoff, up to the limit.
            (unexpected(502), true, true, false, None, 0, false, RetryWithin(ms(100))),
            (unexpected(502), true, true, false, None, 1, false, RetryWithin(ms(200))),
            (unexpected(502), true, true, false, None, 2, false, Fail),
            (api(0, 503), true, true, true, None, 0, false, RetryWithin(ms(100))),
            (unexpected(408), true, true, false, None, 0, false, RetryWithin(ms(100))),
            // Business and input errors are not.
            (api(154000, 400), true, true, true, None, 0, false, Fail),
            (api(154003, 200), true, true, true, None, 0, false, Fail),
            (unexpected(404), true, true, false, None, 0, false, Fail),
            (too_large(), true, true, false, None, 0, false, Fail),
            (Error::invalid_input("x", "y"), false, true, true, None, 0, false, Fail),
            (Error::UserTokenRequired { operation: "update_ticket" }, false, false, false, None, 0, false, Fail),
            // A rate limit waits what the platform says, capped; on any status.
            (api(RATE_LIMITED, 400), true, true, false, Some(secs(3)), 0, false, RetryAfter(secs(3))),
            (api(RATE_LIMITED, 200), true, true, false, Some(secs(600)), 0, false, RetryAfter(MAX_RATE_LIMIT_WAIT)),
            (api(0, 429), true, true, false, None, 0, false, RetryWithin(ms(100))),
            // A rejected token the client obtained is replaced once, for any operation.
            (api(99991663, 401), true, true, true, None, 0, false, Renew),
            (api(99991671, 400), true, false, true, None, 2, false, Renew),
            (api(99991663, 401), true, true, true, None, 0, true, Fail),
            // A token the caller gave cannot be replaced.
            (api(99991663, 401), true, true, false, None, 0, false, Fail),
            // A write is not sent again unless the platform surely did not act...
            (unexpected(502), true, false, false, None, 0, false, FailUnknown),
            (api(0, 500), true, false, true, None, 0, false, FailUnknown),
            (unexpected(200), true, false, false, None, 0, false, FailUnknown),
            (too_large(), true, false, false, None, 0, false, FailUnknown),
            (api(154000, 400), true, false, false, None, 0, false, Fail),
            (unexpected(404), true, false, false, None, 0, false, Fail),
            // ...such as a rate limit, or a request that never went out.
            (api(RATE_LIMITED, 400), true, false, false, Some(secs(1)), 0, false, RetryAfter(secs(1))),
            (api(0, 429), true, false, false, None, 1, false, RetryWithin(ms(200))),
            (refused_token(503), false, false, true, None, 0, false, RetryWithin(ms(100))),
            (refused_token(200), false, false, true, None, 0, false, Fail),
        ];
        for (
            i,
            (error, sent, idempotent, renewable_token, rate_limit_reset, retries, token_renewed, expected),
        ) in table.into_iter().enumerate()
        {
            let failed = Failed {
                error: &error,
                sent,
                idempotent,
                renewable_token,
                rate_limit_reset,
            };
            let history = History {
                sent: retries + 1,
                retries,
                token_renewed,
            };
            let at_most = decide(&POLICY, failed, history, 1.0);
            let at_least = decide(&POLICY, failed, history, 0.0);
            let got = match (at_most, at_least) {
                (Decision::RenewToken, _) => Renew,
                (
                    Decision::Fail {
                        outcome_unknown: false,
                    },
                    _,
                ) => Fail,
                (
                    Decision::Fail {
                        outcome_unknown: true,
                    },
                    _,
                ) => FailUnknown,
                (Decision::Retry(high), Decision::Retry(low)) if high == low => RetryAfter(high),
                (Decision::Retry(high), Decision::Retry(low)) => {
                    // Jittered: from nothing up to the backoff's ceiling.
                    assert_eq!(low, Duration::ZERO, "row {i}: {error:?}");
                    RetryWithin(high)
                }
                other => panic!("row {i}: {other:?}"),
            };
            assert_eq!(got, expected, "row {i}: {error:?}");
        }
    }

    #[test]
    fn backoff_stays_under_the_cap() {
        let policy = RetryPolicy {
            max_retries: 40,
            initial_backoff: Duration::from_millis(100),
        };
        let err = unexpected(502);
        for retries in 0..40 {
            let failed = Failed {
                error: &err,
                sent: true,
                idempotent: true,
                renewable_token: false,
                rate_limit_reset: None,
            };
            let history = History {
                sent: retries + 1,
                retries,
                token_renewed: false,
            };
            let Decision::Retry(delay) = decide(&policy, failed, history, 1.0) else {
                panic!("retry {retries} was not retried");
            };
            assert!(delay <= MAX_BACKOFF, "retry {retries}: {delay:?}");
        }
    }

    #[test]
    fn an_unknown_outcome_is_not_retryable() {
        assert!(unexpected(502).is_retryable());
        let unknown = unexpected(502).after(Attempts {
            sent: 1,
            outcome_unknown: true,
        });
        assert!(!unknown.is_retryable());
        assert!(unknown.is_outcome_unknown());
    }

    #[test]
    fn the_reset_header_is_read_and_capped() {
        let mut headers = reqwest::header::HeaderMap::new();
        for (value, expected) in [
            ("2", Some(2.0)),
            (" 0.5 ", Some(0.5)),
            ("99999", Some(60.0)),
            ("-1", None),
            ("x", None),
            ("NaN", None),
        ] {
            headers.insert("x-ogw-ratelimit-reset", value.parse().unwrap());
            assert_eq!(
                rate_limit_reset(&headers).map(|d| d.as_secs_f64()),
                expected,
                "{value}"
            );
        }
    }
}
