//! The receiver: one push in (headers and raw body), the answer out. It checks where the push
//! comes from, decrypts it, answers the URL verification, and hands each event to the handler
//! exactly once, answering 200 only after the handler succeeded.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, StatusCode};

use super::crypto::{decode, decrypt, secrets_equal, signature_matches, AesKey, DecryptError, Decrypted};
use super::delivery::{Delivery, DeliveryOptions, Outcome};
use super::event::{Body, HelpdeskEvent, NotParsed, NOT_AN_EVENT};
use crate::error::Error;
use crate::secret::Secret;

/// The largest body the receiver reads; a larger one is answered 413.
pub const MAX_EVENT_BODY_BYTES: usize = 1024 * 1024;

// Header names as constants, so that no lookup parses one.
const TIMESTAMP: HeaderName = HeaderName::from_static("x-lark-request-timestamp");
const NONCE: HeaderName = HeaderName::from_static("x-lark-request-nonce");
const SIGNATURE: HeaderName = HeaderName::from_static("x-lark-signature");

/// Receives the helpdesk events an app subscribed to.
///
/// ```
/// # async fn run(headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), feishu_helpdesk::Error> {
/// use feishu_helpdesk::events::{HelpdeskEvent, Receiver};
///
/// let receiver = Receiver::builder().verification_token("v-sample-verification-token").build()?;
/// let answer = receiver
///     .handle(&headers, &body, |event: HelpdeskEvent| async move {
///         println!("{} {}", event.event_type(), event.header().event_id);
///         Ok::<(), std::convert::Infallible>(())
///     })
///     .await;
/// # let _ = answer;
/// # Ok(())
/// # }
/// ```
///
/// Cheap to clone (clones share the dedupe store); `Debug` shows no secret.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    verification_token: Secret,
    encryption: Option<Encryption>,
    delivery: Delivery,
    max_age: Option<Duration>,
}

struct Encryption {
    key: Secret,
    aes_key: AesKey,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Receiver")
            .field("verification_token", &inner.verification_token)
            .field("encrypt_key", &inner.encryption.as_ref().map(|e| &e.key))
            .field("delivery", &inner.delivery)
            .field("max_age", &inner.max_age)
            .finish()
    }
}

/// Why a push was refused, as its answer says.
struct Refusal {
    status: StatusCode,
    reason: &'static str,
}

fn refuse(status: StatusCode, reason: &'static str) -> Refusal {
    Refusal { status, reason }
}

/// A push whose origin is established, in plaintext.
// Lives on the stack of one `handle` call.
#[allow(clippy::large_enum_variant)]
enum Verified<'a> {
    Challenge(String),
    Event(Body<'a>),
}

impl Receiver {
    /// Starts configuring a receiver.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// Handles one push: `headers` and the raw `body` as received. Returns the answer to
    /// send: 200 once `handler` returned `Ok` (or for a push already handled, or a URL
    /// verification), 4xx for a push that is refused (never given to the handler), and 409,
    /// 500 or 503 when the platform should push it again: another attempt is still handling
    /// it, or the handler failed, panicked or passed its deadline.
    pub async fn handle<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        handler: F,
    ) -> http::Response<String>
    where
        F: FnOnce(HelpdeskEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let plaintext = match self.plaintext(headers, body) {
            Ok(plaintext) => plaintext,
            Err(refusal) => return refused(refusal),
        };
        match self.verify(plaintext.as_bytes()) {
            Ok(Verified::Challenge(challenge)) => {
                tracing::debug!("answered the URL verification");
                answer(
                    StatusCode::OK,
                    serde_json::json!({ "challenge": challenge }).to_string(),
                )
            }
            Ok(Verified::Event(envelope)) => self.deliver(envelope, handler).await,
            Err(refusal) => refused(refusal),
        }
    }

    /// The plaintext body: the body itself, or, with an Encrypt Key, the body decrypted after
    /// its signature was checked (a URL verification comes unsigned).
    fn plaintext<'b>(&self, headers: &HeaderMap, body: &'b [u8]) -> Result<Plaintext<'b>, Refusal> {
        if body.len() > MAX_EVENT_BODY_BYTES {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is larger than 1 MiB",
            ));
        }
        let Some(encryption) = &self.inner.encryption else {
            // `verify` refuses an encrypted body: its one parse sees the `encrypt` field.
            return Ok(Plaintext::Plain(body));
        };
        let (signed, data) = match compact_ciphertext(body).and_then(|c| decode(c).ok()) {
            // The body is exactly `{"encrypt":"<base64>"}`, as the platform sends it: the
            // decoding proved it (base64 holds no quote or escape), and no JSON pass over the
            // push's largest string was needed.
            Some(data) => (self.check_signature(headers, body, encryption)?, data),
            None => {
                #[derive(serde::Deserialize)]
                struct Encrypted<'a> {
                    #[serde(borrow)]
                    encrypt: Option<Cow<'a, str>>,
                }
                let encrypted: Encrypted<'_> = serde_json::from_slice(body)
                    .map_err(|_| refuse(StatusCode::BAD_REQUEST, "the body is not JSON"))?;
                let Some(ciphertext) = encrypted.encrypt else {
                    return Err(refuse(
                        StatusCode::UNAUTHORIZED,
                        "the body is not encrypted, but an Encrypt Key is set",
                    ));
                };
                let signed = self.check_signature(headers, body, encryption)?;
                let data = decode(ciphertext.as_bytes()).map_err(undecryptable)?;
                (signed, data)
            }
        };
        let plaintext = decrypt(&encryption.aes_key, data).map_err(undecryptable)?;
        if !signed && !is_challenge(plaintext.as_bytes()) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "the push is not signed"));
        }
        Ok(Plaintext::Decrypted(plaintext))
    }

    /// Checks the signature headers, if there are any: `Ok(false)` when there are none (only
    /// a URL verification may come so), `Ok(true)` when they match.
    fn check_signature(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        encryption: &Encryption,
    ) -> Result<bool, Refusal> {
        let (timestamp, nonce, signature) = match (
            headers.get(&TIMESTAMP),
            headers.get(&NONCE),
            headers.get(&SIGNATURE),
        ) {
            (None, None, None) => return Ok(false),
            (Some(t), Some(n), Some(s)) => (t.as_bytes(), n.as_bytes(), s.as_bytes()),
            _ => return Err(refuse(StatusCode::UNAUTHORIZED, "a signature header is missing")),
        };
        if !signature_matches(
            timestamp,
            nonce,
            encryption.key.expose().as_bytes(),
            body,
            signature,
        ) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "the signature does not match"));
        }
        if let Some(max_age) = self.inner.max_age {
            let sent: u64 = std::str::from_utf8(timestamp)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "the timestamp is not Unix seconds"))?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if now.abs_diff(sent) > max_age.as_secs() {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "the timestamp is older than max_age",
                ));
            }
        }
        Ok(true)
    }

    /// Parses the plaintext and checks its verification token.
    fn verify<'a>(&self, plaintext: &'a [u8]) -> Result<Verified<'a>, Refusal> {
        let encrypted = self.inner.encryption.is_some();
        let body = Body::parse(plaintext).map_err(|error| {
            refuse(
                StatusCode::BAD_REQUEST,
                if !encrypted && error == NotParsed::NotJson {
                    "the body is not JSON"
                } else {
                    NOT_AN_EVENT
                },
            )
        })?;
        if !encrypted && body.is_encrypted() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "the body is encrypted, but the receiver has no Encrypt Key",
            ));
        }
        let token = body
            .token()
            .ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "the verification token is missing"))?;
        if !secrets_equal(
            token.as_bytes(),
            self.inner.verification_token.expose().as_bytes(),
        ) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "the verification token does not match",
            ));
        }
        if body.is_challenge() {
            let challenge = body
                .challenge
                .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "the URL verification has no challenge"))?;
            return Ok(Verified::Challenge(challenge));
        }
        Ok(Verified::Event(body))
    }

    /// Hands the event to the handler exactly once; the answer says how it went.
    async fn deliver<F, Fut, E>(&self, envelope: Body<'_>, handler: F) -> http::Response<String>
    where
        F: FnOnce(HelpdeskEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let (status, outcome) = match self.inner.delivery.deliver(envelope, handler).await {
            Outcome::Handled | Outcome::Duplicate => return answer(StatusCode::OK, String::new()),
            Outcome::Refused(reason) => return refused(refuse(StatusCode::BAD_REQUEST, reason)),
            Outcome::InProgress => (StatusCode::CONFLICT, "the event is being handled"),
            Outcome::StoreFailed => (StatusCode::SERVICE_UNAVAILABLE, "try again later"),
            Outcome::Failed => (StatusCode::INTERNAL_SERVER_ERROR, "the handler failed"),
            Outcome::PastDeadline => (StatusCode::SERVICE_UNAVAILABLE, "the handler passed its deadline"),
        };
        answer(status, outcome.into())
    }
}

/// The refusal of an encrypted body that does not decode or decrypt.
fn undecryptable(error: DecryptError) -> Refusal {
    refuse(
        StatusCode::BAD_REQUEST,
        match error {
            DecryptError::Base64 => "the encrypted body is not base64",
            DecryptError::Short => "the encrypted body is too short",
            DecryptError::Padding => "the encrypted body does not decrypt",
        },
    )
}

/// The base64 between the quotes of a body that reads `{"encrypt":"` ... `"}`; whether it is
/// the whole `encrypt` string is for the base64 decoding to prove.
fn compact_ciphertext(body: &[u8]) -> Option<&[u8]> {
    body.strip_prefix(br#"{"encrypt":""#)?.strip_suffix(br#""}"#)
}

/// A push's plaintext, borrowed from the body or decrypted from it.
enum Plaintext<'b> {
    Plain(&'b [u8]),
    Decrypted(Decrypted),
}

impl Plaintext<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Plaintext::Plain(body) => body,
            Plaintext::Decrypted(decrypted) => decrypted.as_bytes(),
        }
    }
}

fn is_challenge(plaintext: &[u8]) -> bool {
    Body::parse(plaintext).is_ok_and(|body| body.is_challenge())
}

fn refused(refusal: Refusal) -> http::Response<String> {
    tracing::warn!(
        status = refusal.status.as_u16(),
        reason = refusal.reason,
        "refused a push"
    );
    answer(refusal.status, refusal.reason.into())
}

fn answer(status: StatusCode, body: String) -> http::Response<String> {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    if status == StatusCode::OK && !response.body().is_empty() {
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    response
}

/// Configures a [`Receiver`]; every setter consumes and returns the builder. `Debug` shows
/// no secret: the token and key are kept in a type whose `Debug` masks them.
#[derive(Default, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ReceiverBuilder {
    verification_token: Option<Secret>,
    encrypt_key: Option<Secret>,
    delivery: DeliveryOptions,
    max_age: Option<Duration>,
}

impl ReceiverBuilder {
    /// The app's Verification Token (from the developer console). Required: every push is
    /// checked against it, the URL verification included.
    pub fn verification_token(mut self, token: impl Into<String>) -> Self {
        self.verification_token = Some(Secret::new(token));
        self
    }

    /// The app's Encrypt Key, if one is set in the console: then every push must be
    /// encrypted and signed (the URL verification is encrypted and unsigned).
    pub fn encrypt_key(mut self, key: impl Into<String>) -> Self {
        self.encrypt_key = Some(Secret::new(key));
        self
    }

    /// How each event is handed to the handler exactly once: the dedupe store, the handler's
    /// deadline (a push past it is answered 503), the claim's lease and how long a handled
    /// event is remembered ([`DeliveryOptions::default`] unless set).
    pub fn delivery(mut self, options: DeliveryOptions) -> Self {
        self.delivery = options;
        self
    }

    /// Refuses signed pushes whose `X-Lark-Request-Timestamp` is further than `max_age` from
    /// now. Off unless set: the platform does not document whether a retry, hours after the
    /// first push, is signed anew, so a bound could refuse every retry and lose the event.
    /// Replays of a captured push are harmless to a receiver that deduplicates.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Checks the configuration and builds the receiver; fails with
    /// [`Error::InvalidInput`] naming the setting that is missing or wrong.
    pub fn build(self) -> Result<Receiver, Error> {
        let verification_token = self
            .verification_token
            .filter(|token| !token.expose().is_empty())
            .ok_or_else(|| Error::invalid_input("verification_token", "is required"))?;
        let encryption = match self.encrypt_key {
            Some(key) if key.expose().is_empty() => {
                return Err(Error::invalid_input("encrypt_key", "is empty"))
            }
            Some(key) => Some(Encryption {
                aes_key: AesKey::new(key.expose()),
                key,
            }),
            None => None,
        };
        let delivery = self.delivery.build()?;
        Ok(Receiver {
            inner: Arc::new(Inner {
                verification_token,
                encryption,
                delivery,
                max_age: self.max_age,
            }),
        })
    }
}
