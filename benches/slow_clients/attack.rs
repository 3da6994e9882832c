//! The attack and its measurement (Unix: `/proc`, `setrlimit`, `SIGTERM`).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use feishu_helpdesk::testing::{EventPusher, Fault, PushEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

const TOKEN: &str = "v-slow-clients-bench";
const HALF_HEAD: &[u8] = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n";
/// The receiver's header timeout (its default).
const HEADER_TIMEOUT: Duration = feishu_helpdesk::events::DEFAULT_HEADER_TIMEOUT;
/// A push is sent this often during the attack.
const PUSH_EVERY: Duration = Duration::from_millis(50);
/// The platform's deadline for an answer.
const PLATFORM_DEADLINE: Duration = Duration::from_secs(3);
/// How long a push or a connect may take before it counts as failed.
const GIVE_UP: Duration = Duration::from_secs(15);
/// The longest the attack's opening phase may last.
const MAX_OPENING: Duration = Duration::from_secs(120);

struct Settings {
    connections: usize,
    sources: u8,
    in_flight: usize,
    /// Connections opened a second; 0 for as fast as they go.
    rate: usize,
}

fn settings() -> Settings {
    let mut settings = Settings {
        connections: 20_000,
        sources: 4,
        in_flight: 256,
        rate: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{arg} takes a number"))
        };
        match arg.as_str() {
            "--connections" => settings.connections = value(),
            "--sources" => settings.sources = value().clamp(1, 200) as u8,
            "--in-flight" => settings.in_flight = value().max(1),
            "--rate" => settings.rate = value(),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    settings
}

/// Raises this process's open-file limit to hold `wanted` files (the hard limit too, where
/// allowed); the soft limit in force.
fn raise_file_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the struct lives here; the calls read and write it only.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_max < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: wanted,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return wanted;
            }
        }
        limit.rlim_cur = limit.rlim_cur.max(wanted.min(limit.rlim_max));
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// `feishu-helpdesk listen` on a free loopback port: the child, its address, and the lines
/// it writes to stderr (gathered by a thread).
fn start_receiver() -> (Child, SocketAddr, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feishu-helpdesk"))
        .args(["listen", "--addr", "127.0.0.1:0", "--path", "/events"])
        .env("FEISHU_VERIFICATION_TOKEN", TOKEN)
        .env_remove("FEISHU_ENCRYPT_KEY")
        .env_remove("FEISHU_REDIS_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("feishu-helpdesk listen starts");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (addr_tx, addr_rx) = mpsc::channel();
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("listening on http://") {
                let addr = rest.trim_end_matches("/events").to_owned();
                let _ = addr_tx.send(addr);
            }
            kept.lock().unwrap().push(line);
        }
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the receiver says where it listens");
    (child, addr.parse().unwrap(), lines)
}

/// The bytes of a valid push, `Connection: close`.
fn push_bytes() -> Vec<u8> {
    let event = PushEvent::new(
        "helpdesk.ticket.created_v1",
        serde_json::json!({"ticket_id": "6948728206392295444"}),
    );
    let (headers, body) = EventPusher::new(TOKEN).request(&event, Fault::None);
    let mut request = format!(
        "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in &headers {
        request.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// One push on a new connection: its status (None if none came) and latency.
async fn push(addr: SocketAddr) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let answer = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(&push_bytes()).await.ok()?;
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).await.ok()?;
        std::str::from_utf8(seen.get(9..12)?).ok()?.parse().ok()
    };
    let status = tokio::time::timeout(GIVE_UP, answer).await.ok().flatten();
    (status, started.elapsed())
}

/// What became of one slow connection.
struct Slow {
    /// When its half head was sent, from the attack's start; `None` if it never connected.
    sent_at: Option<Duration>,
    /// How long after its half head the receiver closed it; `None` if it did not.
    closed_after: Option<Duration>,
}

/// One slow connection from `source`: connect, half a head, then wait for the close.
async fn slow_connection(
    addr: SocketAddr,
    source: Ipv4Addr,
    started: Instant,
    opening: Arc<Semaphore>,
    wait: Duration,
) -> Slow {
    let permit = opening.acquire_owned().await.unwrap();
    if started.elapsed() > MAX_OPENING {
        return Slow {
            sent_at: None,
            closed_after: None,
        };
    }
    let connect = async {
        let socket = TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::from((source, 0))).ok()?;
        let mut stream = socket.connect(addr).await.ok()?;
        stream.write_all(HALF_HEAD).await.ok()?;
        Some(stream)
    };
    let stream = tokio::time::timeout(GIVE_UP, connect).await.ok().flatten();
    drop(permit);
    let Some(mut stream) = stream else {
        return Slow {
            sent_at: None,
            closed_after: None,
        };
    };
    let sent = Instant::now();
    let mut buffer = [0u8; 256];
    let closed = tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok();
    Slow {
        sent_at: Some(sent - started),
        closed_after: closed.then(|| sent.elapsed()),
    }
}

/// The `q` quantile of sorted `values`.
fn quantile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values[((values.len() - 1) as f64 * q).round() as usize]
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

/// The receiver's open files and peak resident memory (KiB), from /proc.
fn receiver_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

fn receiver_peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

pub fn main() {
    let settings = settings();
    let limit = raise_file_limit(settings.connections as u64 + 4096);
    let (mut receiver, addr, logged) = start_receiver();
    let pid = receiver.id();
    println!(
        "receiver: feishu-helpdesk listen on {addr} (pid {pid}), open-file limit {limit}; \
         {} slow connections from {} source address(es), {} connects in flight, {}",
        settings.connections,
        settings.sources,
        settings.in_flight,
        match settings.rate {
            0 => "as fast as they go".to_owned(),
            rate => format!("{rate} a second"),
        }
    );

    // The pushes run on a thread and runtime of their own, so that the attack's tasks do not
    // delay them in this process.
    let attack_over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pushes = {
        let attack_over = attack_over.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                // Before the attack: the baseline.
                let mut before = Vec::new();
                for _ in 0..20 {
                    before.push(push(addr).await);
                }
                let mut during = Vec::new();
                let mut ticks = tokio::time::interval(PUSH_EVERY);
                while !attack_over.load(std::sync::atomic::Ordering::Relaxed) {
                    ticks.tick().await;
                    during.push(tokio::spawn(push(addr)));
                }
                let mut answered = Vec::new();
                for push in during {
                    answered.push(push.await.unwrap());
                }
                (before, answered)
            })
        })
    };
    // Files and memory, sampled.
    let sampling = {
        let attack_over = attack_over.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !attack_over.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(receiver_files(pid));
                std::thread::sleep(Duration::from_millis(250));
            }
            peak
        })
    };
    std::thread::sleep(Duration::from_secs(2));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let slow = runtime.block_on(async {
        let opening = Arc::new(Semaphore::new(settings.in_flight));
        let started = Instant::now();
        let wait = HEADER_TIMEOUT + Duration::from_secs(20);
        let mut tasks = Vec::with_capacity(settings.connections);
        for n in 0..settings.connections {
            if settings.rate > 0 {
                let due = started + Duration::from_secs_f64(n as f64 / settings.rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
            let source = Ipv4Addr::new(127, 0, 0, 2 + (n % usize::from(settings.sources)) as u8);
            tasks.push(tokio::spawn(slow_connection(
                addr,
                source,
                started,
                opening.clone(),
                wait,
            )));
        }
        let mut slow = Vec::with_capacity(tasks.len());
        for task in tasks {
            slow.push(task.await.unwrap());
        }
        slow
    });
    attack_over.store(true, std::sync::atomic::Ordering::Relaxed);
    let (before, during) = pushes.join().unwrap();
    let peak_files = sampling.join().unwrap();
    let peak_kib = receiver_peak_kib(pid);

    // SIGTERM, as a service manager stops it.
    let stopping = Instant::now();
    // SAFETY: a signal to the child this process started.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let status = receiver.wait().unwrap();
    let stop_took = stopping.elapsed();

    let connected: Vec<&Slow> = slow.iter().filter(|s| s.sent_at.is_some()).collect();
    let mut closed: Vec<Duration> = connected.iter().filter_map(|s| s.closed_after).collect();
    closed.sort();
    let still_open = connected.len() - closed.len();
    let by_timeout = closed
        .iter()
        .filter(|d| **d >= HEADER_TIMEOUT.mul_f64(0.95))
        .count();
    let last_sent = connected
        .iter()
        .filter_map(|s| s.sent_at)
        .max()
        .unwrap_or_default();
    println!();
    println!("slow connections");
    println!(
        "  opened: {} of {} in {} ({:.0}/s); {} failed to connect",
        connected.len(),
        slow.len(),
        ms(last_sent),
        connected.len() as f64 / last_sent.as_secs_f64().max(0.001),
        slow.len() - connected.len()
    );
    println!(
        "  closed by the receiver: {} ({} at the header timeout of {:?}, {} shed earlier); \
         still open after {:?}: {still_open}",
        closed.len(),
        by_timeout,
        HEADER_TIMEOUT,
        closed.len() - by_timeout,
        HEADER_TIMEOUT + Duration::from_secs(20)
    );
    println!(
        "  time from half head to close: p50 {}, p99 {}, max {}",
        ms(quantile(&closed, 0.5)),
        ms(quantile(&closed, 0.99)),
        ms(closed.last().copied().unwrap_or_default())
    );
    println!(
        "  receiver: peak {peak_files} open files (sampled every 250 ms), peak resident memory {} MiB",
        peak_kib / 1024
    );
    for (name, pushes) in [("before the attack", &before), ("during the attack", &during)] {
        let mut latencies: Vec<Duration> = pushes.iter().map(|(_, latency)| *latency).collect();
        latencies.sort();
        let ok = pushes.iter().filter(|(status, _)| *status == Some(200)).count();
        let late = pushes
            .iter()
            .filter(|(status, latency)| *status != Some(200) || *latency > PLATFORM_DEADLINE)
            .count();
        println!(
            "pushes {name}: {} sent, {ok} answered 200, {late} not answered 200 within 3 s; \
             latency p50 {}, p99 {}, max {}",
            pushes.len(),
            ms(quantile(&latencies, 0.5)),
            ms(quantile(&latencies, 0.99)),
            ms(latencies.last().copied().unwrap_or_default())
        );
    }
    println!("receiver stopped on SIGTERM in {} ({status})", ms(stop_took));
    for line in logged.lock().unwrap().iter().filter(|line| line.contains("WARN")) {
        println!("  receiver log: {line}");
    }
    let failed_pushes = during
        .iter()
        .filter(|(status, latency)| *status != Some(200) || *latency > PLATFORM_DEADLINE)
        .count();
    let late_closes = closed
        .iter()
        .filter(|d| **d > HEADER_TIMEOUT + Duration::from_secs(1))
        .count();
    if failed_pushes > 0 || still_open > 0 || late_closes > 0 || !status.success() {
        println!(
            "FAILED: {failed_pushes} push(es) not answered within 3 s, {still_open} slow \
             connection(s) left open, {late_closes} closed over 1 s after the header timeout"
        );
        std::process::exit(1);
    }
    println!("OK: every push answered within 3 s, every half head closed within the header timeout (+1 s)");
}
