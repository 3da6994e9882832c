//! The testing kit's accounts side, driven over HTTP as a login client drives the platform:
//! the device flow, the authorization-code flow with PKCE, single-use refresh tokens,
//! `user_info`, the helpdesk operations taking the user tokens the kit issued, scripted
//! faults in the accounts' error shape, and the masking of every secret in the recorded
//! requests.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use feishu_helpdesk::testing::{
    self, MockCredentials, MockPlatform, Scripted, APP_ID, APP_SECRET, DEFAULT_PERSON_OPEN_ID,
};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const FORM: &str = "application/x-www-form-urlencoded";
const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Kit {
    platform: MockPlatform,
    http: reqwest::Client,
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn answered(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The refusal's status, code and `error`, for one assertion.
fn refused(answer: &(u16, Value)) -> (u16, i64, &str) {
    let (status, body) = answer;
    (
        *status,
        body["code"].as_i64().unwrap_or_default(),
        body["error"].as_str().unwrap_or_default(),
    )
}

impl Kit {
    async fn start() -> Self {
        Self::start_with(MockCredentials::default()).await
    }

    async fn start_with(credentials: MockCredentials) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            platform: MockPlatform::start_with(credentials).await,
            http,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.platform.base_url())
    }

    async fn start_device(&self, scope: &str) -> (u16, Value) {
        let request = self
            .http
            .post(self.url("/oauth/v1/device_authorization"))
            .basic_auth(APP_ID, Some(APP_SECRET))
            .header("content-type", FORM)
            .body(form(&[("client_id", APP_ID), ("scope", scope)]));
        answered(request.send().await.unwrap()).await
    }

    /// The token endpoint with a JSON body, the app's id and secret in it.
    async fn token(&self, mut body: Value) -> (u16, Value) {
        body["client_id"] = json!(APP_ID);
        body["client_secret"] = json!(APP_SECRET);
        let request = self
            .http
            .post(self.url("/oauth/v3/token"))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string());
        answered(request.send().await.unwrap()).await
    }

    /// The device flow's poll, with a form body as the platform's tool sends it.
    async fn poll(&self, device_code: &str) -> (u16, Value) {
        let request = self
            .http
            .post(self.url("/oauth/v3/token"))
            .header("content-type", FORM)
            .body(form(&[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", APP_ID),
                ("client_secret", APP_SECRET),
            ]));
        answered(request.send().await.unwrap()).await
    }

    async fn authorize(&self, redirect_uri: &str, state: &str) -> reqwest::Response {
        let query = form(&[
            ("client_id", APP_ID),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri),
            ("scope", "helpdesk:all offline_access"),
            ("state", state),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ]);
        let url = self.url(&format!("/open-apis/authen/v1/authorize?{query}"));
        self.http.get(url).send().await.unwrap()
    }

    /// The code of a browser step that went through.
    async fn code(&self) -> String {
        let response = self.authorize(REDIRECT, "s1").await;
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let url = url::Url::parse(&location).unwrap();
        let code = url.query_pairs().find(|(name, _)| name == "code").unwrap();
        code.1.into_owned()
    }

    async fn exchange(&self, code: &str, redirect_uri: &str, verifier: &str) -> (u16, Value) {
        self.token(json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }))
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.token(json!({"grant_type": "refresh_token", "refresh_token": refresh_token}))
            .await
    }

    async fn user_info(&self, token: &str) -> (u16, Value) {
        let request = self
            .http
            .get(self.url("/open-apis/authen/v1/user_info"))
            .bearer_auth(token);
        answered(request.send().await.unwrap()).await
    }

    /// `create_faq`, an operation that acts for a person, with this user token.
    async fn create_faq(&self, token: &str) -> (u16, Value) {
        let helpdesk = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            testing::HELPDESK_ID,
            testing::HELPDESK_TOKEN
        ));
        let body = json!({"faq": {
            "category_id": "6836004780707807251",
            "question": "How do I connect to the VPN?",
            "answer": "Turn it on in the settings.",
            "tags": ["VPN"],
        }});
        let request = self
            .http
            .post(self.url("/open-apis/helpdesk/v1/faqs"))
            .bearer_auth(token)
            .header("x-lark-helpdesk-authorization", helpdesk)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string());
        answered(request.send().await.unwrap()).await
    }
}

fn text<'a>(answer: &'a (u16, Value), name: &str) -> &'a str {
    answer.1[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {answer:?}"))
}

#[tokio::test]
async fn the_device_flow_pends_slows_down_then_issues_tokens_once() {
    let kit = Kit::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await;
    let started = kit.start_device("helpdesk:all offline_access").await;
    assert_eq!(started.0, 200, "{started:?}");
    let body = &started.1;
    let user_code = text(&started, "user_code");
    assert_eq!(body["verification_uri"], kit.url("/device"));
    assert_eq!(
        body["verification_uri_complete"],
        kit.url(&format!("/device?user_code={user_code}"))
    );
    assert_eq!(
        (body["interval"].as_u64(), body["expires_in"].as_u64()),
        (Some(1), Some(240))
    );
    let device_code = text(&started, "device_code");

    let pending = kit.poll(device_code).await;
    assert_eq!(
        refused(&pending),
        (400, testing::AUTHORIZATION_PENDING, "authorization_pending")
    );
    // Again at once, under the interval: slow down.
    let slow = kit.poll(device_code).await;
    assert_eq!(refused(&slow), (400, testing::SLOW_DOWN, "slow_down"));
    assert!(text(&slow, "error_description").contains("6 seconds"), "{slow:?}");

    assert_eq!(kit.platform.pending_device_logins(), [user_code]);
    assert!(kit.platform.approve_device_login(user_code));
    kit.platform.advance_clock(Duration::from_secs(7));
    let issued = kit.poll(device_code).await;
    assert_eq!(issued.0, 200, "{issued:?}");
    assert_eq!(issued.1["code"], 0);
    assert_eq!(issued.1["token_type"], "Bearer");
    assert_eq!(issued.1["scope"], "helpdesk:all offline_access");
    assert_eq!(issued.1["expires_in"], 7200);
    assert_eq!(issued.1["refresh_token_expires_in"], 604_800);
    assert!(text(&issued, "access_token").starts_with("u-"));
    assert!(!text(&issued, "refresh_token").is_empty());
    assert_eq!(kit.platform.user_tokens_issued(), 1);

    kit.platform.advance_clock(Duration::from_secs(7));
    let again = kit.poll(device_code).await;
    assert_eq!(refused(&again), (400, 20065, "invalid_grant"));
    assert_eq!(kit.platform.user_tokens_issued(), 1);

    let me = kit.user_info(text(&issued, "access_token")).await;
    assert_eq!(me.0, 200, "{me:?}");
    assert_eq!(me.1["data"]["open_id"], DEFAULT_PERSON_OPEN_ID);
    assert_eq!(me.1["data"]["name"], testing::DEFAULT_PERSON_NAME);
}

#[tokio::test]
async fn a_device_login_denied_expired_unknown_or_badly_authenticated_is_refused() {
    let kit = Kit::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await;
    let denied = kit.start_device("offline_access").await;
    let expired = kit.start_device("offline_access").await;
    assert!(kit.platform.deny_device_login(text(&denied, "user_code")));
    assert!(kit.platform.expire_device_login(text(&expired, "user_code")));
    assert_eq!(kit.platform.approve_device_logins(), 0, "nothing left pending");

    let poll = kit.poll(text(&denied, "device_code")).await;
    assert_eq!(refused(&poll), (400, testing::ACCESS_DENIED, "access_denied"));
    let poll = kit.poll(text(&expired, "device_code")).await;
    assert_eq!(refused(&poll), (400, 20004, "expired_token"));
    let poll = kit.poll("dc-unknown").await;
    assert_eq!(refused(&poll), (400, 20003, "invalid_grant"));

    let wrong_basic = kit
        .http
        .post(kit.url("/oauth/v1/device_authorization"))
        .basic_auth(APP_ID, Some("not-the-secret"))
        .header("content-type", FORM)
        .body(form(&[("client_id", APP_ID), ("scope", "offline_access")]))
        .send()
        .await
        .unwrap();
    let wrong_basic = answered(wrong_basic).await;
    assert_eq!(refused(&wrong_basic), (400, 20002, "invalid_client"));
    assert!(text(&wrong_basic, "error_description").contains("Basic"));

    let as_json = kit
        .http
        .post(kit.url("/oauth/v1/device_authorization"))
        .basic_auth(APP_ID, Some(APP_SECRET))
        .header("content-type", "application/json")
        .body(json!({"client_id": APP_ID}).to_string())
        .send()
        .await
        .unwrap();
    let as_json = answered(as_json).await;
    assert_eq!(refused(&as_json), (400, 20063, "invalid_request"));
}

#[tokio::test]
async fn the_code_flow_redirects_with_code_and_state_and_exchanges_it_once() {
    let kit = Kit::start().await;
    let response = kit.authorize(REDIRECT, "st-42").await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?code=")), "{location}");
    assert!(location.ends_with("&state=st-42"), "{location}");
    let code = kit.code().await;
    assert!(code.len() >= 64, "{code}");

    // Refusals leave the code usable: a different redirect_uri, a verifier that does not
    // match or is malformed, the secret sent twice, a wrong secret.
    let other = kit
        .exchange(&code, "http://127.0.0.1:7778/callback", VERIFIER)
        .await;
    assert_eq!(refused(&other), (400, 20071, "invalid_grant"));
    let mismatch = kit.exchange(&code, REDIRECT, &"a".repeat(43)).await;
    assert_eq!(refused(&mismatch), (400, 20049, "invalid_grant"));
    let short = kit.exchange(&code, REDIRECT, "too-short").await;
    assert_eq!(refused(&short), (400, 20063, "invalid_request"));
    let twice = kit
        .http
        .post(kit.url("/oauth/v3/token"))
        .basic_auth(APP_ID, Some(APP_SECRET))
        .header("content-type", FORM)
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_secret", APP_SECRET),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(refused(&answered(twice).await), (400, 20070, "invalid_request"));
    let wrong_secret = kit
        .http
        .post(kit.url("/oauth/v3/token"))
        .header("content-type", FORM)
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", APP_ID),
            ("client_secret", "wrong"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused(&answered(wrong_secret).await),
        (400, 20002, "invalid_client")
    );

    let issued = kit.exchange(&code, REDIRECT, VERIFIER).await;
    assert_eq!(issued.0, 200, "{issued:?}");
    assert_eq!(issued.1["scope"], "helpdesk:all offline_access");
    assert!(issued.1["refresh_token"].is_string(), "{issued:?}");
    let reused = kit.exchange(&code, REDIRECT, VERIFIER).await;
    assert_eq!(refused(&reused), (400, 20065, "invalid_grant"));
    let unknown = kit.exchange("no-such-code", REDIRECT, VERIFIER).await;
    assert_eq!(refused(&unknown), (400, 20003, "invalid_grant"));

    // A code lives 5 minutes.
    let aged = kit.code().await;
    kit.platform.advance_clock(Duration::from_secs(301));
    let late = kit.exchange(&aged, REDIRECT, VERIFIER).await;
    assert_eq!(refused(&late), (400, 20004, "invalid_grant"));
}

#[tokio::test]
async fn the_browser_step_refuses_unknown_apps_and_redirect_urls_and_can_be_denied() {
    let kit = Kit::start().await;
    let elsewhere = "https://app.example.com/oauth/callback";
    let response = kit.authorize(elsewhere, "s").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("20029"));
    kit.platform.allow_redirect_uri(elsewhere);
    assert_eq!(kit.authorize(elsewhere, "s").await.status(), 302);
    assert_eq!(
        kit.authorize("http://localhost:3000/callback", "s")
            .await
            .status(),
        302
    );

    let query = form(&[
        ("client_id", "cli_someone_else"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
    ]);
    let url = kit.url(&format!("/open-apis/authen/v1/authorize?{query}"));
    let response = kit.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("20048"));

    kit.platform.deny_authorization(true);
    let response = kit.authorize(REDIRECT, "st-7").await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        format!("{REDIRECT}?error=access_denied&state=st-7").as_str()
    );
    kit.platform.deny_authorization(false);

    // The person set to log in is who the token belongs to.
    kit.platform.add_person("ou_alice", "Alice");
    kit.platform.log_in_as("ou_alice");
    let code = kit.code().await;
    let issued = kit.exchange(&code, REDIRECT, VERIFIER).await;
    let me = kit.user_info(text(&issued, "access_token")).await;
    assert_eq!(
        (me.1["data"]["open_id"].as_str(), me.1["data"]["name"].as_str()),
        (Some("ou_alice"), Some("Alice"))
    );
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_the_old_refresh_token_dies() {
    let kit = Kit::start().await;
    let (access, refresh) = kit.platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    let renewed = kit.refresh(&refresh).await;
    assert_eq!(renewed.0, 200, "{renewed:?}");
    let (new_access, new_refresh) = (text(&renewed, "access_token"), text(&renewed, "refresh_token"));
    assert_ne!((new_access, new_refresh), (access.as_str(), refresh.as_str()));

    let reused = kit.refresh(&refresh).await;
    assert_eq!(refused(&reused), (400, 20064, "invalid_grant"));
    assert_eq!(
        (kit.platform.refresh_requests(), kit.platform.refreshes_refused()),
        (2, 1)
    );
    assert_eq!(kit.platform.user_tokens_issued(), 2);

    // The old access token keeps working for a minute, then is refused as expired.
    assert_eq!(kit.create_faq(&access).await.0, 200);
    kit.platform
        .advance_clock(testing::REFRESH_GRACE + Duration::from_secs(1));
    let old = kit.create_faq(&access).await;
    assert_eq!(
        (old.0, old.1["code"].as_i64()),
        (401, Some(testing::USER_TOKEN_EXPIRED))
    );
    assert_eq!(kit.create_faq(new_access).await.0, 200);

    let unknown = kit.refresh("ur-unknown").await;
    assert_eq!(refused(&unknown), (400, 20026, "invalid_grant"));
    kit.platform.advance_clock(Duration::from_secs(604_800));
    let expired = kit.refresh(new_refresh).await;
    assert_eq!(refused(&expired), (400, 20037, "invalid_grant"));

    let (_, seeded) = kit.platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    kit.platform.revoke_refresh_tokens();
    let revoked = kit.refresh(&seeded).await;
    assert_eq!(refused(&revoked), (400, 20064, "invalid_grant"));
}

#[tokio::test]
async fn without_the_refresh_setting_or_offline_access_no_refresh_token_is_issued() {
    let kit = Kit::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await;
    let (_, refresh) = kit.platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    kit.platform.allow_refresh(false);

    let started = kit.start_device("helpdesk:all offline_access").await;
    kit.platform.approve_device_logins();
    let issued = kit.poll(text(&started, "device_code")).await;
    assert_eq!(issued.0, 200, "{issued:?}");
    assert!(issued.1.get("refresh_token").is_none(), "{issued:?}");
    let refused_refresh = kit.refresh(&refresh).await;
    assert_eq!(refused(&refused_refresh), (400, 20074, "unauthorized_client"));

    kit.platform.allow_refresh(true);
    let started = kit.start_device("helpdesk:all").await;
    kit.platform.approve_device_logins();
    let issued = kit.poll(text(&started, "device_code")).await;
    assert!(issued.1.get("refresh_token").is_none(), "{issued:?}");
}

#[tokio::test]
async fn helpdesk_operations_take_issued_user_tokens_until_they_expire() {
    let kit = Kit::start().await;
    let (access, _) = kit.platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    let created = kit.create_faq(&access).await;
    assert_eq!(
        (created.0, created.1["code"].as_i64()),
        (200, Some(0)),
        "{created:?}"
    );

    kit.platform.expire_user_tokens();
    let expired = kit.create_faq(&access).await;
    assert_eq!(
        (expired.0, expired.1["code"].as_i64()),
        (401, Some(testing::USER_TOKEN_EXPIRED))
    );
    let me = kit.user_info(&access).await;
    assert_eq!(
        (me.0, me.1["code"].as_i64()),
        (401, Some(testing::USER_TOKEN_EXPIRED))
    );

    let unknown = kit.create_faq("u-never-issued").await;
    assert_eq!(
        (unknown.0, unknown.1["code"].as_i64()),
        (401, Some(testing::USER_TOKEN_INVALID))
    );
    let me = kit.user_info("u-never-issued").await;
    assert_eq!(
        (me.0, me.1["code"].as_i64()),
        (401, Some(testing::USER_TOKEN_INVALID))
    );

    // The fixed user token of the credentials stays accepted.
    assert_eq!(kit.create_faq(testing::USER_ACCESS_TOKEN).await.0, 200);
    let me = kit.user_info(testing::USER_ACCESS_TOKEN).await;
    assert_eq!(me.1["data"]["open_id"], DEFAULT_PERSON_OPEN_ID);
}

#[tokio::test]
async fn scripted_faults_answer_in_the_accounts_shape_and_leave_the_refresh_token() {
    let kit = Kit::start().await;
    let (_, refresh) = kit.platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    kit.platform.push_for(
        "get_user_access_token",
        Scripted::Error {
            http_status: 503,
            code: 20072,
            msg: "try again later".into(),
        },
    );
    let failed = kit.refresh(&refresh).await;
    assert_eq!(refused(&failed), (503, 20072, "temporarily_unavailable"));
    assert_eq!(failed.1["error_description"], "try again later");
    // The fault spent nothing: the same refresh token goes through next.
    assert_eq!(kit.refresh(&refresh).await.0, 200);
    assert_eq!(kit.platform.refresh_requests(), 2);

    kit.platform.push_for(
        "start_device_authorization",
        Scripted::Error {
            http_status: 500,
            code: 20050,
            msg: "internal".into(),
        },
    );
    assert_eq!(
        refused(&kit.start_device("offline_access").await),
        (500, 20050, "server_error")
    );

    kit.platform.push_for(
        "get_user_info",
        Scripted::Error {
            http_status: 500,
            code: 99991400,
            msg: "busy".into(),
        },
    );
    let me = kit.user_info(testing::USER_ACCESS_TOKEN).await;
    assert_eq!((me.0, &me.1), (500, &json!({"code": 99991400, "msg": "busy"})));

    // The helpdesk calls' shared script is not played on the accounts endpoints.
    kit.platform.push(Scripted::Html { http_status: 502 });
    assert_eq!(kit.start_device("offline_access").await.0, 200);
}

#[tokio::test]
async fn recorded_requests_mask_every_secret() {
    let kit = Kit::start_with(MockCredentials {
        device_poll_interval: 1,
        ..MockCredentials::default()
    })
    .await;
    let started = kit.start_device("offline_access").await;
    let device_code = text(&started, "device_code").to_owned();
    kit.platform.approve_device_logins();
    let issued = kit.poll(&device_code).await;
    let refresh = text(&issued, "refresh_token").to_owned();
    let renewed = kit.refresh(&refresh).await;
    let code = kit.code().await;
    let exchanged = kit.exchange(&code, REDIRECT, VERIFIER).await;
    kit.user_info(text(&exchanged, "access_token")).await;
    // An access token in a body is masked too.
    kit.token(json!({"grant_type": "refresh_token", "refresh_token": "ur-not-issued", "access_token": text(&renewed, "access_token")}))
        .await;

    let secrets = [
        APP_SECRET,
        &device_code,
        text(&issued, "access_token"),
        &refresh,
        text(&renewed, "access_token"),
        text(&renewed, "refresh_token"),
        &code,
        VERIFIER,
        text(&exchanged, "access_token"),
    ];
    let requests = kit.platform.requests();
    assert!(requests.len() >= 7, "{requests:#?}");
    for request in &requests {
        let shown = format!("{request:?}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} shown in {request:#?}");
        }
    }
    let device = &requests[0];
    assert_eq!(device.header("authorization"), ["Basic ***"]);
    assert!(device.body.contains("client_id=cli_mock"), "{}", device.body);
    let poll = &requests[1];
    assert!(poll.body.contains("device_code=***"), "{}", poll.body);
    assert!(poll.body.contains("client_secret=***"), "{}", poll.body);
}
