//! The local HTTP/1.1 server the variants call, on a thread of its own, and the runtime the client side runs on.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

pub(crate) const SUCCESS: &str = r#"{"code":0,"msg":"success","data":{}}"#;
pub(crate) const TOKEN: &str =
    r#"{"code":0,"msg":"ok","tenant_access_token":"t-7f1bcd13fc57d46bac21793a18e560","expire":7200}"#;

/// The headers (without `host`) and body of the last helpdesk request the server saw, so
/// that the bench can check that every variant sends the same bytes.
type LastRequest = Arc<std::sync::Mutex<Option<(Vec<(String, String)>, String)>>>;

/// The server: its base URL, a count of token requests, and the last helpdesk request.
pub(crate) struct Server {
    pub(crate) base_url: String,
    pub(crate) token_requests: Arc<AtomicUsize>,
    pub(crate) last_request: LastRequest,
}

/// Starts the server on its own thread.
pub(crate) fn start_server() -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let token_requests = Arc::new(AtomicUsize::new(0));
    let last_request = LastRequest::default();
    let counter = Arc::clone(&token_requests);
    let last = Arc::clone(&last_request);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let _ = stream.set_nodelay(true);
                let (counter, last) = (Arc::clone(&counter), Arc::clone(&last));
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (counter, last) = (Arc::clone(&counter), Arc::clone(&last));
                        async move {
                            let is_token = request.uri().path().ends_with("/tenant_access_token/internal");
                            let (parts, body) = request.into_parts();
                            let received = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let body = if is_token {
                                counter.fetch_add(1, Ordering::Relaxed);
                                TOKEN
                            } else {
                                let mut headers: Vec<(String, String)> = parts
                                    .headers
                                    .iter()
                                    .filter(|(name, _)| *name != "host")
                                    .map(|(name, value)| {
                                        (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into())
                                    })
                                    .collect();
                                headers.sort();
                                *last.lock().unwrap() =
                                    Some((headers, String::from_utf8_lossy(&received).into()));
                                SUCCESS
                            };
                            let response = hyper::Response::builder()
                                .header("content-type", "application/json; charset=utf-8")
                                .header("x-tt-logid", "20231125120000A1B2C3D4E5F6071829")
                                .body(Full::new(Bytes::from_static(body.as_bytes())))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Server {
        base_url: format!("http://{address}"),
        token_requests,
        last_request,
    }
}

/// Runs `future` on a current-thread runtime of this thread (whose allocations the counting
/// allocator sees), with a `LocalSet` for the `spawn_local` of the throughput runs.
pub(crate) fn block_on_local<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, future)
}
