//! The library's own HTTP clients, all built by [`library_http_client`]: reqwest's own TLS
//! set-up for the TLS feature the crate is built with (`rustls`, the default, or
//! `native-tls`), no redirects, and no `User-Agent`.
//!
//! The library never installs a process-wide rustls crypto provider and never enables
//! reqwest's `rustls-no-provider`: cargo unifies reqwest's features across the application,
//! and that feature would leave every other reqwest client of the application without a
//! provider (reqwest panics when such a client is built).

use std::time::Duration;

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
///
/// # A good neighbour
///
/// Cargo unifies reqwest's features across the whole application, so a TLS feature this crate
/// enables is enabled for every other reqwest client of the program too: a telemetry
/// exporter's, a webhook client's, your own. The library therefore enables only complete TLS
/// set-ups of reqwest's (`rustls`, `native-tls`), never `rustls-no-provider`, and never
/// installs a process-wide rustls provider. With that feature a plain
/// `reqwest::Client::new()` elsewhere in the program would panic ("No rustls crypto provider
/// is configured"), in code that has nothing to do with the helpdesk, in whatever order the
/// clients were built. CI keeps this: `tests/downstream/` is a crate with its own TLS-less
/// reqwest beside this one, and calls its own reqwest clients before and after a helpdesk
/// client.
///
/// # The cost, and `ring`
///
/// reqwest's provider builds `aws-lc-sys`, a C library, the longest unit of a clean build (see
/// the build cost in `docs/performance.md`). An earlier version of this crate used the `ring`
/// provider with reqwest's `rustls-no-provider` to build faster; that is the set-up that broke
/// neighbours, so it is not offered as a feature. An application that wants `ring` can still
/// choose it for the whole program, where the choice belongs: depend on this crate with
/// `default-features = false`, enable `reqwest/rustls-no-provider` in its own `Cargo.toml`, and
/// install the provider first thing in `main`
/// (`rustls::crypto::ring::default_provider().install_default()`); every reqwest client of the
/// program, this crate's included, then uses it.
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder())
}

/// Every HTTP client the library makes for itself (a [`Client`](crate::Client)'s, the long
/// connection's): `timeout` as its default for connecting and for each request, and no
/// redirects, so that the credentials a request carries (a token, the helpdesk header, the
/// app secret in a body) never go to another host.
///
/// No `User-Agent` (the platform asks for none): reqwest copies a request's headers before
/// sending, and with a sixth header that copy outgrows glibc's per-thread cache as the
/// connection adds `host` and `content-length`, an allocation taken from a locked arena on
/// one thread and freed on another on every call. A program that wants one sets it on its own
/// client ([`ClientBuilder::http_client`](crate::ClientBuilder::http_client)).
pub(crate) fn library_http_client(timeout: Duration) -> Result<reqwest::Client, Error> {
    http_client_builder()?
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| Error::invalid_input_because("http_client", "cannot be built", e))
}
