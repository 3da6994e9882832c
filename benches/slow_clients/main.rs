//! A slow-loris attack on `feishu-helpdesk listen`, measured from outside: the command runs
//! in a child process on loopback, as users run it; this process opens N connections at full
//! speed that each send half a request head (no blank line) and then nothing, and meanwhile
//! sends a valid push every 50 ms on a new connection.
//!
//! It prints how fast the slow connections were opened, how long until the receiver closed
//! each (from its half head), the receiver's peak open files and memory, and the pushes sent
//! during the attack: how many were answered 200, their latency (p50, p99, max) and how many
//! took over 3 s (the platform's deadline).
//!
//! `cargo bench --features cli --bench slow_clients -- [--connections N] [--sources N]
//! [--in-flight N] [--rate N]`
//!
//! `--rate` opens N connections a second rather than as fast as they go; `--sources` spreads the slow connections over 127.0.0.2, 127.0.0.3, … (loopback
//! addresses), for more than one address's ephemeral ports; `--in-flight` is how many connects
//! are under way at once (default 256). As root it raises its own open-file limit (hard and
//! soft) to hold every connection; the receiver inherits it, and raises its soft limit to it.

#[cfg(unix)]
mod attack;

fn main() {
    #[cfg(unix)]
    attack::main();
    #[cfg(not(unix))]
    println!("the slow_clients bench needs a Unix system (/proc, setrlimit, SIGTERM)");
}
