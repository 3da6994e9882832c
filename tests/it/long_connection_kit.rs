//! The long connection's stand-in (`MockPlatform::long_connection`) driven by a bare WebSocket
//! client that encodes and decodes the platform's frames itself: the endpoint and its faults,
//! single-use tickets, handshake refusals, pongs, pushes and their retries, fragments, and
//! the faults of the connection.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use bytes::Bytes;
use feishu_helpdesk::testing::{
    ClientConfig, EndpointFault, HandshakeRefusal, Injected, MockCredentials, MockLongConnection,
    MockPlatform, PongPayload, PushEvent, Scripted, APP_ID, APP_SECRET,
};
use futures_util::{SinkExt as _, StreamExt as _};
use prost::Message as _;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

/// How long a test waits for something that should come at once.
const WAIT: Duration = Duration::from_secs(5);
/// How long a test waits to see that nothing comes.
const QUIET: Duration = Duration::from_millis(300);

// The frames of `proto/pbbp2.proto`, as a client outside the library writes them.

#[derive(Clone, PartialEq, prost::Message)]
struct Header {
    #[prost(string, required, tag = "1")]
    key: String,
    #[prost(string, required, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Frame {
    #[prost(uint64, required, tag = "1")]
    seq_id: u64,
    #[prost(uint64, required, tag = "2")]
    log_id: u64,
    #[prost(int32, required, tag = "3")]
    service: i32,
    #[prost(int32, required, tag = "4")]
    method: i32,
    #[prost(message, repeated, tag = "5")]
    headers: Vec<Header>,
    #[prost(string, optional, tag = "6")]
    payload_encoding: Option<String>,
    #[prost(string, optional, tag = "7")]
    payload_type: Option<String>,
    #[prost(bytes = "bytes", optional, tag = "8")]
    payload: Option<Bytes>,
    #[prost(string, optional, tag = "9")]
    log_id_new: Option<String>,
}

impl Frame {
    fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|header| header.key == key)
            .map(|header| header.value.as_str())
    }

    fn ping(service: i32) -> Frame {
        Frame {
            seq_id: 0,
            log_id: 0,
            service,
            method: 0,
            headers: vec![Header {
                key: "type".into(),
                value: "ping".into(),
            }],
            payload_encoding: None,
            payload_type: None,
            payload: None,
            log_id_new: None,
        }
    }

    /// The acknowledgement of this data frame, as the SDKs write it.
    fn ack(&self, code: u16) -> Frame {
        let mut ack = self.clone();
        ack.headers.push(Header {
            key: "biz_rt".into(),
            value: "7".into(),
        });
        ack.payload = Some(Bytes::from(format!(
            r#"{{"code":{code},"headers":null,"data":null}}"#
        )));
        ack
    }
}

type Socket = WebSocketStream<TcpStream>;

/// The endpoint's HTTP status and body for these credentials.
async fn call_endpoint(platform: &MockPlatform, app_id: &str, app_secret: &str) -> (u16, String) {
    let http = feishu_helpdesk::http_client_builder().unwrap().build().unwrap();
    let answer = http
        .post(format!("{}/callback/ws/endpoint", platform.base_url()))
        .header("locale", "zh")
        .json(&json!({"AppID": app_id, "AppSecret": app_secret}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

/// The endpoint's JSON answer for the kit's credentials.
async fn endpoint(platform: &MockPlatform) -> Value {
    let (status, body) = call_endpoint(platform, APP_ID, APP_SECRET).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A URL from the endpoint.
async fn url(platform: &MockPlatform) -> String {
    let answer = endpoint(platform).await;
    answer["data"]["URL"].as_str().expect("a URL").to_owned()
}

/// The WebSocket handshake with `url`.
async fn dial(url: &str) -> Result<Socket, tungstenite::Error> {
    let parsed = url::Url::parse(url).unwrap();
    let address = (parsed.host_str().unwrap().to_owned(), parsed.port().unwrap());
    let stream = TcpStream::connect(address).await.unwrap();
    tokio_tungstenite::client_async(url, stream)
        .await
        .map(|(socket, _)| socket)
}

/// A connection opened as a client does: the endpoint, then its URL.
async fn connect(platform: &MockPlatform) -> Socket {
    dial(&url(platform).await).await.expect("the handshake")
}

/// The refused handshake's status and its `Handshake-*` headers (lower-case names).
fn refusal(result: Result<Socket, tungstenite::Error>) -> (u16, HashMap<String, String>) {
    match result {
        Err(tungstenite::Error::Http(answer)) => {
            let headers = answer
                .headers()
                .iter()
                .filter(|(name, _)| name.as_str().starts_with("handshake-"))
                .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
                .collect();
            (answer.status().as_u16(), headers)
        }
        Err(other) => panic!("not an HTTP refusal: {other}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

async fn send(socket: &mut Socket, frame: &Frame) {
    let message = Message::Binary(Bytes::from(frame.encode_to_vec()));
    socket.send(message).await.unwrap();
}

/// The next message other than WebSocket-level pings and pongs; `None` when none comes within
/// `within`. Panics if the connection fails.
async fn next_message(socket: &mut Socket, within: Duration) -> Option<Message> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next()).await.ok()?;
        match next {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(message)) => return Some(message),
            Some(Err(error)) => panic!("the connection failed: {error}"),
            None => panic!("the connection ended"),
        }
    }
}

/// The next frame; panics if none comes in time or the message is not a frame.
async fn next_frame(socket: &mut Socket) -> Frame {
    match next_message(socket, WAIT).await {
        Some(Message::Binary(bytes)) => Frame::decode(bytes.as_ref()).expect("a frame"),
        other => panic!("not a frame: {other:?}"),
    }
}

/// Reads and acknowledges with `code` every event frame that comes, until the socket ends.
fn ack_everything(mut socket: Socket, code: u16) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut acked = 0;
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Binary(bytes) = message {
                let frame = Frame::decode(bytes.as_ref()).unwrap();
                if frame.header("type") == Some("event") {
                    send(&mut socket, &frame.ack(code)).await;
                    acked += 1;
                }
            }
        }
        acked
    })
}

fn event() -> PushEvent {
    PushEvent::new(
        "helpdesk.ticket.created_v1",
        json!({"ticket": {"ticket_id": "6626871355780366331", "helpdesk_id": "7180000000000000001"}}),
    )
}

#[tokio::test]
async fn the_endpoint_hands_out_a_fresh_url_and_the_platform_config() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    // An answer queued for the helpdesk calls is not the endpoint's.
    platform.push(Scripted::Html { http_status: 502 });

    let first = endpoint(&platform).await;
    let second = endpoint(&platform).await;

    assert_eq!(
        (first["code"].as_i64(), first["msg"].as_str()),
        (Some(0), Some("ok"))
    );
    assert_eq!(
        first["data"]["ClientConfig"],
        json!({"ReconnectCount": -1, "ReconnectInterval": 120, "ReconnectNonce": 30, "PingInterval": 120})
    );
    let params = |answer: &Value| -> HashMap<String, String> {
        let url = url::Url::parse(answer["data"]["URL"].as_str().unwrap()).unwrap();
        assert_eq!(url.scheme(), "ws");
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(url.path(), "/ws/v2");
        url.query_pairs().into_owned().collect()
    };
    let (first, second) = (params(&first), params(&second));
    let device_id = &first["device_id"];
    assert!(
        device_id.len() == 19 && device_id.bytes().all(|b| b.is_ascii_digit()),
        "{device_id}"
    );
    let access_key = &first["access_key"];
    assert!(
        access_key.len() == 32 && access_key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{access_key}"
    );
    assert_eq!(first["service_id"], MockLongConnection::SERVICE_ID.to_string());
    let ticket = &first["ticket"];
    assert_eq!(
        ticket.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{ticket}"
    );
    for key in ["device_id", "access_key", "ticket"] {
        assert_ne!(first[key], second[key], "{key} is fresh on every call");
    }
    assert_eq!(stand_in.endpoint_calls(), 2);

    // Recorded as the other requests are, the secret masked.
    let requests = platform.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, MockLongConnection::ENDPOINT_PATH);
    assert_eq!(requests[0].header("locale"), ["zh"]);
    assert!(
        requests[0].body.contains(r#""AppSecret":"***""#),
        "{}",
        requests[0].body
    );
    assert!(!requests[0].body.contains(APP_SECRET));

    // The config is the test's to set.
    let config = ClientConfig {
        reconnect_count: 3,
        reconnect_interval: 1,
        reconnect_nonce: 0,
        ping_interval: 2,
    };
    stand_in.set_client_config(config);
    let answer = endpoint(&platform).await;
    let answered: ClientConfig = serde_json::from_value(answer["data"]["ClientConfig"].clone()).unwrap();
    assert_eq!(answered, config);
}

#[tokio::test]
async fn the_endpoint_refuses_wrong_credentials_and_masks_any_secret() {
    let platform = MockPlatform::start_with(MockCredentials::default()).await;

    let (status, body) = call_endpoint(&platform, APP_ID, "not-the-secret").await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer, json!({"code": 10014, "msg": "app secret invalid"}));

    let (_, body) = call_endpoint(&platform, "cli_another", APP_SECRET).await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["code"], 10003);
    assert!(answer.get("data").is_none());

    let bodies: Vec<String> = platform.requests().into_iter().map(|r| r.body).collect();
    assert!(
        bodies.iter().all(|body| body.contains(r#""AppSecret":"***""#)),
        "{bodies:?}"
    );
    assert!(!bodies[0].contains("not-the-secret"));
    assert_eq!(platform.long_connection().endpoint_calls(), 2);
}

#[tokio::test]
async fn endpoint_faults_answer_the_next_calls_then_the_url_again() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.fail_endpoint(EndpointFault::SystemBusy, 2);
    stand_in.fail_endpoint(EndpointFault::InternalError, 1);
    stand_in.fail_endpoint(EndpointFault::BadCredentials, 1);
    stand_in.fail_endpoint(EndpointFault::MissingUrl, 1);
    stand_in.fail_endpoint(EndpointFault::HttpStatus(502), 1);
    stand_in.fail_endpoint(EndpointFault::Delay(Duration::from_millis(300)), 1);

    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(endpoint(&platform).await);
    }
    assert_eq!(codes[0], json!({"code": 1, "msg": "system busy"}));
    assert_eq!(codes[1]["code"], 1);
    assert_eq!(codes[2]["code"], 1_000_040_343);
    assert_eq!(codes[3], json!({"code": 10014, "msg": "app secret invalid"}));
    assert_eq!(codes[4], json!({"code": 0, "msg": "ok", "data": {}}));

    let (status, body) = call_endpoint(&platform, APP_ID, APP_SECRET).await;
    assert_eq!(status, 502);
    assert!(body.contains("<html>"), "{body}");

    let started = std::time::Instant::now();
    let slow = endpoint(&platform).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert!(slow["data"]["URL"].is_string(), "{slow}");

    assert!(endpoint(&platform).await["data"]["URL"].is_string());
    assert_eq!(stand_in.endpoint_calls(), 8);
}

#[tokio::test]
async fn a_ticket_opens_one_connection_only() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let url = url(&platform).await;

    let _socket = dial(&url).await.expect("the first handshake");
    let (status, headers) = refusal(dial(&url).await);
    assert_eq!(status, 514);
    assert_eq!(headers["handshake-status"], "514");
    assert_eq!(
        headers["handshake-autherrcode"],
        MockLongConnection::AUTH_FAILED.to_string()
    );
    assert_ne!(
        headers["handshake-autherrcode"],
        MockLongConnection::TOO_MANY_CONNECTIONS.to_string()
    );

    // A ticket the endpoint never issued, and a known ticket with another access key.
    let forged = url.replace("ticket=", "ticket=0");
    assert_eq!(refusal(dial(&forged).await).0, 514);
    let fresh = stand_in.issue_url();
    let parsed = url::Url::parse(&fresh).unwrap();
    let key: String = parsed
        .query_pairs()
        .find(|(name, _)| name == "access_key")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    let wrong_key = fresh.replace(&key, &"0".repeat(32));
    assert_eq!(refusal(dial(&wrong_key).await).0, 514);
    // ... which used that ticket up.
    assert_eq!(refusal(dial(&fresh).await).0, 514);

    assert_eq!(stand_in.handshakes(), 1);
    assert_eq!(stand_in.refused_handshakes(), 4);
    assert_eq!(stand_in.live_connections(), [1]);
}

#[tokio::test]
async fn queued_handshake_refusals_say_what_the_platform_says() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.refuse_handshakes(HandshakeRefusal::Banned, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::TooManyConnections, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::AuthFailed, 1);
    stand_in.refuse_handshakes(HandshakeRefusal::ServerError, 1);

    let (status, headers) = refusal(dial(&url(&platform).await).await);
    assert_eq!(status, 403);
    assert_eq!(headers["handshake-status"], "403");
    assert!(headers.contains_key("handshake-msg"));

    let (status, headers) = refusal(dial(&url(&platform).await).await);
    assert_eq!(status, 514);
    assert_eq!(
        (
            headers["handshake-status"].as_str(),
            headers["handshake-autherrcode"].as_str()
        ),
        ("514", "1000040350")
    );
    assert_eq!(
        headers["handshake-msg"],
        "the number of connections exceeded the limit"
    );

    let (status, headers) = refusal(dial(&url(&platform).await).await);
    assert_eq!(status, 514);
    assert_eq!(
        headers["handshake-autherrcode"],
        MockLongConnection::AUTH_FAILED.to_string()
    );

    let (status, headers) = refusal(dial(&url(&platform).await).await);
    assert_eq!(status, 500);
    assert!(headers.is_empty(), "{headers:?}");

    // The queue is spent: the next handshake goes through.
    let _socket = connect(&platform).await;
    assert_eq!((stand_in.handshakes(), stand_in.refused_handshakes()), (1, 4));
}

#[tokio::test]
async fn the_fifty_first_connection_is_too_many() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut sockets = Vec::new();
    for _ in 0..MockLongConnection::MAX_CONNECTIONS {
        sockets.push(connect(&platform).await);
    }
    let (status, headers) = refusal(dial(&url(&platform).await).await);
    assert_eq!(
        (status, headers["handshake-autherrcode"].as_str()),
        (514, "1000040350")
    );

    // One closed: room for another.
    let mut closed = sockets.pop().unwrap();
    closed.close(None).await.unwrap();
    assert!(
        stand_in
            .wait_until(WAIT, |s| s.live_connections().len()
                < MockLongConnection::MAX_CONNECTIONS)
            .await
    );
    sockets.push(connect(&platform).await);
    assert_eq!(
        stand_in.live_connections().len(),
        MockLongConnection::MAX_CONNECTIONS
    );
}

#[tokio::test]
async fn pings_get_pongs_with_the_client_config() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut socket = connect(&platform).await;

    send(&mut socket, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    let pong = next_frame(&mut socket).await;
    assert_eq!((pong.method, pong.header("type")), (0, Some("pong")));
    assert_eq!(pong.service, MockLongConnection::SERVICE_ID);
    let config: Value = serde_json::from_slice(pong.payload()).unwrap();
    assert_eq!(
        config,
        json!({"ReconnectCount": -1, "ReconnectInterval": 120, "ReconnectNonce": 30, "PingInterval": 120})
    );

    // The endpoint's config, when it changes.
    let endpoint_config = ClientConfig {
        ping_interval: 5,
        ..ClientConfig::default()
    };
    stand_in.set_client_config(endpoint_config);
    send(&mut socket, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    let pong = next_frame(&mut socket).await;
    let config: ClientConfig = serde_json::from_slice(pong.payload()).unwrap();
    assert_eq!(config, endpoint_config);

    // Absurd values, an empty payload, bytes that are not JSON.
    let zeros = ClientConfig {
        reconnect_count: 0,
        reconnect_interval: 0,
        reconnect_nonce: 0,
        ping_interval: 0,
    };
    stand_in.set_pong(PongPayload::Config(zeros));
    send(&mut socket, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    let pong = next_frame(&mut socket).await;
    assert_eq!(
        serde_json::from_slice::<ClientConfig>(pong.payload()).unwrap(),
        zeros
    );

    stand_in.set_pong(PongPayload::Empty);
    send(&mut socket, &Frame::ping(42)).await;
    let pong = next_frame(&mut socket).await;
    assert_eq!(pong.header("type"), Some("pong"));
    assert!(pong.payload.is_none());
    assert_eq!(pong.service, 42, "a pong answers the ping's service");

    stand_in.set_pong(PongPayload::Raw(b"{not json".to_vec()));
    send(&mut socket, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    assert_eq!(next_frame(&mut socket).await.payload(), b"{not json");

    let services: Vec<i32> = stand_in.pings().iter().map(|ping| ping.service).collect();
    let service = MockLongConnection::SERVICE_ID;
    assert_eq!(services, [service, service, service, 42, service]);
    assert_eq!(stand_in.ping_count(), 5);
    assert!(stand_in.pings().iter().all(|ping| ping.connection == 1));
}

#[tokio::test]
async fn a_push_acknowledged_with_200_is_delivered_once() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_scale(0.001);
    let mut socket = connect(&platform).await;
    let event = event();

    let pushing = {
        let event = event.clone();
        async move { stand_in.push(&event).await }
    };
    let client = async {
        let frame = next_frame(&mut socket).await;
        send(&mut socket, &frame.ack(200)).await;
        frame
    };
    let (delivery, frame) = tokio::join!(pushing, client);

    // The frame as the platform sends it.
    assert_eq!((frame.method, frame.service), (1, MockLongConnection::SERVICE_ID));
    assert_eq!(frame.header("type"), Some("event"));
    assert_eq!((frame.header("sum"), frame.header("seq")), (Some("1"), Some("0")));
    assert!(frame.header("message_id").is_some_and(|id| !id.is_empty()));
    assert!(frame.header("trace_id").is_some_and(|id| !id.is_empty()));
    assert!(frame.header("instance_id").is_some_and(|id| !id.is_empty()));
    assert!(frame.log_id_new.as_ref().is_some_and(|id| !id.is_empty()));
    assert_ne!(frame.seq_id, 0);
    let envelope: Value = serde_json::from_slice(frame.payload()).unwrap();
    assert_eq!(envelope["schema"], "2.0");
    assert_eq!(envelope["header"]["event_id"], event.event_id.as_str());
    assert_eq!(envelope["header"]["event_type"], "helpdesk.ticket.created_v1");
    assert_eq!(envelope["header"]["token"], "");
    assert_eq!(envelope["header"]["app_id"], APP_ID);
    assert_eq!(envelope["event"], event.event);
    assert!(envelope.get("encrypt").is_none());

    assert!(delivery.delivered);
    assert_eq!(delivery.attempts.len(), 1);
    let attempt = &delivery.attempts[0];
    assert_eq!((attempt.connection, attempt.code), (Some(1), Some(200)));
    assert_eq!(attempt.message_id.as_deref(), frame.header("message_id"));

    let acks = stand_in.acks();
    assert_eq!(acks.len(), 1);
    assert_eq!((acks[0].code, acks[0].biz_rt), (Some(200), Some(7)));
    assert!(acks[0].echoes_sent, "{:?}", acks[0]);
    assert_eq!(acks[0].frame.seq_id, frame.seq_id);
    assert_eq!(acks[0].frame.header("biz_rt"), Some("7"));

    // Nothing more comes: the event was delivered.
    assert_eq!(next_message(&mut socket, QUIET).await, None);
    let sent = stand_in.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].frame.payload, frame.payload());
}

#[tokio::test]
async fn an_ack_that_does_not_echo_the_frame_is_told_apart() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut socket = connect(&platform).await;

    let client = async {
        let frame = next_frame(&mut socket).await;
        let mut ack = frame.ack(200);
        ack.seq_id += 1;
        send(&mut socket, &ack).await;
    };
    let event = event();
    let (attempt, ()) = tokio::join!(stand_in.push_once(&event), client);

    // It still counts (by its message_id), but the test can see it is wrong.
    assert_eq!(attempt.code, Some(200));
    assert!(!stand_in.acks()[0].echoes_sent);
}

#[tokio::test]
async fn a_push_not_acknowledged_is_pushed_again_on_the_scaled_schedule() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_schedule(vec![Duration::from_secs(15), Duration::from_secs(30)]);
    stand_in.set_retry_scale(0.01);
    stand_in.set_deadline(Duration::from_millis(100));
    let schedule = [Duration::from_millis(150), Duration::from_millis(300)];
    assert_eq!(stand_in.schedule(), schedule);
    let mut socket = connect(&platform).await;
    let event = event();

    let client = async {
        // The first push goes unanswered, the second fails, the third is handled.
        let first = next_frame(&mut socket).await;
        let second = next_frame(&mut socket).await;
        send(&mut socket, &second.ack(500)).await;
        let third = next_frame(&mut socket).await;
        send(&mut socket, &third.ack(200)).await;
        [first, second, third]
    };
    let (delivery, frames) = tokio::join!(stand_in.push(&event), client);

    assert!(delivery.delivered);
    let codes: Vec<Option<i64>> = delivery.attempts.iter().map(|a| a.code).collect();
    assert_eq!(codes, [None, Some(500), Some(200)]);
    let waits: Vec<Duration> = delivery
        .attempts
        .windows(2)
        .map(|pair| pair[1].sent_at - pair[0].sent_at)
        .collect();
    // The unanswered push waits out the deadline, then the first retry's wait; the failed
    // one waits the second.
    assert!(waits[0] >= Duration::from_millis(100) + schedule[0], "{waits:?}");
    assert!(waits[1] >= schedule[1], "{waits:?}");
    assert!(
        waits[1] < Duration::from_millis(100) + schedule[1],
        "no deadline waited: {waits:?}"
    );
    assert!(delivery.attempts[0].latency >= Duration::from_millis(100));

    // The same event each time, under a fresh message id.
    let event_ids: BTreeSet<String> = frames
        .iter()
        .map(|frame| {
            serde_json::from_slice::<Value>(frame.payload()).unwrap()["header"]["event_id"].to_string()
        })
        .collect();
    assert_eq!(event_ids.len(), 1);
    let message_ids: BTreeSet<&str> = frames.iter().filter_map(|f| f.header("message_id")).collect();
    assert_eq!(message_ids.len(), 3);
    let seq_ids: BTreeSet<u64> = frames.iter().map(|frame| frame.seq_id).collect();
    let log_ids: BTreeSet<u64> = frames.iter().map(|frame| frame.log_id).collect();
    assert_eq!((seq_ids.len(), log_ids.len()), (3, 3));
}

#[tokio::test]
async fn with_no_live_connection_every_attempt_finds_none() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_schedule(vec![Duration::from_millis(20); 3]);

    let delivery = stand_in.push(&event()).await;

    assert!(!delivery.delivered);
    assert_eq!(delivery.attempts.len(), 4);
    assert!(delivery
        .attempts
        .iter()
        .all(|a| a.connection.is_none() && a.code.is_none()));
    assert!(delivery.attempts[3].sent_at >= Duration::from_millis(60));
    assert!(stand_in.sent().is_empty());
}

#[tokio::test]
async fn fragments_carry_sum_seq_and_one_message_id() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_fragments(3);
    stand_in.set_shuffle_fragments(true);
    let mut socket = connect(&platform).await;
    let event = event();

    let client = async {
        let mut frames = Vec::new();
        for _ in 0..3 {
            frames.push(next_frame(&mut socket).await);
        }
        send(&mut socket, &frames[2].ack(200)).await;
        frames
    };
    let (delivery, frames) = tokio::join!(stand_in.push(&event), client);
    assert!(delivery.delivered);

    let message_ids: BTreeSet<&str> = frames.iter().filter_map(|f| f.header("message_id")).collect();
    assert_eq!(message_ids.len(), 1);
    let trace_ids: BTreeSet<&str> = frames.iter().filter_map(|f| f.header("trace_id")).collect();
    assert_eq!(trace_ids.len(), 1);
    assert!(frames.iter().all(|frame| frame.header("sum") == Some("3")));
    let seqs: Vec<usize> = frames
        .iter()
        .map(|frame| frame.header("seq").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        seqs.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([0, 1, 2])
    );
    assert_ne!(seqs, [0, 1, 2], "shuffled: never in order");
    // In arrival order the parts are not the envelope; by seq they are.
    let joined: Vec<u8> = frames.iter().flat_map(|frame| frame.payload().to_vec()).collect();
    assert!(serde_json::from_slice::<Value>(&joined).is_err());
    let mut by_seq: Vec<(usize, &Frame)> = seqs.into_iter().zip(&frames).collect();
    by_seq.sort_by_key(|(seq, _)| *seq);
    let payload: Vec<u8> = by_seq.iter().flat_map(|(_, f)| f.payload().to_vec()).collect();
    let envelope: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(envelope["header"]["event_id"], event.event_id.as_str());
    // Each fragment is a frame of its own.
    let seq_ids: BTreeSet<u64> = frames.iter().map(|frame| frame.seq_id).collect();
    assert_eq!(seq_ids.len(), 3);
    assert!(stand_in.acks()[0].echoes_sent);
}

#[tokio::test]
async fn concurrent_pushes_spread_over_the_live_connections_at_random() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let one = ack_everything(connect(&platform).await, 200);
    let two = ack_everything(connect(&platform).await, 200);
    assert!(stand_in.wait_for_live(2, WAIT).await);

    let events: Vec<PushEvent> = (0..40).map(|_| event()).collect();
    let deliveries = futures_util::future::join_all(events.iter().map(|e| stand_in.push(e))).await;

    assert!(deliveries.iter().all(|d| d.delivered && d.attempts.len() == 1));
    let per_connection = |number| {
        deliveries
            .iter()
            .filter(|d| d.attempts[0].connection == Some(number))
            .count()
    };
    // Each connection had a fair chance at 40 pushes: both got some.
    assert!(
        per_connection(1) > 0 && per_connection(2) > 0,
        "{} {}",
        per_connection(1),
        per_connection(2)
    );
    assert_eq!(per_connection(1) + per_connection(2), 40);
    assert_eq!(stand_in.acks().len(), 40);

    stand_in.drop_connections();
    let acked = one.await.unwrap() + two.await.unwrap();
    assert_eq!(acked, 40);
}

#[tokio::test]
async fn dropped_connections_end_without_a_close_frame() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut dropped = connect(&platform).await;
    let mut reset = connect(&platform).await;
    assert!(stand_in.wait_for_live(2, WAIT).await);

    assert_eq!(stand_in.drop_connections(), 2);
    // Not live from the call on, before the sockets are gone.
    assert!(stand_in.live_connections().is_empty());
    for socket in [&mut dropped, &mut reset] {
        match tokio::time::timeout(WAIT, socket.next()).await.unwrap() {
            Some(Err(_)) | None => {}
            Some(Ok(message)) => panic!("a message instead of the end: {message:?}"),
        }
    }

    let mut socket = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);
    assert_eq!(stand_in.reset_connections(), 1);
    match tokio::time::timeout(WAIT, socket.next()).await.unwrap() {
        Some(Err(_)) | None => {}
        Some(Ok(message)) => panic!("a message instead of the end: {message:?}"),
    }
    assert!(stand_in.closes().is_empty());
    assert_eq!(stand_in.live_connections(), Vec::<u64>::new());
}

#[tokio::test]
async fn a_half_open_connection_answers_nothing_and_gets_no_pushes() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    stand_in.set_retry_schedule(Vec::new());
    let mut stalled = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);

    assert_eq!(stand_in.go_half_open(), 1);
    assert!(stand_in.live_connections().is_empty());
    assert_eq!(stand_in.open_connections(), [1]);

    // No pong, not even at the WebSocket level; no push.
    send(&mut stalled, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    stalled
        .send(Message::Ping(Bytes::from_static(b"ws")))
        .await
        .unwrap();
    let attempt = stand_in.push_once(&event()).await;
    assert_eq!(attempt.connection, None);
    assert!(
        tokio::time::timeout(QUIET, stalled.next()).await.is_err(),
        "nothing comes"
    );
    assert_eq!(stand_in.ping_count(), 0);

    // A new connection behaves.
    let mut fresh = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);
    send(&mut fresh, &Frame::ping(MockLongConnection::SERVICE_ID)).await;
    assert_eq!(next_frame(&mut fresh).await.header("type"), Some("pong"));
    let event = event();
    let pushing = stand_in.push_once(&event);
    let client = async {
        let frame = next_frame(&mut fresh).await;
        send(&mut fresh, &frame.ack(200)).await;
    };
    let (attempt, ()) = tokio::join!(pushing, client);
    assert_eq!((attempt.connection, attempt.code), (Some(2), Some(200)));

    // The client gives the stalled socket up: it is no longer open.
    drop(stalled);
    assert!(stand_in.wait_until(WAIT, |s| s.open_connections() == [2]).await);
}

#[tokio::test]
async fn injected_messages_reach_every_live_connection() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let mut socket = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);

    assert_eq!(stand_in.inject(Injected::Card), 1);
    let card = next_frame(&mut socket).await;
    assert_eq!((card.method, card.header("type")), (1, Some("card")));
    assert!(card.header("message_id").is_some());
    assert!(serde_json::from_slice::<Value>(card.payload()).is_ok());

    stand_in.inject(Injected::UnknownType);
    let unknown = next_frame(&mut socket).await;
    assert_eq!((unknown.method, unknown.header("type")), (1, Some("x-unknown")));

    stand_in.inject(Injected::UnknownMethod);
    assert_eq!(next_frame(&mut socket).await.method, 7);

    stand_in.inject(Injected::ServerPing);
    let ping = next_frame(&mut socket).await;
    assert_eq!((ping.method, ping.header("type")), (0, Some("ping")));
    assert_eq!(ping.service, MockLongConnection::SERVICE_ID);

    stand_in.inject(Injected::Text);
    assert!(matches!(
        next_message(&mut socket, WAIT).await,
        Some(Message::Text(_))
    ));

    stand_in.inject(Injected::Undecodable);
    match next_message(&mut socket, WAIT).await {
        Some(Message::Binary(bytes)) => assert!(Frame::decode(bytes.as_ref()).is_err()),
        other => panic!("not a binary message: {other:?}"),
    }

    // What the client sends that is neither ping nor ack is kept apart.
    socket.send(Message::text("hello")).await.unwrap();
    send(
        &mut socket,
        &Frame {
            method: 1,
            ..Frame::ping(1)
        },
    )
    .await;
    assert!(stand_in.wait_until(WAIT, |s| s.other_messages().len() == 2).await);
    let others = stand_in.other_messages();
    assert_eq!(others[0].raw, b"hello");
    assert!(others[0].frame.is_none());
    assert_eq!(others[1].frame.as_ref().map(|f| f.method), Some(1));
    assert!(stand_in.acks().is_empty());
}

#[tokio::test]
async fn a_close_from_either_side_is_recorded() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();

    let mut socket = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);
    socket
        .close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    assert!(
        stand_in
            .wait_until(WAIT, |s| s.open_connections().is_empty())
            .await
    );
    let closes = stand_in.closes();
    assert_eq!(closes.len(), 1);
    assert_eq!(
        (closes[0].connection, closes[0].code, closes[0].reason.as_str()),
        (1, Some(1000), "bye")
    );

    let mut socket = connect(&platform).await;
    assert!(stand_in.wait_for_live(1, WAIT).await);
    assert_eq!(stand_in.close_connections(4000), 1);
    assert!(stand_in.live_connections().is_empty());
    match next_message(&mut socket, WAIT).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4000),
        other => panic!("not a close frame: {other:?}"),
    }
    // The client's close frame in return, which the WebSocket layer sends as it reads on.
    let rest = tokio::time::timeout(WAIT, socket.next()).await.unwrap();
    assert!(rest.is_none(), "{rest:?}");
    assert!(stand_in.wait_until(WAIT, |s| s.closes().len() == 2).await);
    assert_eq!(stand_in.closes()[1].connection, 2);
}

#[tokio::test]
async fn waiting_for_connections_gives_up_at_the_timeout() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let started = std::time::Instant::now();
    assert!(!stand_in.wait_for_live(1, Duration::from_millis(100)).await);
    assert!(started.elapsed() >= Duration::from_millis(100));

    // A connection made while a test waits wakes it.
    let (live, _socket) = tokio::join!(stand_in.wait_for_live(1, WAIT), connect(&platform));
    assert!(live);
}

#[tokio::test]
async fn debug_shows_no_secret_and_no_ticket() {
    let platform = MockPlatform::start().await;
    let stand_in = platform.long_connection();
    let url = url(&platform).await;
    let ticket = url.split("ticket=").nth(1).unwrap();
    let debug = format!("{stand_in:?} {platform:?}");
    assert!(debug.contains("MockLongConnection"), "{debug}");
    assert!(!debug.contains(APP_SECRET), "{debug}");
    assert!(!debug.contains(ticket), "{debug}");
}
