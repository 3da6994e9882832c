//! Fixtures for the integration tests: an httpmock server for answers of any shape, and
//! (in `faulty`) a server that misbehaves on purpose. The contract itself is enforced in
//! one place, the `testing` kit's `MockPlatform`.

#![allow(dead_code)] // Shared by two test binaries, each using a part.

pub mod faulty;
#[cfg(feature = "redis")]
pub mod redis_server;

use std::io::Write;
use std::sync::{Arc, Mutex};

use httpmock::prelude::*;
use httpmock::Mock;

/// A tenant access token in the platform's format (the reference page's example).
pub const TENANT_ACCESS_TOKEN: &str = "t-7f1bcd13fc57d46bac21793a18e560";
/// A helpdesk id.
pub const HELPDESK_ID: &str = "7180000000000000001";
/// A helpdesk token.
pub const HELPDESK_TOKEN: &str = "ht-example";
/// `base64("7180000000000000001:ht-example")`, computed independently of the library.
pub const HELPDESK_HEADER: &str = "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl";
/// An app id.
pub const APP_ID: &str = "cli_a1b2c3d4e5f6a7b8";
/// An app secret.
pub const APP_SECRET: &str = "dskLLdkasdjlasdKK";
/// The path of the token endpoint.
pub const TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
/// The log id the stand-in answers with.
pub const LOG_ID: &str = "20231125120000A1B2C3D4E5F6071829";

pub const UNSUBSCRIBE_PATH: &str = "/open-apis/helpdesk/v1/events/unsubscribe";

/// An httpmock server on a free loopback port, for answers of any shape.
pub struct StandIn {
    pub server: MockServer,
}

impl StandIn {
    pub async fn start() -> Self {
        Self {
            server: MockServer::start_async().await,
        }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// A client builder with the stand-in's credentials, pointed at the stand-in.
    pub fn builder(&self) -> feishu_helpdesk::ClientBuilder {
        feishu_helpdesk::Client::builder()
            .tenant_access_token(TENANT_ACCESS_TOKEN)
            .helpdesk_credentials(HELPDESK_ID, HELPDESK_TOKEN)
            .base_url(self.base_url())
    }

    /// A client with the stand-in's credentials, pointed at the stand-in.
    pub fn client(&self) -> feishu_helpdesk::Client {
        self.builder()
            .build()
            .expect("the stand-in's client configuration is valid")
    }

    /// Answers any request on `path` with `status`, `body` and the stand-in's log id.
    pub async fn answer(&self, path: &str, status: u16, content_type: &str, body: &str) -> Mock<'_> {
        let (content_type, body) = (content_type.to_owned(), body.to_owned());
        self.server
            .mock_async(|when, then| {
                when.method(POST).path(path);
                then.status(status)
                    .header("content-type", content_type)
                    .header("x-tt-logid", LOG_ID)
                    .body(body);
            })
            .await
    }
}

/// Everything a `tracing` subscriber writes, kept for inspection.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Installs a TRACE-level subscriber writing here, for the current thread.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A loopback base URL with nobody listening (a port bound, then released).
pub fn unreachable_base_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// Every Rust file under `src/`, with its module's name in `lib.rs` (a folder's files are
/// the folder's module) and its text, sorted by path.
pub fn source_files() -> Vec<(String, std::path::PathBuf, String)> {
    fn walk(
        dir: &std::path::Path,
        module: Option<&str>,
        out: &mut Vec<(String, std::path::PathBuf, String)>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if path.is_dir() {
                walk(&path, Some(module.unwrap_or(&stem)), out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((module.map_or(stem, str::to_owned), path, text));
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        None,
        &mut files,
    );
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files
}
