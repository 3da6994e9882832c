//! One lazily opened, shared Redis connection with a timeout on every command, for the
//! Redis token cache and the Redis dedupe store.

use std::future::Future;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::error::Error;

/// A Redis server, connected on first use and again after a failure.
pub(crate) struct RedisConnection {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    pub(crate) operation_timeout: Duration,
}

impl RedisConnection {
    /// The server at `url`; no connection is made until the first command.
    pub(crate) fn new(url: &str, operation_timeout: Duration) -> Result<Self, Error> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::invalid_input_because("redis_url", "is not a valid Redis URL", e))?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(None),
            operation_timeout,
        })
    }

    /// Runs one command within the timeout; on failure, says why (never the URL, which may
    /// hold a password) and reconnects on the next use.
    pub(crate) async fn run<T, F, Fut>(&self, operation: F) -> Result<T, String>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let attempt = async {
            let connection = self.connection().await?;
            operation(connection).await
        };
        let outcome = match tokio::time::timeout(self.operation_timeout, attempt).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => err.to_string(),
            Err(_) => format!("no answer within {:?}", self.operation_timeout),
        };
        *self.connection.lock().await = None;
        Err(outcome)
    }

    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self.client.get_multiplexed_async_connection().await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}
