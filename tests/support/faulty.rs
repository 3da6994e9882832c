//! A server that misbehaves on purpose, one fault per request: what a well-behaved mock
//! cannot do (reset, stall, truncate, flood).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use feishu_helpdesk::{Client, Error};

use super::{APP_ID, APP_SECRET, HELPDESK_ID, HELPDESK_TOKEN, LOG_ID, TENANT_ACCESS_TOKEN};

/// The timeout of [`client`]'s calls.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// A client with app credentials, the [`TIMEOUT`] and a 10 ms initial backoff.
pub fn client(base_url: &str, max_retries: u32) -> Client {
    Client::builder()
        .app_credentials(APP_ID, APP_SECRET)
        .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
        .base_url(base_url)
        .timeout(TIMEOUT)
        .max_retries(max_retries)
        .initial_backoff(Duration::from_millis(10))
        .build()
        .unwrap()
}

/// What a fault must turn into: the error kind, its HTTP status and log id.
pub fn expected(fault: Fault) -> (&'static str, Option<u16>, Option<&'static str>) {
    match fault {
        Fault::ResetMidResponse | Fault::TruncatedBody => ("Transport", Some(200), None),
        Fault::StallAfterHeaders => ("Timeout", None, None),
        Fault::HugeBody => ("ResponseTooLarge", Some(200), Some(LOG_ID)),
        Fault::HugeErrorBody => ("UnexpectedResponse", Some(502), Some(LOG_ID)),
        Fault::InvalidUtf8 | Fault::WrongContentType | Fault::NotEnvelope => {
            ("UnexpectedResponse", Some(200), Some(LOG_ID))
        }
        Fault::Html(status) => ("UnexpectedResponse", Some(status), Some(LOG_ID)),
        Fault::DropAfterRequest => ("Transport", None, None),
        Fault::RateLimited => ("Api", Some(429), Some(LOG_ID)),
        Fault::None => ("none", None, None),
    }
}

/// The name of an error's variant.
pub fn kind(err: &Error) -> &'static str {
    match err {
        Error::Transport { .. } => "Transport",
        Error::Timeout { .. } => "Timeout",
        Error::ResponseTooLarge { .. } => "ResponseTooLarge",
        Error::UnexpectedResponse { .. } => "UnexpectedResponse",
        Error::Api { .. } => "Api",
        Error::TokenRefused { .. } => "TokenRefused",
        _ => "other",
    }
}

/// What the server does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers the success envelope.
    None,
    /// Sends the status line, headers and part of the body, then resets the connection.
    ResetMidResponse,
    /// Sends the headers, then nothing more.
    StallAfterHeaders,
    /// Declares 100 bytes of body, sends 10, then closes.
    TruncatedBody,
    /// A 200 declaring 50 MB of body, sent until the client stops reading.
    HugeBody,
    /// A 502 with an endless chunked HTML body.
    HugeErrorBody,
    /// A 200 whose body is not UTF-8.
    InvalidUtf8,
    /// A 200 with an HTML page.
    WrongContentType,
    /// A gateway's HTML page with this status (502, 503 or 504).
    Html(u16),
    /// A 200 with JSON that is not the envelope.
    NotEnvelope,
    /// Reads the whole request, then closes the connection without a word.
    DropAfterRequest,
    /// A 429 with code 99991400 and `x-ogw-ratelimit-reset: 0`.
    RateLimited,
}

impl Fault {
    /// Every fault of the answer's shape (not `None`, `DropAfterRequest`, `RateLimited`).
    pub const ALL: [Fault; 11] = [
        Fault::ResetMidResponse,
        Fault::StallAfterHeaders,
        Fault::TruncatedBody,
        Fault::HugeBody,
        Fault::HugeErrorBody,
        Fault::InvalidUtf8,
        Fault::WrongContentType,
        Fault::Html(502),
        Fault::Html(503),
        Fault::Html(504),
        Fault::NotEnvelope,
    ];
}

type Plan = Arc<dyn Fn(usize) -> Fault + Send + Sync>;

/// The server: answers token requests with a token, and helpdesk requests by the plan.
pub struct FaultyServer {
    pub base_url: String,
    /// How many helpdesk requests arrived.
    pub requests: Arc<AtomicUsize>,
    /// How many token requests arrived.
    pub token_requests: Arc<AtomicUsize>,
    /// The most body bytes written for one answer.
    pub most_written: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl FaultyServer {
    /// Starts on a free loopback port; `plan` picks the fault for the n-th helpdesk request.
    pub async fn start(plan: impl Fn(usize) -> Fault + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let plan: Plan = Arc::new(plan);
        let requests = Arc::new(AtomicUsize::new(0));
        let token_requests = Arc::new(AtomicUsize::new(0));
        let most_written = Arc::new(AtomicUsize::new(0));
        let counters = (
            Arc::clone(&requests),
            Arc::clone(&token_requests),
            Arc::clone(&most_written),
        );
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let (plan, counters) = (Arc::clone(&plan), counters.clone());
                connections.spawn(serve(stream, plan, counters));
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            base_url,
            requests,
            token_requests,
            most_written,
            accept: Some(accept),
        }
    }

    /// Stops the server and every connection it still has open.
    pub async fn shutdown(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        if let Some(accept) = &self.accept {
            accept.abort();
        }
    }
}

type Counters = (Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<AtomicUsize>);

async fn serve(mut stream: TcpStream, plan: Plan, (requests, token_requests, most_written): Counters) {
    let Some(path) = read_request(&mut stream).await else {
        return;
    };
    if path.ends_with("/tenant_access_token/internal") {
        token_requests.fetch_add(1, Ordering::SeqCst);
        let body =
            format!(r#"{{"code":0,"msg":"ok","tenant_access_token":"{TENANT_ACCESS_TOKEN}","expire":7200}}"#);
        let _ = answer(&mut stream, "200 OK", "application/json", body.as_bytes()).await;
        return;
    }
    let fault = plan(requests.fetch_add(1, Ordering::SeqCst));
    let _ = match fault {
        Fault::None => answer(&mut stream, "200 OK", "application/json", br#"{"code":0,"msg":"success","data":{}}"#).await,
        Fault::ResetMidResponse => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"code\":")
                .await;
            // A zero linger makes the close a reset; with zero it does not block the thread.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            Ok(())
        }
        Fault::StallAfterHeaders => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n").await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }
        Fault::TruncatedBody => stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"code\":0,")
            .await,
        Fault::HugeBody => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-tt-logid: {LOG_ID}\r\ncontent-length: 50000000\r\n\r\n"
            );
            flood(&mut stream, &head, 50_000_000, &most_written).await
        }
        Fault::HugeErrorBody => {
            let head = format!(
                "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\nx-tt-logid: {LOG_ID}\r\ntransfer-encoding: chunked\r\n\r\n"
            );
            flood(&mut stream, &head, usize::MAX, &most_written).await
        }
        Fault::InvalidUtf8 => answer(&mut stream, "200 OK", "application/json", b"{\"code\":0,\"msg\":\"\xff\xfe\"}").await,
        Fault::WrongContentType => answer(&mut stream, "200 OK", "text/html", b"<html><body>OK</body></html>").await,
        Fault::Html(status) => {
            let line = format!("{status} Gateway Error");
            let page = format!("<html><body><h1>{status}</h1></body></html>");
            answer(&mut stream, &line, "text/html", page.as_bytes()).await
        }
        Fault::NotEnvelope => answer(&mut stream, "200 OK", "application/json", br#"{"status":"ok"}"#).await,
        Fault::DropAfterRequest => Ok(()),
        Fault::RateLimited => {
            let body = br#"{"code":99991400,"msg":"request trigger frequency limit"}"#;
            let head = format!(
                "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nx-tt-logid: {LOG_ID}\r\nx-ogw-ratelimit-reset: 0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let mut all = head.into_bytes();
            all.extend_from_slice(body);
            stream.write_all(&all).await
        }
    };
}

/// Reads one request's head and body; returns its path.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer.len() - head_end;
    while body < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body += n;
    }
    head.split_whitespace().nth(1).map(str::to_owned)
}

async fn answer(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-tt-logid: {LOG_ID}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

/// Writes `head`, then up to `total` body bytes (chunked when `total` is unbounded) until the
/// client stops reading; notes how much went out.
async fn flood(
    stream: &mut TcpStream,
    head: &str,
    total: usize,
    most_written: &AtomicUsize,
) -> std::io::Result<()> {
    stream.write_all(head.as_bytes()).await?;
    let block = vec![b'x'; 64 * 1024];
    let chunked = total == usize::MAX;
    let mut written = 0usize;
    let result = async {
        while written < total {
            if chunked {
                stream
                    .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                    .await?;
                stream.write_all(&block).await?;
                stream.write_all(b"\r\n").await?;
            } else {
                stream
                    .write_all(&block[..block.len().min(total - written)])
                    .await?;
            }
            written += block.len();
            most_written.fetch_max(written, Ordering::SeqCst);
        }
        Ok(())
    }
    .await;
    result
}

/// A server that answers every request with the same raw bytes, whatever they are, then
/// closes the connection.
pub struct RawServer {
    pub base_url: String,
    answer: Arc<std::sync::Mutex<Vec<u8>>>,
    accept: JoinHandle<()>,
}

impl RawServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let bytes = Arc::clone(&answer);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    break;
                };
                let bytes = bytes.lock().unwrap().clone();
                tokio::spawn(async move {
                    if read_request(&mut stream).await.is_some() {
                        let _ = stream.write_all(&bytes).await;
                        let _ = stream.shutdown().await;
                    }
                });
            }
        });
        Self {
            base_url,
            answer,
            accept,
        }
    }

    /// Sets the bytes of every following answer.
    pub fn answer_with(&self, bytes: Vec<u8>) {
        *self.answer.lock().unwrap() = bytes;
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
