//! The platform's side of event delivery, for testing receivers: pushes exactly as the
//! platform sends them (a 2.0 envelope with a fresh `event_id`, encrypted and signed when an
//! Encrypt Key is set), its retry schedule (scaled, so that a test sees the retries in
//! milliseconds), and faults on demand.

use std::time::{Duration, Instant};

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The platform's retry schedule: the waits after the first push and after each retry.
pub const RETRY_SCHEDULE: [Duration; 4] = [
    Duration::from_secs(15),
    Duration::from_secs(5 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

/// How long the platform waits for an answer before it counts a push as failed.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(3);

/// An event to push: its type and payload; the envelope is made at each push.
#[derive(Clone, Debug, PartialEq)]
pub struct PushEvent {
    /// The pushed event type, such as `helpdesk.ticket.created_v1`.
    pub event_type: String,
    /// The `event` object.
    pub event: Value,
    /// The envelope's `event_id`: fresh for each new event, the same on its retries.
    pub event_id: String,
}

impl PushEvent {
    /// An event of `event_type` with `payload` (a generated payload type, or any JSON), and a
    /// fresh `event_id`.
    ///
    /// # Panics
    ///
    /// If `payload` does not serialise to JSON.
    pub fn new(event_type: impl Into<String>, payload: impl serde::Serialize) -> Self {
        Self {
            event_type: event_type.into(),
            event: serde_json::to_value(payload).expect("the payload serialises to JSON"),
            event_id: format!("{:032x}", fastrand::u128(..)),
        }
    }

    /// The same payload as a new event (another `event_id`).
    pub fn renewed(&self) -> Self {
        Self::new(self.event_type.clone(), self.event.clone())
    }
}

/// What a push does wrong on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// None: as the platform sends it.
    #[default]
    None,
    /// The signature of another body.
    TamperedSignature,
    /// Another verification token inside.
    WrongToken,
    /// A body over 1 MiB (padding inside the JSON).
    Oversized,
}

/// One HTTP request of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The answer's status; `None` when there was none within the deadline or the connection failed.
    pub status: Option<u16>,
    /// How long the answer took.
    pub latency: Duration,
    /// When the attempt was sent, from the first.
    pub sent_at: Duration,
}

/// Every attempt of one event's delivery, and whether it ended delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The attempts in order: the first push, then the retries.
    pub attempts: Vec<Attempt>,
    /// Whether an attempt was answered 200 within the deadline.
    pub delivered: bool,
}

/// Pushes events to a URL as the platform does.
///
/// ```no_run
/// # async fn run() {
/// use feishu_helpdesk::testing::{EventPusher, PushEvent};
///
/// let pusher = EventPusher::new("v-verification-token")
///     .encrypt_key("encrypt-key")
///     .retry_scale(0.001); // 15 s becomes 15 ms
/// let event = PushEvent::new("helpdesk.ticket.created_v1", serde_json::json!({"ticket_id": "1"}));
/// let delivery = pusher.deliver("http://127.0.0.1:3000/", &event).await;
/// assert!(delivery.delivered);
/// # }
/// ```
#[derive(Clone)]
pub struct EventPusher {
    verification_token: String,
    encrypt_key: Option<String>,
    retry_scale: f64,
    deadline: Duration,
    app_id: String,
    tenant_key: String,
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for EventPusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPusher")
            .field("encrypted", &self.encrypt_key.is_some())
            .field("retry_scale", &self.retry_scale)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl EventPusher {
    /// Pushes with this verification token inside, in plaintext, on the platform's own
    /// schedule (see [`retry_scale`](Self::retry_scale)).
    pub fn new(verification_token: impl Into<String>) -> Self {
        Self {
            verification_token: verification_token.into(),
            encrypt_key: None,
            retry_scale: 1.0,
            deadline: DELIVERY_DEADLINE,
            app_id: super::APP_ID.to_owned(),
            tenant_key: TENANT_KEY.to_owned(),
            // Without one (TLS could not be set up), every push fails as a lost connection does.
            http: crate::http_client::library_http_client(DELIVERY_DEADLINE).ok(),
        }
    }

    /// Encrypts and signs every push with this Encrypt Key.
    pub fn encrypt_key(mut self, key: impl Into<String>) -> Self {
        self.encrypt_key = Some(key.into());
        self
    }

    /// Multiplies the retry schedule ([`RETRY_SCHEDULE`]) by `factor`: 0.001 turns 15 s,
    /// 5 min, 1 h and 6 h into 15 ms, 300 ms, 3.6 s and 21.6 s.
    pub fn retry_scale(mut self, factor: f64) -> Self {
        self.retry_scale = factor.max(0.0);
        self
    }

    /// How long an answer may take before the push counts as failed
    /// ([`DELIVERY_DEADLINE`] unless set).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The waits between attempts, as this pusher scales them.
    pub fn schedule(&self) -> Vec<Duration> {
        RETRY_SCHEDULE
            .iter()
            .map(|wait| wait.mul_f64(self.retry_scale))
            .collect()
    }

    /// Delivers `event` to `url`: pushes it, then again after each wait of the schedule until
    /// an attempt is answered 200 within the deadline or the retries run out.
    pub async fn deliver(&self, url: &str, event: &PushEvent) -> Delivery {
        let started = Instant::now();
        let mut attempts = Vec::new();
        for wait in std::iter::once(Duration::ZERO).chain(self.schedule()) {
            tokio::time::sleep(wait).await;
            let attempt = self.attempt(url, self.body(event, Fault::None), started).await;
            let delivered = attempt.status == Some(200);
            attempts.push(attempt);
            if delivered {
                return Delivery {
                    attempts,
                    delivered: true,
                };
            }
        }
        Delivery {
            attempts,
            delivered: false,
        }
    }

    /// One push of `event`, with `fault`, and no retry.
    pub async fn push_once(&self, url: &str, event: &PushEvent, fault: Fault) -> Attempt {
        self.attempt(url, self.body(event, fault), Instant::now()).await
    }

    /// The same event pushed to each URL at once (replicas behind a load balancer, or a
    /// duplicate push), one attempt each.
    pub async fn push_concurrently(&self, urls: &[&str], event: &PushEvent) -> Vec<Attempt> {
        let started = Instant::now();
        let pushes = urls
            .iter()
            .map(|url| self.attempt(url, self.body(event, Fault::None), started));
        futures_util::future::join_all(pushes).await
    }

    /// The URL verification: returns the status and the `challenge` answered, if any.
    pub async fn challenge(&self, url: &str) -> (Option<u16>, Option<String>) {
        let challenge = format!("{:016x}", fastrand::u64(..));
        let plain =
            json!({ "challenge": challenge, "token": self.verification_token, "type": "url_verification" });
        let body = match &self.encrypt_key {
            Some(key) => encrypted(key, plain.to_string().as_bytes()),
            None => plain.to_string().into_bytes(),
        };
        // The platform sends the challenge unsigned.
        let Some(http) = &self.http else {
            return (None, None);
        };
        let answer = http.post(url).body(body).timeout(self.deadline).send().await;
        let Ok(answer) = answer else { return (None, None) };
        let status = answer.status().as_u16();
        let answered = answer.json::<Value>().await.ok();
        let echoed = answered.and_then(|a| a["challenge"].as_str().map(str::to_owned));
        (Some(status), echoed.filter(|echoed| *echoed == challenge))
    }

    /// The headers and body of a push of `event`, with `fault`, byte for byte as the platform
    /// would send them: for a test that calls [`Receiver::handle`](crate::events::Receiver::handle)
    /// without HTTP.
    pub fn request(&self, event: &PushEvent, fault: Fault) -> (http::HeaderMap, Vec<u8>) {
        let (body, headers) = self.body(event, fault);
        let headers = headers
            .into_iter()
            .filter_map(|(name, value)| Some((http::HeaderName::from_static(name), value.parse().ok()?)))
            .collect();
        (headers, body)
    }

    /// The body of a push of `event` (and its signature headers), with `fault`.
    fn body(&self, event: &PushEvent, fault: Fault) -> (Vec<u8>, Vec<(&'static str, String)>) {
        let token = match fault {
            Fault::WrongToken => "v-not-the-verification-token",
            _ => &self.verification_token,
        };
        let create_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let padding = (fault == Fault::Oversized).then(|| " ".repeat(1024 * 1024 + 1));
        let plaintext = envelope(event, token, &self.app_id, &self.tenant_key, create_time, padding);
        let Some(key) = &self.encrypt_key else {
            return (plaintext, Vec::new());
        };
        let body = encrypted(key, &plaintext);
        let timestamp = (create_time / 1000).to_string();
        let nonce = format!("{:08x}", fastrand::u32(..));
        let signed_body = match fault {
            Fault::TamperedSignature => b"{\"encrypt\":\"another body\"}".to_vec(),
            _ => body.clone(),
        };
        let signature = signature(&timestamp, &nonce, key, &signed_body);
        let headers = vec![
            ("x-lark-request-timestamp", timestamp),
            ("x-lark-request-nonce", nonce),
            ("x-lark-signature", signature),
        ];
        (body, headers)
    }

    async fn attempt(
        &self,
        url: &str,
        (body, headers): (Vec<u8>, Vec<(&'static str, String)>),
        started: Instant,
    ) -> Attempt {
        let sent_at = started.elapsed();
        let Some(http) = &self.http else {
            return Attempt {
                status: None,
                latency: Duration::ZERO,
                sent_at,
            };
        };
        let mut request = http
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .timeout(self.deadline)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let sent = Instant::now();
        let status = request.send().await.ok().map(|answer| answer.status().as_u16());
        Attempt {
            status,
            latency: sent.elapsed(),
            sent_at,
        }
    }
}

/// The tenant key in the events the stand-in pushes.
pub(super) const TENANT_KEY: &str = "736588c9260f175d";

/// The 2.0 envelope of `event` as the platform writes it, its fields in the platform's order,
/// `padding` (spaces, to make it oversized) inside if given.
pub(super) fn envelope(
    event: &PushEvent,
    token: &str,
    app_id: &str,
    tenant_key: &str,
    create_time_ms: u128,
    padding: Option<String>,
) -> Vec<u8> {
    // Fields in the platform's order (a `json!` map would sort them: `event` first).
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        schema: &'static str,
        header: Header<'a>,
        event: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        padding: Option<String>,
    }
    #[derive(serde::Serialize)]
    struct Header<'a> {
        event_id: &'a str,
        event_type: &'a str,
        create_time: String,
        token: &'a str,
        app_id: &'a str,
        tenant_key: &'a str,
    }
    let envelope = Envelope {
        schema: "2.0",
        header: Header {
            event_id: &event.event_id,
            event_type: &event.event_type,
            create_time: create_time_ms.to_string(),
            token,
            app_id,
            tenant_key,
        },
        event: &event.event,
        padding,
    };
    // Strings and a `Value` always serialise.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// `{"encrypt": base64(IV + AES-256-CBC(plaintext))}` under SHA-256(`key`), a random IV.
fn encrypted(key: &str, plaintext: &[u8]) -> Vec<u8> {
    let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let iv: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let encrypt = base64::engine::general_purpose::STANDARD.encode([iv.as_slice(), &ciphertext].concat());
    json!({ "encrypt": encrypt }).to_string().into_bytes()
}

/// Lowercase hex SHA-256 of `timestamp + nonce + key + body`.
fn signature(timestamp: &str, nonce: &str, key: &str, body: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(timestamp)
        .chain_update(nonce)
        .chain_update(key)
        .chain_update(body)
        .finalize();
    format!("{digest:x}")
}
