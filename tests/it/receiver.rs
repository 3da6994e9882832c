//! `events::Receiver` against the known-answer vectors and sample pushes of
//! `tests/fixtures/events/` (made by an independent implementation): the challenge, the
//! signature and decryption, every refusal, and exactly-once delivery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use feishu_helpdesk::events::{
    Claim, DedupeStore, DeliveryOptions, HelpdeskEvent, MemoryDedupeStore, Receiver,
};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "v-sample-verification-token";
pub const KEY: &str = "kx-sample-encrypt-key";

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).unwrap()
}

pub fn plain(token: &str) -> Receiver {
    Receiver::builder().verification_token(token).build().unwrap()
}

pub fn encrypted() -> Receiver {
    Receiver::builder()
        .verification_token(TOKEN)
        .encrypt_key(KEY)
        .build()
        .unwrap()
}

/// The signature headers of `body`, computed here from the documented recipe.
pub fn signed(timestamp: &str, nonce: &str, key: &str, body: &[u8]) -> HeaderMap {
    let mut hasher = Sha256::new();
    hasher.update(format!("{timestamp}{nonce}{key}"));
    hasher.update(body);
    let mut headers = HeaderMap::new();
    headers.insert("x-lark-request-timestamp", timestamp.parse().unwrap());
    headers.insert("x-lark-request-nonce", nonce.parse().unwrap());
    headers.insert(
        "x-lark-signature",
        format!("{:x}", hasher.finalize()).parse().unwrap(),
    );
    headers
}

/// `{"encrypt": ...}` of `plaintext`, encrypted here with a random IV.
pub fn encrypt(key: &str, plaintext: &[u8]) -> Vec<u8> {
    let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let iv: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let data = [iv.as_slice(), &ciphertext].concat();
    json!({ "encrypt": base64::engine::general_purpose::STANDARD.encode(data) })
        .to_string()
        .into_bytes()
}

/// The signature headers a vector gives, as the platform sent them.
fn vector_headers(vector: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, field) in [
        ("x-lark-request-timestamp", "timestamp"),
        ("x-lark-request-nonce", "nonce"),
        ("x-lark-signature", "x_lark_signature"),
    ] {
        headers.insert(name, vector[field].as_str().unwrap().parse().unwrap());
    }
    headers
}

/// Handles one push with a handler that records what it was given.
async fn push(
    receiver: &Receiver,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, String, Vec<HelpdeskEvent>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let answer = receiver
        .handle(headers, body, |event| async move {
            record.lock().unwrap().push(event);
            Ok::<(), String>(())
        })
        .await;
    let seen = seen.lock().unwrap().clone();
    (answer.status(), answer.into_body(), seen)
}

#[tokio::test]
async fn the_signature_known_answer_is_accepted_and_decrypted() {
    let vector = &vectors()["signature"][0];
    let body = vector["body"].as_str().unwrap().as_bytes();
    let headers = vector_headers(vector);
    let (status, _, seen) = push(&encrypted(), &headers, body).await;
    assert_eq!(status, StatusCode::OK);
    let [HelpdeskEvent::TicketCreated { header, event }] = seen.as_slice() else {
        panic!("expected one TicketCreated, got {seen:?}");
    };
    assert_eq!(header.event_id, "5e3702a84e847582be8db7fb73283c02");
    assert_eq!(header.create_time, 1_700_000_000_000);
    assert_eq!(header.tenant_key, "736588c9260f175d");
    assert_eq!(event.ticket_id.as_deref(), Some("6948728206392295444"));
}

#[tokio::test]
async fn every_sample_push_arrives_typed_plain_and_encrypted() {
    for (file, event_type) in [
        ("ticket.created_v1.json", "helpdesk.ticket.created_v1"),
        ("ticket.updated_v1.json", "helpdesk.ticket.updated_v1"),
        (
            "ticket_message.created_v1.json",
            "helpdesk.ticket_message.created_v1",
        ),
        ("notification.approve_v1.json", "helpdesk.notification.approve_v1"),
    ] {
        let sample = fixture(file);
        let (status, _, seen) = push(&plain(TOKEN), &HeaderMap::new(), sample.as_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(seen.len(), 1, "{file}");
        assert_eq!(seen[0].event_type(), event_type);
        assert!(
            !matches!(seen[0], HelpdeskEvent::Other { .. }),
            "{file} arrived untyped"
        );

        let body = encrypt(KEY, sample.as_bytes());
        let (status, _, again) = push(&encrypted(), &signed("1700000001", "n0", KEY, &body), &body).await;
        assert_eq!((status, &again), (StatusCode::OK, &seen), "{file} encrypted");
    }
}

#[tokio::test]
async fn an_encrypted_body_reads_the_same_however_its_json_is_written() {
    let sample = fixture("ticket.created_v1.json");
    let compact = encrypt(KEY, sample.as_bytes());
    let (status, _, expected) = push(&encrypted(), &signed("1700000001", "n", KEY, &compact), &compact).await;
    assert_eq!((status, expected.len()), (StatusCode::OK, 1));
    let ciphertext = serde_json::from_slice::<Value>(&compact).unwrap()["encrypt"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first character as a JSON escape: the same string, written otherwise.
    let escaped = format!(
        "\\u{:04x}{}",
        u32::from(ciphertext.as_bytes()[0]),
        &ciphertext[1..]
    );
    for body in [
        format!("{{ \"encrypt\": \"{ciphertext}\" }}"),
        format!("{{\"x\":1,\"encrypt\":\"{ciphertext}\"}}"),
        format!("{{\"encrypt\":\"{ciphertext}\",\"x\":\"QUJD\"}}"),
        format!("{{\"encrypt\":\"{escaped}\"}}"),
    ] {
        let headers = signed("1700000001", "n", KEY, body.as_bytes());
        let (status, _, seen) = push(&encrypted(), &headers, body.as_bytes()).await;
        assert_eq!((status, &seen), (StatusCode::OK, &expected), "{body}");
    }
    // Read as the compact form, this body's ciphertext would run to its last quote: it is
    // read as JSON instead, and its `encrypt` string is not base64.
    let body = format!("{{\"encrypt\":\"QUJD\",\"x\":\"{ciphertext}\"}}");
    let headers = signed("1700000001", "n", KEY, body.as_bytes());
    let (status, _, seen) = push(&encrypted(), &headers, body.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::BAD_REQUEST, 0));
}

#[tokio::test]
async fn the_payload_is_typed_whichever_comes_first_in_the_envelope() {
    let sample = fixture("ticket_message.created_v1.json");
    let (_, _, header_first) = push(&plain(TOKEN), &HeaderMap::new(), sample.as_bytes()).await;
    assert!(matches!(
        &header_first[..],
        [HelpdeskEvent::TicketMessageCreated { .. }]
    ));
    // serde_json's map keeps keys sorted: `event` now comes before `header`.
    let event_first = serde_json::from_str::<Value>(&sample).unwrap().to_string();
    assert!(event_first.find("\"event\"") < event_first.find("\"header\""));
    let (status, _, seen) = push(&plain(TOKEN), &HeaderMap::new(), event_first.as_bytes()).await;
    assert_eq!((status, &seen), (StatusCode::OK, &header_first));
    // A repeated field is refused, as a derived reading refuses it.
    let twice = sample.replacen("\"event\":", "\"event\": null, \"event\":", 1);
    assert_ne!(twice, sample);
    let (status, _, seen) = push(&plain(TOKEN), &HeaderMap::new(), twice.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::BAD_REQUEST, 0));
}

#[tokio::test]
async fn the_challenge_is_answered_plain_and_encrypted_without_the_handler() {
    let challenge = &vectors()["challenge"];
    let expected = challenge["answer"].clone();
    for (receiver, body) in [
        (plain(TOKEN), challenge["plain_body"].as_str().unwrap()),
        (encrypted(), challenge["encrypted_body"].as_str().unwrap()),
    ] {
        let (status, answer, seen) = push(&receiver, &HeaderMap::new(), body.as_bytes()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(serde_json::from_str::<Value>(&answer).unwrap(), expected);
        assert!(seen.is_empty());
    }
    // The challenge's token is checked too.
    let (status, _, _) = push(
        &plain("v-other"),
        &HeaderMap::new(),
        challenge["plain_body"].as_str().unwrap().as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_vector_that_must_be_refused_is_refused_before_the_handler() {
    for vector in vectors()["must_refuse"].as_array().unwrap() {
        let why = vector["why"].as_str().unwrap();
        let (body, headers, expected) = match vector.get("body") {
            // A body with the signature of another: refused on the signature.
            Some(body) => {
                let headers = vector_headers(vector);
                (
                    body.as_str().unwrap().as_bytes().to_vec(),
                    headers,
                    StatusCode::UNAUTHORIZED,
                )
            }
            // A ciphertext that does not decrypt, signed correctly: refused as malformed.
            None => {
                let body = json!({ "encrypt": vector["encrypt"] }).to_string().into_bytes();
                let headers = signed("1700000001", "n1", KEY, &body);
                (body, headers, StatusCode::BAD_REQUEST)
            }
        };
        let (status, _, seen) = push(&encrypted(), &headers, &body).await;
        assert_eq!(status, expected, "{why}");
        assert!(seen.is_empty(), "{why}");
    }
}

#[tokio::test]
async fn refusals_name_their_status() {
    let sample = fixture("ticket.created_v1.json");
    let body = encrypt(KEY, sample.as_bytes());
    let wrong_token = sample.replace(TOKEN, "v-forged");
    let no_token = {
        let mut push: Value = serde_json::from_str(&sample).unwrap();
        push["header"].as_object_mut().unwrap().remove("token");
        push.to_string()
    };
    let mut partly_signed = signed("1700000001", "n", KEY, &body);
    partly_signed.remove("x-lark-signature");
    let cases: Vec<(&str, Receiver, HeaderMap, Vec<u8>, StatusCode)> = vec![
        (
            "a wrong token",
            plain(TOKEN),
            HeaderMap::new(),
            wrong_token.clone().into_bytes(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "no token",
            plain(TOKEN),
            HeaderMap::new(),
            no_token.into_bytes(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "not JSON",
            plain(TOKEN),
            HeaderMap::new(),
            b"{\"schema\":".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not an event",
            plain(TOKEN),
            HeaderMap::new(),
            b"{\"hello\":1}".to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "too large",
            plain(TOKEN),
            HeaderMap::new(),
            vec![b' '; 1024 * 1024 + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "encrypted, no key set",
            plain(TOKEN),
            HeaderMap::new(),
            body.clone(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "plain, a key set",
            encrypted(),
            HeaderMap::new(),
            sample.clone().into_bytes(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "unsigned event",
            encrypted(),
            HeaderMap::new(),
            body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a signature header missing",
            encrypted(),
            partly_signed,
            body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "signed with another key",
            encrypted(),
            signed("1700000001", "n", "other", &body),
            body.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a wrong token inside a signed body",
            encrypted(),
            signed("1", "n", KEY, &encrypt(KEY, wrong_token.as_bytes())),
            encrypt(KEY, wrong_token.as_bytes()),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (what, receiver, headers, body, expected) in cases {
        // The last case's body was encrypted twice with different IVs: sign what is sent.
        let headers = if what == "a wrong token inside a signed body" {
            signed("1", "n", KEY, &body)
        } else {
            headers
        };
        let (status, _, seen) = push(&receiver, &headers, &body).await;
        assert_eq!(status, expected, "{what}");
        assert!(seen.is_empty(), "{what} reached the handler");
    }
}

#[tokio::test]
async fn max_age_refuses_old_timestamps_only_when_set() {
    let sample = fixture("notification.approve_v1.json");
    let body = encrypt(KEY, sample.as_bytes());
    let old = signed("1700000001", "n", KEY, &body);
    assert_eq!(push(&encrypted(), &old, &body).await.0, StatusCode::OK);
    let strict = Receiver::builder()
        .verification_token(TOKEN)
        .encrypt_key(KEY)
        .max_age(Duration::from_secs(300))
        .build()
        .unwrap();
    assert_eq!(push(&strict, &old, &body).await.0, StatusCode::UNAUTHORIZED);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    assert_eq!(
        push(&strict, &signed(&now, "n", KEY, &body), &body).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_duplicate_is_acknowledged_without_running_the_handler_again() {
    let receiver = plain(TOKEN);
    let sample = fixture("ticket.created_v1.json");
    let (first, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    let (again, _, seen_again) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((first, again), (StatusCode::OK, StatusCode::OK));
    assert_eq!((seen.len(), seen_again.len()), (1, 0));
}

#[tokio::test]
async fn deduplication_uses_the_envelope_s_event_id_not_the_payload_s() {
    let receiver = plain(TOKEN);
    let sample = fixture("ticket_message.created_v1.json");
    let other = sample.replace("1a2b3c4d5e6f708192a3b4c5d6e7f809", "another-envelope-id");
    assert_eq!(
        push(&receiver, &HeaderMap::new(), sample.as_bytes())
            .await
            .2
            .len(),
        1
    );
    // Same payload `event_id`, another envelope: another event.
    assert_eq!(
        push(&receiver, &HeaderMap::new(), other.as_bytes()).await.2.len(),
        1
    );
}

#[tokio::test]
async fn a_failing_or_panicking_handler_is_answered_for_a_retry_that_then_runs() {
    let receiver = plain(TOKEN);
    let sample = fixture("ticket.updated_v1.json");
    let calls = AtomicUsize::new(0);
    let failing = receiver
        .handle(&HeaderMap::new(), sample.as_bytes(), |_| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>("the database is down")
        })
        .await;
    assert_eq!(failing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let panicking = receiver
        .handle(&HeaderMap::new(), sample.as_bytes(), |_| async {
            calls.fetch_add(1, Ordering::SeqCst);
            if calls.load(Ordering::SeqCst) > 0 {
                panic!("a bug in the handler");
            }
            Ok::<(), String>(())
        })
        .await;
    assert_eq!(panicking.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::OK, 1));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_handler_is_stopped_at_its_deadline_and_the_retry_runs() {
    let receiver = Receiver::builder()
        .verification_token(TOKEN)
        .delivery(DeliveryOptions::default().handler_deadline(Duration::from_millis(50)))
        .build()
        .unwrap();
    let sample = fixture("ticket.created_v1.json");
    let slow = receiver
        .handle(&HeaderMap::new(), sample.as_bytes(), |_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<(), String>(())
        })
        .await;
    assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::OK, 1));
}

#[tokio::test]
async fn a_retry_while_the_first_attempt_runs_is_neither_run_nor_acknowledged() {
    let receiver = plain(TOKEN);
    let sample = fixture("ticket.created_v1.json");
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (receiver, sample) = (receiver.clone(), sample.clone());
        tokio::spawn(async move {
            receiver
                .handle(&HeaderMap::new(), sample.as_bytes(), |_| async move {
                    started_tx.send(()).unwrap();
                    finish_rx.await.unwrap();
                    Ok::<(), String>(())
                })
                .await
                .status()
        })
    };
    started_rx.await.unwrap();
    let (status, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::CONFLICT, 0));
    finish_tx.send(()).unwrap();
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    let (status, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn a_claim_whose_holder_died_expires_with_its_lease() {
    let store = Arc::new(MemoryDedupeStore::default());
    let receiver = Receiver::builder()
        .verification_token(TOKEN)
        .delivery(
            DeliveryOptions::default()
                .dedupe_store(store.clone())
                .handler_deadline(Duration::from_millis(20))
                .claim_lease(Duration::from_millis(200)),
        )
        .build()
        .unwrap();
    // A replica claimed the event, then died without releasing it.
    let claim = store
        .claim(
            "5e3702a84e847582be8db7fb73283c02",
            "dead-replica",
            Duration::from_millis(200),
        )
        .await;
    assert_eq!(claim.unwrap(), Claim::Claimed);
    let sample = fixture("ticket.created_v1.json");
    assert_eq!(
        push(&receiver, &HeaderMap::new(), sample.as_bytes()).await.0,
        StatusCode::CONFLICT
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (status, _, seen) = push(&receiver, &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!((status, seen.len()), (StatusCode::OK, 1));
}

#[tokio::test]
async fn other_event_types_arrive_as_other_with_their_json() {
    let sample =
        fixture("ticket.created_v1.json").replace("helpdesk.ticket.created_v1", "helpdesk.agent.created_v9");
    let (status, _, seen) = push(&plain(TOKEN), &HeaderMap::new(), sample.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let [HelpdeskEvent::Other { header, event }] = seen.as_slice() else {
        panic!("{seen:?}");
    };
    assert_eq!(header.event_type, "helpdesk.agent.created_v9");
    assert_eq!(event["ticket_id"], "6948728206392295444");
    // A documented type whose payload has a value the spec does not know is not lost either.
    let odd = fixture("ticket_message.created_v1.json").replace("\"sender_type\": 2", "\"sender_type\": 9");
    let (status, _, seen) = push(&plain(TOKEN), &HeaderMap::new(), odd.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(matches!(&seen[..], [HelpdeskEvent::Other { event, .. }] if event["sender_type"] == 9));
}

#[test]
fn debug_shows_no_secret_and_bad_settings_are_refused() {
    let receiver = encrypted();
    let shown = format!(
        "{receiver:?} {:?}",
        Receiver::builder().verification_token(TOKEN).encrypt_key(KEY)
    );
    assert!(!shown.contains(TOKEN) && !shown.contains(KEY), "{shown}");
    let field = |r: Result<Receiver, feishu_helpdesk::Error>| match r {
        Err(feishu_helpdesk::Error::InvalidInput { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(Receiver::builder().build()), "verification_token");
    assert_eq!(
        field(
            Receiver::builder()
                .verification_token(TOKEN)
                .encrypt_key("")
                .build()
        ),
        "encrypt_key"
    );
    assert_eq!(
        field(
            Receiver::builder()
                .verification_token(TOKEN)
                .delivery(DeliveryOptions::default().claim_lease(Duration::from_secs(1)))
                .build()
        ),
        "claim_lease"
    );
    for (options, wrong) in [
        (
            DeliveryOptions::default().handler_deadline(Duration::ZERO),
            "handler_deadline",
        ),
        (DeliveryOptions::default().done_ttl(Duration::ZERO), "done_ttl"),
    ] {
        let builder = || Receiver::builder().verification_token(TOKEN);
        assert_eq!(field(builder().delivery(options.clone()).build()), wrong);
        // The options given last are the ones in force.
        assert!(builder()
            .delivery(options)
            .delivery(DeliveryOptions::default())
            .build()
            .is_ok());
    }
    fn is_clone_send_sync<T: Clone + Send + Sync>() {}
    is_clone_send_sync::<Receiver>();
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Nothing panics and nothing reaches the handler, whatever the body and headers.
        #[test]
        fn arbitrary_pushes_are_refused_quietly(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            json_body in "\\{\"(encrypt|challenge|header|type|schema)\":\"[ -~]{0,64}\"\\}",
            timestamp in "[ -~]{0,16}",
            signature in "[0-9a-f]{0,64}",
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let mut headers = HeaderMap::new();
            headers.insert("x-lark-request-timestamp", http::HeaderValue::from_str(&timestamp).unwrap_or(http::HeaderValue::from_static("1")));
            headers.insert("x-lark-request-nonce", http::HeaderValue::from_static("n"));
            headers.insert("x-lark-signature", http::HeaderValue::from_str(&signature).unwrap());
            for receiver in [plain(TOKEN), encrypted()] {
                for (headers, body) in [(&headers, &body[..]), (&HeaderMap::new(), json_body.as_bytes()), (&headers, json_body.as_bytes())] {
                    let (status, _, seen) = runtime.block_on(push(&receiver, headers, body));
                    prop_assert!(status.is_client_error(), "{status} for {body:?}");
                    prop_assert!(seen.is_empty());
                }
            }
        }
    }
}

/// Two replicas behind a load balancer, sharing a real `redis-server`.
#[cfg(feature = "redis")]
mod replicas {
    use super::*;
    use crate::support::redis_server::RedisServer;
    use feishu_helpdesk::events::RedisDedupeStore;

    fn replica(redis_url: &str) -> Receiver {
        Receiver::builder()
            .verification_token(TOKEN)
            .encrypt_key(KEY)
            .delivery(
                DeliveryOptions::default().dedupe_store(Arc::new(RedisDedupeStore::new(redis_url).unwrap())),
            )
            .build()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn the_same_push_to_two_replicas_reaches_one_handler_once() {
        let redis_server = RedisServer::start();
        let (a, b) = (replica(&redis_server.url), replica(&redis_server.url));
        let body = encrypt(KEY, fixture("ticket_message.created_v1.json").as_bytes());
        let headers = signed("1700000001", "n", KEY, &body);
        let calls = Arc::new(AtomicUsize::new(0));
        let deliver = |receiver: Receiver| {
            let (calls, headers, body) = (calls.clone(), headers.clone(), body.clone());
            tokio::spawn(async move {
                receiver
                    .handle(&headers, &body, |_| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<(), String>(())
                    })
                    .await
                    .status()
            })
        };
        let (first, second) = (deliver(a.clone()), deliver(b.clone()));
        let mut statuses = [first.await.unwrap(), second.await.unwrap()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The platform's retry, to either replica, is acknowledged without the handler.
        for replica in [a, b] {
            let (status, _, seen) = push(&replica, &headers, &body).await;
            assert_eq!((status, seen.len()), (StatusCode::OK, 0));
        }
        let mut redis = redis_server.connection().await;
        let ttl_ms: i64 = redis::cmd("PTTL")
            .arg("feishu-helpdesk:event:1a2b3c4d5e6f708192a3b4c5d6e7f809")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(ttl_ms > 11 * 3600 * 1000, "the done-marker lives {ttl_ms} ms");
    }

    #[tokio::test]
    #[ignore = "needs redis-server on the PATH: cargo test -- --include-ignored"]
    async fn a_failed_handler_releases_the_shared_claim_and_redis_down_asks_for_a_retry() {
        let mut redis_server = RedisServer::start();
        let receiver = replica(&redis_server.url);
        let body = encrypt(KEY, fixture("ticket.created_v1.json").as_bytes());
        let headers = signed("1700000001", "n", KEY, &body);
        let failed = receiver
            .handle(&headers, &body, |_| async { Err::<(), _>("boom") })
            .await;
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(push(&receiver, &headers, &body).await.2.len(), 1);

        redis_server.stop();
        let other = encrypt(KEY, fixture("ticket.updated_v1.json").as_bytes());
        let (status, _, seen) = push(&receiver, &signed("1", "n", KEY, &other), &other).await;
        assert_eq!((status, seen.len()), (StatusCode::SERVICE_UNAVAILABLE, 0));
    }
}

/// The receiver mounted in an axum app, pushed to over HTTP.
#[cfg(feature = "axum")]
mod axum_route {
    use super::*;

    #[tokio::test]
    async fn one_line_mounts_it_and_the_body_limit_applies_before_reading() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = axum::Router::new().route(
            "/feishu/events",
            encrypted().into_service(move |event: HelpdeskEvent| {
                let counter = counter.clone();
                async move {
                    assert_eq!(event.event_type(), "helpdesk.notification.approve_v1");
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), String>(())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/feishu/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let http = feishu_helpdesk::http_client_builder().unwrap().build().unwrap();
        let body = encrypt(KEY, fixture("notification.approve_v1.json").as_bytes());
        let answer = http
            .post(&url)
            .headers(signed("1700000001", "n", KEY, &body))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let challenge = vectors()["challenge"]["encrypted_body"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = http.post(&url).body(challenge).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer, vectors()["challenge"]["answer"]);

        let huge = vec![b' '; 2 * 1024 * 1024];
        let answer = http.post(&url).body(huge).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 413);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
