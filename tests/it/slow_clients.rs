//! `events::serve` against slow and idle clients, from a raw TCP client: half-sent heads,
//! slow bodies and idle keep-alive connections are closed after their timeouts; at the cap the
//! oldest incomplete connection is shed and a push still answered; the accept loop outlives
//! running out of files (in a child process with a low `RLIMIT_NOFILE`).
//!
//! The timeouts are short (600 ms) and the margins wide (several seconds), for a loaded
//! machine: a connection must not close before about its timeout, and must close well within
//! seconds after it.

use std::net::SocketAddr;
use std::time::Duration;

use feishu_helpdesk::events::{self, HelpdeskEvent, Receiver, Serve};
use feishu_helpdesk::testing::{EventPusher, Fault, PushEvent};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::{timeout, Instant};

const TOKEN: &str = "v-slow-clients";
/// The short timeout the tests set.
const SHORT: Duration = Duration::from_millis(600);
/// A timeout the tests set where another one must act first.
const LONG: Duration = Duration::from_secs(60);
/// How long past its timeout a connection may take to close on a loaded machine.
const MARGIN: Duration = Duration::from_secs(5);
/// A head that is never finished: no blank line.
const HALF_HEAD: &[u8] = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n";

/// A running server and the sender that stops it.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves a receiver at `/events` with the settings `settings` gives.
async fn start(settings: impl FnOnce(Serve) -> Serve) -> Server {
    start_with_handler_taking(Duration::ZERO, settings).await
}

/// The same, with a handler that takes `handling` for each event.
async fn start_with_handler_taking(handling: Duration, settings: impl FnOnce(Serve) -> Serve) -> Server {
    let receiver = Receiver::builder().verification_token(TOKEN).build().unwrap();
    let app = axum::Router::new().route(
        "/events",
        receiver.into_service(move |_: HelpdeskEvent| async move {
            tokio::time::sleep(handling).await;
            Ok::<(), std::convert::Infallible>(())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = oneshot::channel();
    let serve = settings(events::serve(listener, app)).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let addr = serve.local_addr().unwrap();
    Server {
        addr,
        stop: Some(stop),
        done: tokio::spawn(async move { serve.await }),
    }
}

/// The bytes of a valid push, as the platform sends it; `Connection: close` unless
/// `keep_alive`.
fn push(keep_alive: bool) -> Vec<u8> {
    let event = PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "6948728206392295444"}),
    );
    let (headers, body) = EventPusher::new(TOKEN).request(&event, Fault::None);
    let mut request = format!(
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in &headers {
        request.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    if !keep_alive {
        request.push_str("Connection: close\r\n");
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Reads one answer: its status, once its head and its `Content-Length` body are in.
async fn read_answer(stream: &mut TcpStream) -> u16 {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if seen.len() >= end + 4 + length {
                return head[9..12].parse().unwrap();
            }
        }
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(
            read > 0,
            "closed before a whole answer: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..read]);
    }
}

/// Sends a valid push on a new connection; its status and how long the answer took.
async fn push_once(addr: SocketAddr) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&push(false)).await.unwrap();
    let status = timeout(MARGIN, read_answer(&mut stream))
        .await
        .expect("a push answered within 5 s");
    let took = started.elapsed();
    // `Connection: close`: the server closes it after the answer.
    assert!(closed_within(&mut stream, MARGIN).await.is_some());
    (status, took)
}

/// A new connection that has sent `bytes`.
async fn connect_and_send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Reads until the server closes the connection, for at most `limit`: what it sent, or `None`
/// if it is still open then.
async fn closed_within(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    let reading = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => seen.extend_from_slice(&chunk[..read]),
            }
        }
    };
    timeout(limit, reading).await.ok().map(|()| seen)
}

/// Writes `bytes` one every 100 ms, until they run out or the server has closed.
async fn trickle(stream: &mut (impl AsyncWrite + Unpin), bytes: &[u8]) {
    for byte in bytes {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if stream.write_all(&[*byte]).await.is_err() {
            return;
        }
    }
}

/// Trickles `bytes` on `stream` until the server closes it: what it sent, and how long it
/// took from `since`, asserted after about `timeout` and not before.
async fn closed_while_trickling(
    stream: &mut TcpStream,
    bytes: &[u8],
    since: Instant,
    timeout: Duration,
) -> Vec<u8> {
    let (mut reading, mut writing) = stream.split();
    let seen = tokio::select! {
        seen = closed_within(&mut reading, timeout + MARGIN) => seen,
        () = trickle(&mut writing, bytes) => closed_within(&mut reading, MARGIN).await,
    };
    let seen = seen.expect("closed after its timeout");
    let took = since.elapsed();
    assert!(
        took >= timeout.mul_f64(0.8),
        "closed before its timeout: {took:?}"
    );
    assert!(took < timeout + MARGIN, "closed {took:?} after");
    seen
}

/// Asserts the connection closes after about `timeout` from `since`, not before.
async fn assert_closed_after(stream: &mut TcpStream, since: Instant, timeout: Duration) -> Vec<u8> {
    let early = timeout.mul_f64(0.8).saturating_sub(since.elapsed());
    assert!(
        closed_within(stream, early).await.is_none(),
        "closed before its timeout"
    );
    let seen = closed_within(stream, timeout + MARGIN)
        .await
        .expect("closed after its timeout");
    assert!(since.elapsed() < timeout + MARGIN);
    seen
}

impl Server {
    /// Stops the server and waits for its future.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        timeout(Duration::from_secs(15), self.done)
            .await
            .expect("the server stopped")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn half_sent_heads_are_closed_after_the_header_timeout() {
    let server = start(|serve| serve.header_timeout(SHORT).idle_timeout(LONG)).await;
    let opened = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(connect_and_send(server.addr, HALF_HEAD).await);
    }
    // The timeout is for the whole head, not for each read: a byte every 100 ms does not keep
    // a connection open.
    let mut trickling = connect_and_send(server.addr, b"P").await;
    let seen = closed_while_trickling(&mut trickling, &HALF_HEAD[1..], Instant::now(), SHORT).await;
    assert_eq!(seen, Vec::<u8>::new(), "closed unanswered");

    for stream in &mut slow {
        let seen = closed_within(stream, SHORT + MARGIN).await;
        assert_eq!(seen, Some(Vec::new()), "closed unanswered");
    }
    assert!(opened.elapsed() >= SHORT.mul_f64(0.8));
    assert!(opened.elapsed() < SHORT + MARGIN);
    // A push is answered as ever.
    assert_eq!(push_once(server.addr).await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_half_sent_head_stays_open_until_its_timeout() {
    let server = start(|serve| serve.header_timeout(Duration::from_secs(2))).await;
    let opened = Instant::now();
    let mut slow = connect_and_send(server.addr, HALF_HEAD).await;
    assert_closed_after(&mut slow, opened, Duration::from_secs(2)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_slow_body_is_answered_408_and_closed() {
    let server = start(|serve| serve.header_timeout(LONG).body_timeout(SHORT)).await;
    let head = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"a\":";
    let mut slow = connect_and_send(server.addr, head).await;
    let seen = closed_while_trickling(&mut slow, &[b' '; 990], Instant::now(), SHORT).await;
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.starts_with("HTTP/1.1 408"), "{seen}");
    assert!(seen.to_ascii_lowercase().contains("connection: close"), "{seen}");
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start(|serve| serve.header_timeout(LONG).idle_timeout(SHORT)).await;
    let mut stream = connect_and_send(server.addr, &push(true)).await;
    assert_eq!(read_answer(&mut stream).await, 200);
    // A next request within the idle timeout is served on the same connection, and starts
    // the idle time anew.
    tokio::time::sleep(SHORT / 3).await;
    stream.write_all(&push(true)).await.unwrap();
    assert_eq!(read_answer(&mut stream).await, 200);
    let answered = Instant::now();
    assert_eq!(
        assert_closed_after(&mut stream, answered, SHORT).await,
        Vec::<u8>::new()
    );
    server.stop().await;
}

#[tokio::test]
async fn at_the_cap_the_oldest_incomplete_connection_is_shed_and_a_push_answered() {
    let server = start(|serve| serve.header_timeout(LONG).body_timeout(LONG).max_connections(8)).await;
    // The oldest connection is sending a body: it goes after those still sending a head.
    let mut sending_body = connect_and_send(
        server.addr,
        b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut waiting = Vec::new();
    for _ in 0..7 {
        waiting.push(connect_and_send(server.addr, HALF_HEAD).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The cap is reached: each push sheds the oldest connection still sending its head. A new
    // slow connection after each push fills the place the push left.
    for shed in 0..3 {
        let (status, took) = push_once(server.addr).await;
        assert_eq!(status, 200);
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert!(
            closed_within(&mut waiting[shed], MARGIN).await.is_some(),
            "connection {shed} shed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        waiting.push(connect_and_send(server.addr, HALF_HEAD).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (at, stream) in waiting.iter_mut().enumerate().skip(3) {
        assert!(
            closed_within(stream, Duration::from_millis(200)).await.is_none(),
            "connection {at} is still open"
        );
    }
    assert!(closed_within(&mut sending_body, Duration::from_millis(200))
        .await
        .is_none());
    server.stop().await;
}

#[tokio::test]
async fn stopping_closes_waiting_connections_and_ends_the_server() {
    let server = start(|serve| serve.header_timeout(LONG)).await;
    let addr = server.addr;
    let mut slow = connect_and_send(addr, HALF_HEAD).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = Instant::now();
    server.stop().await;
    assert!(stopped.elapsed() < MARGIN);
    assert!(closed_within(&mut slow, MARGIN).await.is_some());
    assert!(TcpStream::connect(addr).await.is_err(), "no longer listening");
}

#[tokio::test]
async fn stopping_answers_the_request_under_way() {
    let server = start_with_handler_taking(Duration::from_millis(800), |serve| serve).await;
    let mut stream = connect_and_send(server.addr, &push(true)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(server.stop());
    let status = timeout(MARGIN, read_answer(&mut stream))
        .await
        .expect("answered while stopping");
    assert_eq!(status, 200);
    // Then closed, keep-alive or not, and the server's future resolves.
    assert!(closed_within(&mut stream, MARGIN).await.is_some());
    timeout(MARGIN, stopping).await.unwrap().unwrap();
}

/// The environment variable that makes [`out_of_files_child`] the server.
#[cfg(unix)]
const CHILD: &str = "FEISHU_HELPDESK_SLOW_CLIENTS_CHILD";

#[cfg(unix)]
#[tokio::test]
async fn the_accept_loop_survives_running_out_of_files() {
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;

    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "slow_clients::out_of_files_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut tell = child.stdin.take().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let mut hear = async |expected: &str| -> String {
        loop {
            let line = timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("the child answers")
                .unwrap()
                .expect("the child is running");
            // The test harness may print its own words before it on the line.
            if let Some((_, rest)) = line.split_once(expected) {
                return rest.trim().to_owned();
            }
        }
    };
    let port: u16 = hear("LISTENING").await.parse().unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Out of files with no connection to shed: accepting fails, and goes on failing until
    // files are free again; the push waiting meanwhile is answered then.
    tell.write_all(b"exhaust\n").await.unwrap();
    hear("EXHAUSTED").await;
    let pending = tokio::spawn(push_once(addr));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!pending.is_finished(), "answered while out of files");
    tell.write_all(b"release\n").await.unwrap();
    hear("RELEASED").await;
    assert_eq!(pending.await.unwrap().0, 200);

    // Out of files with connections waiting for their heads: the oldest is shed to free a
    // file, and the push answered at once.
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(connect_and_send(addr, HALF_HEAD).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    tell.write_all(b"exhaust\n").await.unwrap();
    hear("EXHAUSTED").await;
    let (status, took) = push_once(addr).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(closed_within(&mut waiting[0], MARGIN).await.is_some());
    assert!(closed_within(&mut waiting[2], Duration::from_millis(200))
        .await
        .is_none());

    drop(tell);
    let status = timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the child ends")
        .unwrap();
    let mut logged = String::new();
    stderr.read_to_string(&mut logged).await.unwrap();
    assert!(status.success(), "{logged}");
    assert!(
        logged.contains("accepting a connection failed"),
        "the failures are logged: {logged}"
    );
}

/// The server of the test above, in a process of its own with at most 128 open files: it
/// opens files until none is left on `exhaust`, closes them on `release`, and ends when its
/// standard input does.
#[cfg(unix)]
#[test]
#[ignore = "the child process of the_accept_loop_survives_running_out_of_files"]
fn out_of_files_child() {
    use std::io::BufRead;

    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the struct lives here; the calls read and write it only.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = 128;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = start(|serve| serve.header_timeout(LONG)).await;
        println!("LISTENING {}", server.addr.port());
        let commands = tokio::task::spawn_blocking(|| {
            let mut files = Vec::new();
            for line in std::io::stdin().lock().lines() {
                match line.unwrap().as_str() {
                    "exhaust" => {
                        while let Ok(file) = std::fs::File::open("/dev/null") {
                            files.push(file);
                        }
                        println!("EXHAUSTED {}", files.len());
                    }
                    "release" => {
                        files.clear();
                        println!("RELEASED");
                    }
                    _ => {}
                }
            }
        });
        commands.await.unwrap();
        server.stop().await;
    });
}
