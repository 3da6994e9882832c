//! The platform's settings, shared by every caller: the `ClientConfig` it hands out, what its
//! pongs carry, and how pushes are sent (fragments, order) and retried (schedule, deadline).

use std::time::Duration;

#[cfg(doc)]
use super::MockLongConnection;
use crate::testing::push::{DELIVERY_DEADLINE, RETRY_SCHEDULE};

/// The `ClientConfig` the platform sends: in the endpoint's answer (`data.ClientConfig`) and
/// as the payload of its pongs. Every value is in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientConfig {
    /// How many reconnect attempts the client makes; negative: no limit.
    pub reconnect_count: i64,
    /// The pause between reconnect attempts.
    pub reconnect_interval: i64,
    /// The upper bound of the random pause before the first reconnect attempt.
    pub reconnect_nonce: i64,
    /// How often the client pings.
    pub ping_interval: i64,
}

impl Default for ClientConfig {
    /// The platform's values: no reconnect limit, 120 s between attempts, up to 30 s before
    /// the first, a ping every 120 s.
    fn default() -> Self {
        Self {
            reconnect_count: -1,
            reconnect_interval: 120,
            reconnect_nonce: 30,
            ping_interval: 120,
        }
    }
}

/// What the stand-in answers a client's ping with: a pong carrying this payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PongPayload {
    /// The config the endpoint hands out ([`MockLongConnection::set_client_config`]), as JSON:
    /// what the platform does.
    #[default]
    EndpointConfig,
    /// This config as JSON (zeros, negative values: whatever a test needs).
    Config(ClientConfig),
    /// A pong without payload.
    Empty,
    /// These bytes as the payload (malformed JSON, say).
    Raw(Vec<u8>),
}

pub(super) struct Settings {
    pub(super) client_config: ClientConfig,
    pub(super) pong: PongPayload,
    pub(super) retry_schedule: Vec<Duration>,
    pub(super) retry_scale: f64,
    pub(super) deadline: Duration,
    pub(super) fragments: usize,
    pub(super) shuffle: bool,
    pub(super) recording: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            client_config: ClientConfig::default(),
            pong: PongPayload::default(),
            retry_schedule: RETRY_SCHEDULE.to_vec(),
            retry_scale: 1.0,
            deadline: DELIVERY_DEADLINE,
            fragments: 1,
            shuffle: false,
            recording: true,
        }
    }
}
