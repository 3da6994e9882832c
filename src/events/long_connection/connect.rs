//! Opening one connection: the endpoint (a fresh URL and the platform's settings, within a
//! timeout), then the WebSocket handshake over TCP and, for `wss://`, the library's TLS. A
//! refusal that retrying cannot mend is told apart from one that it can.

use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::WebSocketStream;

use super::config::ServerConfig;
use super::error::LongConnectionError;
use crate::codes::{ENDPOINT_BUSY, ENDPOINT_INTERNAL_ERROR, TOO_MANY_CONNECTIONS};
use crate::error::Error;
use crate::platform::AppCredentials;
use crate::secret::Secret;

/// The endpoint's path under the base URL.
const ENDPOINT_PATH: &str = "/callback/ws/endpoint";

/// The largest frame the client reads: an event's body (or fragment) and its headers.
const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// A byte stream to the platform: TCP, or TLS over TCP.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

pub(crate) type Socket = WebSocketStream<Pin<Box<dyn Stream>>>;

/// Why a connection could not be opened.
pub(crate) enum Failure {
    /// Retrying cannot mend it (bad credentials, banned, too many connections, a URL the
    /// settings do not allow).
    Terminal(LongConnectionError),
    /// It may work next time.
    Retry(LongConnectionError),
}

/// What the endpoint gave: where to connect, and the platform's settings.
pub(crate) struct Endpoint {
    /// The WebSocket URL; its query holds per-connection credentials (never logged).
    pub(crate) url: Secret,
    pub(crate) config: ServerConfig,
}

/// The endpoint's answer.
#[derive(Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    msg: String,
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    #[serde(rename = "URL")]
    url: Option<String>,
    #[serde(rename = "ClientConfig")]
    config: Option<ServerConfig>,
}

/// What opening a connection needs, fixed when the connection was built.
pub(crate) struct Connector {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: reqwest::Url,
    pub(crate) app: AppCredentials,
    pub(crate) allow_insecure: bool,
    pub(crate) timeout: Duration,
    pub(crate) tls: Tls,
}

impl Connector {
    /// The endpoint's URL under the base URL (whose path, if any, is kept).
    pub(crate) fn endpoint_url(base: &reqwest::Url) -> reqwest::Url {
        crate::client_state::joined(base, ENDPOINT_PATH)
    }

    /// Asks the endpoint for a connection URL.
    pub(crate) async fn discover(&self) -> Result<Endpoint, Failure> {
        let body = serde_json::json!({
            "AppID": self.app.app_id,
            "AppSecret": self.app.app_secret.expose(),
        });
        let sent = self
            .http
            .post(self.endpoint.clone())
            .header("locale", "zh")
            .json(&body)
            .timeout(self.timeout)
            .send();
        let response = sent
            .await
            .map_err(|e| Failure::Retry(Error::transport(e, None).into()))?;
        let status = response.status().as_u16();
        let response = crate::body_limit::limit(response, crate::MAX_BODY_BYTES);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Retry(Error::transport(e, Some(status)).into()))?;
        if status != 200 {
            return Err(Failure::Retry(LongConnectionError::failed(format!(
                "the endpoint answered HTTP {status}"
            ))));
        }
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Retry(LongConnectionError::failed_because(
                "the endpoint's answer is not its JSON",
                e,
            ))
        })?;
        match answer.code {
            0 => {}
            ENDPOINT_BUSY | ENDPOINT_INTERNAL_ERROR => {
                return Err(Failure::Retry(LongConnectionError::failed(format!(
                    "the endpoint answered code {}: {}",
                    answer.code, answer.msg
                ))))
            }
            code => {
                return Err(Failure::Terminal(LongConnectionError::Refused {
                    code: Some(code),
                    http_status: Some(status),
                    msg: format!("the endpoint refused app {}: {}", self.app.app_id, answer.msg),
                }))
            }
        }
        let data = answer.data.unwrap_or(AnswerData {
            url: None,
            config: None,
        });
        let url = data
            .url
            .filter(|url| !url.is_empty())
            .ok_or_else(|| Failure::Retry(LongConnectionError::failed("the endpoint gave no URL")))?;
        Ok(Endpoint {
            url: Secret::new(url),
            config: data.config.unwrap_or_default(),
        })
    }

    /// Opens the WebSocket to `url`: returns it and the `service_id` its pings carry.
    pub(crate) async fn dial(&self, url: &Secret) -> Result<(Socket, Target), Failure> {
        let target = Target::parse(url.expose(), self.allow_insecure)?;
        let opening = async {
            let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|e| Failure::Retry(LongConnectionError::failed_because("cannot connect", e)))?;
            let _ = tcp.set_nodelay(true);
            let stream: Pin<Box<dyn Stream>> = if target.secure {
                self.tls.wrap(&target.host, tcp).await?
            } else {
                Box::pin(tcp)
            };
            let config = tungstenite::protocol::WebSocketConfig::default()
                .max_message_size(Some(MAX_MESSAGE_BYTES))
                .max_frame_size(Some(MAX_MESSAGE_BYTES));
            tokio_tungstenite::client_async_with_config(url.expose(), stream, Some(config))
                .await
                .map(|(socket, _)| socket)
                .map_err(refusal)
        };
        match tokio::time::timeout(self.timeout, opening).await {
            Ok(Ok(socket)) => Ok((socket, target)),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::Retry(LongConnectionError::failed(
                "the handshake timed out",
            ))),
        }
    }
}

/// Where a connection goes, as far as logs may say: never the URL's query, which holds the
/// connection's credentials.
pub(crate) struct Target {
    host: String,
    port: u16,
    secure: bool,
    /// Copied into every ping (`Frame.service`).
    pub(crate) service_id: i32,
    /// The connection's id, for logs.
    pub(crate) device_id: String,
}

impl Target {
    fn parse(raw: &str, allow_insecure: bool) -> Result<Target, Failure> {
        let bad = |reason: &'static str| Failure::Retry(LongConnectionError::failed(reason));
        let url = url::Url::parse(raw).map_err(|_| bad("the endpoint's URL does not parse"))?;
        let host = url.host().ok_or_else(|| bad("the endpoint's URL has no host"))?;
        let secure = match url.scheme() {
            "wss" => true,
            "ws" if allow_insecure || crate::platform::is_loopback(&host) => false,
            "ws" => {
                return Err(Failure::Terminal(
                    Error::invalid_input(
                        "base_url",
                        "the endpoint gave a plain ws:// URL to a host that is not loopback; allow_insecure_http(true) accepts it",
                    )
                    .into(),
                ))
            }
            _ => return Err(bad("the endpoint's URL is not ws:// or wss://")),
        };
        let host = match host {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if secure { 443 } else { 80 });
        let mut service_id = 0;
        let mut device_id = String::new();
        for (key, value) in url.query_pairs() {
            match &*key {
                "service_id" => service_id = value.parse().unwrap_or(0),
                "device_id" => device_id = value.into_owned(),
                _ => {}
            }
        }
        Ok(Target {
            host,
            port,
            secure,
            service_id,
            device_id,
        })
    }
}

/// Sorts a failed handshake: the platform's refusal headers (or the HTTP status) say whether
/// retrying can mend it.
fn refusal(error: tungstenite::Error) -> Failure {
    let tungstenite::Error::Http(response) = &error else {
        return Failure::Retry(LongConnectionError::failed_because(
            "the WebSocket handshake failed",
            error,
        ));
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    let status = header("handshake-status")
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|&s| s != 0)
        .unwrap_or_else(|| response.status().as_u16());
    let auth_code = header("handshake-autherrcode").and_then(|c| c.parse::<i64>().ok());
    let msg = header("handshake-msg").unwrap_or_default().to_owned();
    match (status, auth_code) {
        (403, _) => Failure::Terminal(LongConnectionError::Refused {
            code: auth_code,
            http_status: Some(status),
            msg: format!("the app is forbidden to connect (403): {msg}"),
        }),
        (514, Some(TOO_MANY_CONNECTIONS)) => Failure::Terminal(LongConnectionError::Refused {
            code: auth_code,
            http_status: Some(status),
            msg: format!("the app has as many connections as the platform allows: {msg}"),
        }),
        _ => Failure::Retry(LongConnectionError::failed(format!(
            "the handshake was refused: status {status}, code {}: {msg}",
            auth_code.map_or_else(|| "none".to_owned(), |c| c.to_string())
        ))),
    }
}

/// The TLS of `wss://`: the set-up of the crate's TLS feature.
pub(crate) enum Tls {
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    Rustls(tokio_rustls::TlsConnector),
    #[cfg(feature = "native-tls")]
    Native(tokio_native_tls::TlsConnector),
    /// Built without a TLS feature: only `ws://` to loopback.
    #[allow(dead_code)]
    None,
}

impl Tls {
    /// The TLS of the crate's feature: rustls with its `aws-lc-rs` provider (or the
    /// process's default provider, if one is installed) and the platform's verifier, as
    /// reqwest sets it up; or the platform's native library, which wins when both features
    /// are on (as it does for the library's HTTP clients).
    pub(crate) fn new() -> Result<Tls, Error> {
        #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
        {
            use std::sync::Arc;
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| {
                Error::invalid_input_because("tls", "cannot load the platform's certificate verifier", e)
            })?;
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::invalid_input_because("tls", "no TLS version", e))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Tls::Rustls(tokio_rustls::TlsConnector::from(Arc::new(config))))
        }
        #[cfg(feature = "native-tls")]
        {
            let connector = native_tls::TlsConnector::new()
                .map_err(|e| Error::invalid_input_because("tls", "cannot set up TLS", e))?;
            Ok(Tls::Native(tokio_native_tls::TlsConnector::from(connector)))
        }
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        Ok(Tls::None)
    }

    async fn wrap(&self, host: &str, tcp: tokio::net::TcpStream) -> Result<Pin<Box<dyn Stream>>, Failure> {
        let _ = (host, &tcp);
        match self {
            #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
            Tls::Rustls(connector) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| {
                    Failure::Retry(LongConnectionError::failed_because("the endpoint's host is not a TLS name", e))
                })?;
                let stream = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Failure::Retry(LongConnectionError::failed_because("the TLS handshake failed", e)))?;
                Ok(Box::pin(stream))
            }
            #[cfg(feature = "native-tls")]
            Tls::Native(connector) => {
                let stream = connector
                    .connect(host, tcp)
                    .await
                    .map_err(|e| Failure::Retry(LongConnectionError::failed_because("the TLS handshake failed", e)))?;
                Ok(Box::pin(stream))
            }
            Tls::None => Err(Failure::Terminal(
                Error::invalid_input(
                    "base_url",
                    "the endpoint gave a wss:// URL, and the crate was built without a TLS feature (rustls or native-tls)",
                )
                .into(),
            )),
        }
    }
}
