//! The TLS of the library's own HTTP clients. With feature `rustls` (the default), rustls
//! with the `ring` provider and the platform's certificate verifier, as reqwest sets it up
//! for its own default provider: `ring` builds in a fraction of the time of reqwest's
//! default provider, `aws-lc-rs` (feature `rustls-aws-lc` keeps that one). With `native-tls`
//! or `rustls-aws-lc`, reqwest's own set-up.

use crate::error::Error;

/// A `reqwest::ClientBuilder` with the TLS this crate is built with: rustls with `ring` (the
/// default feature `rustls`), or reqwest's own set-up under feature `native-tls` or
/// `rustls-aws-lc`. Start here to pass a client of your own to
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client): under the default
/// features reqwest has no crypto provider of its own, so a plain
/// `reqwest::Client::builder()` fails to build (reqwest panics) unless your application
/// enables one of reqwest's TLS features or installs a rustls provider.
///
/// Fails with [`Error::TlsSetup`] if the platform's root certificates cannot be loaded.
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
    configure(reqwest::Client::builder())
}

#[cfg(all(
    feature = "rustls",
    not(feature = "native-tls"),
    not(feature = "rustls-aws-lc")
))]
fn configure(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
    use std::sync::Arc;

    use rustls_platform_verifier::BuilderVerifierExt as _;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|source| Error::TlsSetup {
            source: Arc::new(source),
        })?
        .with_no_client_auth();
    // What reqwest offers with its own set-up: HTTP/2, then HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(builder.tls_backend_preconfigured(config))
}

#[cfg(not(all(
    feature = "rustls",
    not(feature = "native-tls"),
    not(feature = "rustls-aws-lc")
)))]
fn configure(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder)
}
