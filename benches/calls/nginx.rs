//! The server the calls go to: nginx in a process of its own, answering fixed bodies, so
//! that the measured process holds the client alone (its time and CPU are the client's).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The success envelope, as the platform sends it for `unsubscribe` (and, with an empty
/// `data`, for `get_ticket`: both calls decode the same answer).
const SUCCESS: &str = r#"{"code":0,"msg":"success","data":{}}"#;
const TOKEN: &str =
    r#"{"code":0,"msg":"ok","tenant_access_token":"t-7f1bcd13fc57d46bac21793a18e560","expire":7200}"#;

/// A running nginx; stopped when dropped.
pub(crate) struct Nginx {
    pub(crate) base_url: String,
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The nginx binary: `$NGINX`, else `nginx` on the `PATH` or in `/usr/sbin`.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NGINX") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

fn config(dir: &std::path::Path, port: u16) -> String {
    let dir = dir.display();
    // One worker, no logs, keep-alive without limit: as little work per request as nginx does.
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} reuseport;
        default_type "application/json; charset=utf-8";
        add_header x-tt-logid 20231125120000A1B2C3D4E5F6071829 always;
        location = /open-apis/auth/v3/tenant_access_token/internal {{ return 200 '{TOKEN}'; }}
        location /open-apis/helpdesk/v1/ {{ return 200 '{SUCCESS}'; }}
    }}
}}
"#
    )
}

/// Starts nginx on a free loopback port and waits until it answers. `None` (with the reason
/// printed) where nginx is not installed or does not start.
pub(crate) fn start() -> Option<Nginx> {
    let Some(binary) = binary() else {
        eprintln!("nginx not found (install Debian's nginx-light, or set NGINX to its path)");
        return None;
    };
    let dir = std::env::temp_dir().join(format!("feishu-helpdesk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    std::fs::write(dir.join("nginx.conf"), config(&dir, port)).ok()?;
    let child = Command::new(&binary)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|err| eprintln!("could not start {}: {err}", binary.display()))
        .ok()?;
    let nginx = Nginx {
        base_url: format!("http://127.0.0.1:{port}"),
        child,
        dir,
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(nginx);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("nginx did not listen on port {port} within 10 s");
    None
}
