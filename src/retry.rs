//! When and how long to wait before sending a failed call again.

use std::time::Duration;

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

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0 for the first) after `err`, or
    /// `None` if the call must not be sent again.
    pub(crate) fn delay(
        &self,
        retry: u32,
        err: &Error,
        rate_limit_reset: Option<Duration>,
    ) -> Option<Duration> {
        if retry >= self.max_retries || !err.is_retryable() {
            return None;
        }
        if let Some(reset) = rate_limit_reset {
            return Some(reset.min(MAX_RATE_LIMIT_WAIT));
        }
        // Exponential backoff with full jitter, so that many clients do not retry in step.
        let ceiling = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(MAX_BACKOFF);
        Some(ceiling.mul_f64(fastrand::f64()))
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

    fn retryable() -> Error {
        Error::UnexpectedResponse {
            http_status: 502,
            log_id: None,
            body_excerpt: String::new(),
            source: None,
        }
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let policy = RetryPolicy {
            max_retries: 20,
            initial_backoff: Duration::from_millis(100),
        };
        for retry in 0..20 {
            let delay = policy.delay(retry, &retryable(), None).unwrap();
            let ceiling = Duration::from_millis(100)
                .saturating_mul(1 << retry.min(10))
                .min(MAX_BACKOFF);
            assert!(delay <= ceiling, "retry {retry}: {delay:?} > {ceiling:?}");
        }
    }

    #[test]
    fn no_retry_past_the_limit_or_for_business_errors() {
        let policy = RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
        };
        assert!(policy.delay(1, &retryable(), None).is_some());
        assert!(policy.delay(2, &retryable(), None).is_none());
        let business = Error::Api {
            code: 154000,
            msg: String::new(),
            http_status: 400,
            log_id: None,
        };
        assert!(policy.delay(0, &business, None).is_none());
    }

    #[test]
    fn the_reset_header_is_honoured_and_capped() {
        let policy = RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
        };
        assert_eq!(
            policy.delay(0, &retryable(), Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
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
