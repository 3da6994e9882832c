//! The TLS of the library's own HTTP clients: reqwest's own set-up for the TLS feature the
//! crate is built with (`rustls`, the default, or `native-tls`).
//!
//! The library never installs a process-wide rustls crypto provider and never enables
//! reqwest's `rustls-no-provider`: cargo unifies reqwest's features across the application,
//! and that feature would leave every other reqwest client of the application without a
//! provider (reqwest panics when such a client is built).

use crate::error::Error;

/// A `reqwest::ClientBuilder` with the TLS this crate is built with, to start a client of
/// your own for [`ClientBuilder::http_client`](crate::ClientBuilder::http_client). With the
/// crate's TLS features this is `reqwest::Client::builder()`: any reqwest client of the
/// application gets the same TLS set-up, in whatever order clients are built.
///
/// Does not fail today; the `Result` leaves room for a TLS set-up that can.
///
/// ```
/// let http = feishu_helpdesk::http_client_builder()?
///     .pool_max_idle_per_host(4)
///     .build()
///     .expect("a client");
/// # let _ = http;
/// # Ok::<(), feishu_helpdesk::Error>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder())
}
