//! The connection's timings: the platform's `ClientConfig` (from the endpoint and from
//! pongs), checked, under the settings the user fixed.

use std::time::Duration;

use serde::Deserialize;

/// The platform's defaults, used until it says otherwise (as every official SDK does).
pub(crate) const PLATFORM_PING_INTERVAL: Duration = Duration::from_secs(120);
pub(crate) const PLATFORM_RECONNECT_INTERVAL: Duration = Duration::from_secs(120);
pub(crate) const PLATFORM_RECONNECT_NONCE: Duration = Duration::from_secs(30);

/// The longest interval the platform may set; a longer one is taken for a mistake.
const MAX_SECONDS: i64 = 60 * 60;

/// `ClientConfig` as the platform sends it: seconds, any field possibly missing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ServerConfig {
    #[serde(rename = "ReconnectCount")]
    reconnect_count: Option<i64>,
    #[serde(rename = "ReconnectInterval")]
    reconnect_interval: Option<i64>,
    #[serde(rename = "ReconnectNonce")]
    reconnect_nonce: Option<i64>,
    #[serde(rename = "PingInterval")]
    ping_interval: Option<i64>,
}

/// What the user fixed; `None` follows the platform.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Overrides {
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) reconnect_interval: Option<Duration>,
    pub(crate) reconnect_jitter: Option<Duration>,
    pub(crate) reconnect_count: Option<Option<u32>>,
}

/// The timings in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timings {
    pub(crate) ping_interval: Duration,
    pub(crate) reconnect_interval: Duration,
    /// The bound of the random wait before the first reconnect.
    pub(crate) reconnect_jitter: Duration,
    /// How many reconnects in a row; `None`: no limit.
    pub(crate) reconnect_count: Option<u32>,
}

impl Timings {
    pub(crate) fn new(overrides: &Overrides) -> Self {
        Timings {
            ping_interval: overrides.ping_interval.unwrap_or(PLATFORM_PING_INTERVAL),
            reconnect_interval: overrides
                .reconnect_interval
                .unwrap_or(PLATFORM_RECONNECT_INTERVAL),
            reconnect_jitter: overrides.reconnect_jitter.unwrap_or(PLATFORM_RECONNECT_NONCE),
            reconnect_count: overrides.reconnect_count.unwrap_or(None),
        }
    }

    /// Applies what the platform sent, field by field, unless the user fixed it or the value
    /// is absurd (an interval of zero or below, or over an hour: those are logged and ignored).
    pub(crate) fn apply(&mut self, server: &ServerConfig, overrides: &Overrides) {
        if overrides.ping_interval.is_none() {
            if let Some(seconds) = checked("PingInterval", server.ping_interval, 1) {
                self.ping_interval = seconds;
            }
        }
        if overrides.reconnect_interval.is_none() {
            if let Some(seconds) = checked("ReconnectInterval", server.reconnect_interval, 1) {
                self.reconnect_interval = seconds;
            }
        }
        if overrides.reconnect_jitter.is_none() {
            if let Some(seconds) = checked("ReconnectNonce", server.reconnect_nonce, 0) {
                self.reconnect_jitter = seconds;
            }
        }
        if overrides.reconnect_count.is_none() {
            if let Some(count) = server.reconnect_count {
                // Negative: no limit, as the platform documents it.
                self.reconnect_count = u32::try_from(count).ok();
            }
        }
    }
}

fn checked(field: &'static str, value: Option<i64>, min: i64) -> Option<Duration> {
    let value = value?;
    if (min..=MAX_SECONDS).contains(&value) {
        Some(Duration::from_secs(value.unsigned_abs()))
    } else {
        tracing::warn!(
            field,
            value,
            "ignored the platform's connection setting: out of range"
        );
        None
    }
}

/// Reads a `ClientConfig` payload; `None` for an empty or unreadable one.
pub(crate) fn parse(payload: &[u8]) -> Option<ServerConfig> {
    if payload.is_empty() {
        return None;
    }
    match serde_json::from_slice(payload) {
        Ok(config) => Some(config),
        Err(error) => {
            tracing::warn!(%error, "ignored an unreadable ClientConfig");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_sets_what_the_user_left_open_and_absurd_values_are_ignored() {
        let overrides = Overrides {
            ping_interval: Some(Duration::from_millis(300)),
            ..Overrides::default()
        };
        let mut timings = Timings::new(&overrides);
        let server =
            parse(br#"{"ReconnectCount":3,"ReconnectInterval":0,"ReconnectNonce":5,"PingInterval":7}"#)
                .unwrap();
        timings.apply(&server, &overrides);
        assert_eq!(
            timings,
            Timings {
                ping_interval: Duration::from_millis(300),
                reconnect_interval: PLATFORM_RECONNECT_INTERVAL,
                reconnect_jitter: Duration::from_secs(5),
                reconnect_count: Some(3),
            }
        );
        let server = parse(br#"{"ReconnectCount":-1,"PingInterval":-4,"ReconnectNonce":99999}"#).unwrap();
        timings.apply(&server, &Overrides::default());
        assert_eq!(timings.ping_interval, Duration::from_millis(300));
        assert_eq!(timings.reconnect_jitter, Duration::from_secs(5));
        assert_eq!(timings.reconnect_count, None);
        assert!(parse(b"").is_none());
        assert!(parse(b"not json").is_none());
    }

    #[test]
    fn a_reconnect_count_the_user_set_wins() {
        let overrides = Overrides {
            reconnect_count: Some(Some(2)),
            ..Overrides::default()
        };
        let mut timings = Timings::new(&overrides);
        timings.apply(&parse(br#"{"ReconnectCount":-1}"#).unwrap(), &overrides);
        assert_eq!(timings.reconnect_count, Some(2));
    }
}
