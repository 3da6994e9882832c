//! The stand-in's accounts side: a person's login (the device flow, the authorization-code
//! flow with PKCE), the user access tokens it issues, their single-use refresh tokens, and
//! who a token belongs to (`user_info`), on the same server as the open API.
//!
//! Each endpoint enforces its contract as the platform does and answers a violation in the
//! accounts' error shape, `{"code", "error", "error_description"}`, with the platform's code
//! (20001 a parameter missing, 20002 a wrong secret, 20003/20004/20065 a code not found,
//! expired or used, 20026/20037/20064 a refresh token unknown, expired or used, 20029 a
//! redirect URL not allowed, 20036 an unknown grant type, 20048 an unknown app, 20049 a failed
//! PKCE check, 20063 a malformed request, 20068 a scope not granted, 20070 two client
//! authentications, 20071 a different `redirect_uri`, 20074 refreshing not allowed) and a
//! description that says what was wrong.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{envelope, respond, Answer, MockPlatform, Scripted, Shared, JSON_UTF8};

const DEVICE_AUTHORIZATION: &str = "/oauth/v1/device_authorization";
const TOKEN: &str = "/oauth/v3/token";
const AUTHORIZE: &str = "/open-apis/authen/v1/authorize";
const USER_INFO: &str = "/open-apis/authen/v1/user_info";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const FORM: &str = "application/x-www-form-urlencoded";
/// An authorization code's life, as on the platform.
const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// A device login's life (`expires_in`), the platform's command-line tool's fallback.
const DEVICE_LOGIN_LIFETIME: u64 = 240;
/// The body fields whose values the recorded requests mask.
const SECRET_FIELDS: [&str; 6] = [
    "client_secret",
    "code_verifier",
    "refresh_token",
    "device_code",
    "code",
    "access_token",
];

/// The open id of the person the stand-in logs in unless told otherwise
/// ([`MockPlatform::log_in_as`]).
pub const DEFAULT_PERSON_OPEN_ID: &str = "ou_mock_agent";
/// The name of the person of [`DEFAULT_PERSON_OPEN_ID`].
pub const DEFAULT_PERSON_NAME: &str = "Mock Agent";
/// The platform's code for a user access token it does not know (HTTP 401): 99991668,
/// "user_access_token invalid" in the platform's generic error codes
/// (`open.feishu.cn/document/server-docs/api-call-guide/generic-error-code`, as the
/// platform's own command-line tool `larksuite/cli` names it in `internal/output/lark_errors.go`
/// and renews a user token on it).
pub const USER_TOKEN_INVALID: i64 = 99991668;
/// The platform's code for an expired user access token (HTTP 401): 99991677, "user_access_token
/// expired, refresh to obtain a new one" (same sources as [`USER_TOKEN_INVALID`]; the platform's
/// message is "Authentication token expired").
pub const USER_TOKEN_EXPIRED: i64 = 99991677;
/// How long a user access token keeps working after a refresh replaced it, as on the
/// platform ("about a minute").
pub const REFRESH_GRACE: Duration = Duration::from_secs(60);
/// The device flow's `authorization_pending` code. The platform documents no code for the
/// device flow's answers (clients key on `error`); the stand-in's own.
pub const AUTHORIZATION_PENDING: i64 = 20081;
/// The device flow's `slow_down` code (the stand-in's own, see [`AUTHORIZATION_PENDING`]).
pub const SLOW_DOWN: i64 = 20082;
/// The device flow's `access_denied` code (the stand-in's own, see [`AUTHORIZATION_PENDING`]).
pub const ACCESS_DENIED: i64 = 20083;

/// The accounts endpoints, as the stand-in routes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    DeviceAuthorization,
    Token,
    Authorize,
    UserInfo,
}

impl Route {
    /// The operation id a test scripts faults for with `MockPlatform::push_for`.
    pub(super) fn operation(self) -> Option<&'static str> {
        match self {
            Route::DeviceAuthorization => Some("start_device_authorization"),
            Route::Token => Some("get_user_access_token"),
            Route::UserInfo => Some("get_user_info"),
            Route::Authorize => None,
        }
    }
}

/// The accounts endpoint of a request, if it is one.
pub(super) fn route(method: &http::Method, path: &str) -> Option<Route> {
    match (method, path) {
        (&http::Method::POST, DEVICE_AUTHORIZATION) => Some(Route::DeviceAuthorization),
        (&http::Method::POST, TOKEN) => Some(Route::Token),
        (&http::Method::GET, AUTHORIZE) => Some(Route::Authorize),
        (&http::Method::GET, USER_INFO) => Some(Route::UserInfo),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved(String),
    Denied,
    Used,
}

struct DeviceLogin {
    device_code: String,
    user_code: String,
    scope: String,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: DeviceState,
}

struct CodeGrant {
    open_id: String,
    redirect_uri: String,
    /// The `code_challenge` and its method, if the authorize request had one.
    challenge: Option<(String, String)>,
    scope: String,
    issued_at: Instant,
    used: bool,
}

struct UserToken {
    open_id: String,
    expires_at: Instant,
}

struct RefreshGrant {
    open_id: String,
    scope: String,
    expires_at: Instant,
    /// The access token issued with it, which a refresh leaves working for `REFRESH_GRACE`.
    access_token: String,
    /// Used or revoked: single use, so either way it is refused with 20064.
    spent: bool,
}

/// The accounts side's state, inside the stand-in's shared state.
pub(super) struct Accounts {
    people: BTreeMap<String, String>,
    login_as: String,
    deny: bool,
    allow_refresh: bool,
    redirect_uris: Vec<String>,
    /// How far the test moved the accounts clock forward.
    offset: Duration,
    devices: Vec<DeviceLogin>,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, UserToken>,
    refresh: HashMap<String, RefreshGrant>,
    refresh_requests: usize,
    refreshes_refused: usize,
    user_tokens_issued: usize,
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            people: BTreeMap::from([(DEFAULT_PERSON_OPEN_ID.to_owned(), DEFAULT_PERSON_NAME.to_owned())]),
            login_as: DEFAULT_PERSON_OPEN_ID.to_owned(),
            deny: false,
            allow_refresh: true,
            redirect_uris: Vec::new(),
            offset: Duration::ZERO,
            devices: Vec::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            refresh_requests: 0,
            refreshes_refused: 0,
            user_tokens_issued: 0,
        }
    }
}

impl Accounts {
    fn now(&self) -> Instant {
        Instant::now() + self.offset
    }

    /// Issues an access token (and a refresh token if the scope and the console allow one)
    /// for `open_id`, and gives the token endpoint's success answer.
    fn issue(&mut self, shared: &Shared, open_id: &str, scope: &str) -> Value {
        let credentials = &shared.credentials;
        let now = self.now();
        let access_token = format!("u-{}", random(60));
        self.access.insert(
            access_token.clone(),
            UserToken {
                open_id: open_id.to_owned(),
                expires_at: now + Duration::from_secs(credentials.user_token_lifetime),
            },
        );
        self.user_tokens_issued += 1;
        let mut answer = json!({
            "code": 0,
            "access_token": access_token,
            "expires_in": credentials.user_token_lifetime,
            "scope": scope,
            "token_type": "Bearer",
        });
        let offline = scope.split_whitespace().any(|s| s == "offline_access");
        if offline && self.allow_refresh {
            let refresh_token = format!("ur-{}", random(60));
            self.refresh.insert(
                refresh_token.clone(),
                RefreshGrant {
                    open_id: open_id.to_owned(),
                    scope: scope.to_owned(),
                    expires_at: now + Duration::from_secs(credentials.refresh_token_lifetime),
                    access_token,
                    spent: false,
                },
            );
            answer["refresh_token"] = json!(refresh_token);
            answer["refresh_token_expires_in"] = json!(credentials.refresh_token_lifetime);
        }
        answer
    }

    fn person(&self, open_id: &str) -> Value {
        let name = self.people.get(open_id).cloned().unwrap_or_default();
        let key = open_id.trim_start_matches("ou_");
        json!({
            "name": name,
            "en_name": name,
            "open_id": open_id,
            "union_id": format!("on_{key}"),
            "user_id": format!("mock_{key}"),
            "email": format!("{key}@example.com"),
            "tenant_key": "mock_tenant",
            "avatar_url": format!("https://example.com/avatars/{key}.png"),
        })
    }
}

/// Where a user access token stands.
pub(super) enum UserTokenStatus {
    /// Issued and working, for this person.
    Valid(String),
    /// Issued, and expired.
    Expired,
    /// Never issued.
    Unknown,
}

/// Where `token` stands among the user access tokens the stand-in issued.
pub(super) fn user_token(shared: &Shared, token: &str) -> UserTokenStatus {
    let state = shared.state();
    let accounts = &state.accounts;
    match accounts.access.get(token) {
        Some(issued) if accounts.now() < issued.expires_at => UserTokenStatus::Valid(issued.open_id.clone()),
        Some(_) => UserTokenStatus::Expired,
        None => UserTokenStatus::Unknown,
    }
}

/// The platform's refusal of an expired user access token.
pub(super) fn expired_user_token() -> Answer {
    envelope(401, USER_TOKEN_EXPIRED, "Authentication token expired.")
}

/// The platform's refusal of a user access token it does not know.
pub(super) fn invalid_user_token() -> Answer {
    envelope(
        401,
        USER_TOKEN_INVALID,
        "Invalid access token for authorization. Please make a request with token attached.",
    )
}

/// Notes what a request is before any scripted answer takes its place: the refresh
/// requests are counted however they are answered.
pub(super) fn note(shared: &Shared, route: Route, parts: &http::request::Parts, body: &Bytes) {
    if route != Route::Token {
        return;
    }
    let refresh = params(parts, body)
        .ok()
        .is_some_and(|p| p.get("grant_type").map(String::as_str) == Some("refresh_token"));
    if refresh {
        shared.state().accounts.refresh_requests += 1;
    }
}

/// A scripted answer in the endpoint's own shape: the accounts' error shape on the accounts
/// endpoints, the open API's envelope on `user_info`. `None` for `Delay` (the normal answer,
/// later).
pub(super) fn scripted(route: Route, answer: &Scripted) -> Option<Answer> {
    let open_api = route == Route::UserInfo;
    Some(match answer {
        Scripted::Error {
            http_status,
            code,
            msg,
        } if open_api => envelope(*http_status, *code, msg),
        Scripted::Error {
            http_status,
            code,
            msg,
        } => {
            let error = error_name(*code).unwrap_or(match http_status {
                503 => "temporarily_unavailable",
                500.. => "server_error",
                _ => "invalid_request",
            });
            refusal_as(*http_status, *code, error, msg).answer()
        }
        Scripted::RateLimited { reset_seconds } => {
            let mut answer = if open_api {
                envelope(429, 99991400, "request trigger frequency limit")
            } else {
                refusal_as(
                    429,
                    99991400,
                    "temporarily_unavailable",
                    "request trigger frequency limit",
                )
                .answer()
            };
            if let Ok(value) = reset_seconds.to_string().parse() {
                answer.headers_mut().insert("x-ogw-ratelimit-reset", value);
            }
            answer
        }
        Scripted::InvalidToken if open_api => invalid_user_token(),
        Scripted::InvalidToken if route == Route::Token => {
            refusal(400, 20026, "the refresh token is invalid").answer()
        }
        Scripted::InvalidToken => refusal(400, 20002, "the client secret is wrong").answer(),
        Scripted::Html { http_status } => {
            let page = format!("<html><body><h1>{http_status}</h1></body></html>");
            respond(*http_status, "text/html", page)
        }
        Scripted::Delay(_) => return None,
    })
}

/// The platform's answer to an accounts request, enforcing the contract.
pub(super) fn answer(shared: &Shared, route: Route, parts: &http::request::Parts, body: &Bytes) -> Answer {
    match route {
        Route::DeviceAuthorization => start_device_login(shared, parts, body).unwrap_or_else(Refusal::answer),
        Route::Token => token(shared, parts, body).unwrap_or_else(Refusal::answer),
        Route::Authorize => authorize(shared, parts),
        Route::UserInfo => user_info(shared, parts),
    }
}

/// The body with the values of its secret fields masked: a form's values, or a JSON
/// object's strings, where they stand (nothing else in the body changes).
pub(super) fn masked(body: &str) -> String {
    if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) {
        let mut body = body.to_owned();
        for name in SECRET_FIELDS {
            let Some(value) = fields.get(name).filter(|v| v.is_string()) else {
                continue;
            };
            // The value as a whole JSON string, quotes included, so that nothing else matches.
            body = body.replace(&value.to_string(), "\"***\"");
        }
        return body;
    }
    if !body.contains('=') {
        return body.to_owned();
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(body.as_bytes()).map(|(name, value)| {
            let secret = SECRET_FIELDS.contains(&name.as_ref());
            let value = if secret { "***".into() } else { value };
            (name, value)
        }))
        .finish()
}

fn error_name(code: i64) -> Option<&'static str> {
    Some(match code {
        20001 | 20063 | 20067 | 20070 => "invalid_request",
        20002 | 20009 | 20048 | 20069 => "invalid_client",
        20003 | 20004 | 20008 | 20024 | 20026 | 20037 | 20049 | 20064 | 20065 | 20066 | 20071 | 20073 => {
            "invalid_grant"
        }
        20010 | 20074 => "unauthorized_client",
        20036 => "unsupported_grant_type",
        20068 => "invalid_scope",
        20050 => "server_error",
        20072 => "temporarily_unavailable",
        AUTHORIZATION_PENDING => "authorization_pending",
        SLOW_DOWN => "slow_down",
        ACCESS_DENIED => "access_denied",
        _ => return None,
    })
}

/// An accounts refusal, answered as `{"code", "error", "error_description"}`.
struct Refusal {
    status: u16,
    code: i64,
    error: &'static str,
    description: String,
}

impl Refusal {
    fn answer(self) -> Answer {
        let body = json!({"code": self.code, "error": self.error, "error_description": self.description});
        respond(self.status, JSON_UTF8, body.to_string())
    }
}

/// The accounts' refusal, its `error` from the code.
fn refusal(status: u16, code: i64, description: &str) -> Refusal {
    refusal_as(
        status,
        code,
        error_name(code).unwrap_or("invalid_request"),
        description,
    )
}

fn refusal_as(status: u16, code: i64, error: &'static str, description: &str) -> Refusal {
    Refusal {
        status,
        code,
        error,
        description: description.to_owned(),
    }
}

/// The authorize page's refusal: the browser shows the platform's error page.
fn page(code: i64, message: &str) -> Answer {
    let page = format!(
        "<html><body><h1>Authorization failed</h1><p>error code: {code}</p><p>{message}</p></body></html>"
    );
    respond(400, "text/html; charset=utf-8", page)
}

/// The body's parameters, from JSON (an object of strings) or a form.
fn params(parts: &http::request::Parts, body: &Bytes) -> Result<HashMap<String, String>, Refusal> {
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let malformed = |what: &str| {
        refusal(
            400,
            20063,
            &format!("the body must be {what}, sent as {JSON_UTF8} or {FORM}"),
        )
    };
    match media {
        "application/json" => {
            let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                return Err(malformed("a JSON object"));
            };
            fields
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(value) => Ok((name, value)),
                    _ => Err(malformed("a JSON object of strings")),
                })
                .collect()
        }
        FORM => {
            let mut fields = HashMap::new();
            for (name, value) in url::form_urlencoded::parse(body) {
                if fields.insert(name.to_string(), value.into_owned()).is_some() {
                    return Err(malformed(&format!("a form with {name} given once")));
                }
            }
            Ok(fields)
        }
        _ => Err(malformed("a JSON object or a form")),
    }
}

fn required<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Refusal> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| refusal(400, 20001, &format!("the parameter {name} is missing")))
}

/// The app id and secret of HTTP Basic, if the request has it.
fn basic(parts: &http::request::Parts) -> Option<Option<(String, String)>> {
    let header = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(decoded.and_then(|pair| {
        let (id, secret) = pair.split_once(':')?;
        Some((id.to_owned(), secret.to_owned()))
    }))
}

/// The app's authentication on the token endpoint: in the body or as HTTP Basic, not both.
fn authenticate(
    shared: &Shared,
    parts: &http::request::Parts,
    params: &HashMap<String, String>,
) -> Option<Refusal> {
    let credentials = &shared.credentials;
    let (id, secret) = match basic(parts) {
        Some(_) if params.contains_key("client_secret") => {
            return Some(refusal(
                400,
                20070,
                "the client secret is sent both in the body and as HTTP Basic: send it one way",
            ))
        }
        Some(Some(pair)) => pair,
        Some(None) => {
            return Some(refusal(
                400,
                20002,
                "the HTTP Basic credentials are not base64(app_id:app_secret)",
            ))
        }
        None => match (required(params, "client_id"), required(params, "client_secret")) {
            (Ok(id), Ok(secret)) => (id.to_owned(), secret.to_owned()),
            (Err(missing), _) | (_, Err(missing)) => return Some(missing),
        },
    };
    if id != credentials.app_id {
        return Some(refusal(400, 20048, &format!("no app has the client_id {id}")));
    }
    if secret != credentials.app_secret {
        return Some(refusal(400, 20002, "the client secret is wrong"));
    }
    None
}

/// `POST /oauth/v1/device_authorization`: HTTP Basic with the app's id and secret, a form
/// with `client_id` and `scope`.
fn start_device_login(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<Answer, Refusal> {
    let credentials = &shared.credentials;
    match basic(parts) {
        Some(Some((id, secret))) if id == credentials.app_id && secret == credentials.app_secret => {}
        _ => {
            return Err(refusal(
                400,
                20002,
                "the device authorization takes Authorization: Basic base64(app_id:app_secret) of the app",
            ))
        }
    }
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim() == FORM);
    if !is_form {
        return Err(refusal(
            400,
            20063,
            &format!("the device authorization takes a form body ({FORM})"),
        ));
    }
    let params = params(parts, body)?;
    let client_id = required(&params, "client_id")?;
    if client_id != credentials.app_id {
        return Err(refusal(
            400,
            20048,
            &format!("client_id {client_id} is not the app of the Basic credentials"),
        ));
    }
    let scope = params.get("scope").cloned().unwrap_or_default();
    let device_code = format!("dc-{}", random(40));
    let user_code = format!("{}-{}", random_upper(4), random_upper(4));
    let interval = credentials.device_poll_interval;
    let mut state = shared.state();
    let now = state.accounts.now();
    state.accounts.devices.push(DeviceLogin {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        scope,
        expires_at: now + Duration::from_secs(DEVICE_LOGIN_LIFETIME),
        interval: Duration::from_secs(interval),
        last_poll: None,
        state: DeviceState::Pending,
    });
    let verification_uri = format!("{}/device", shared.base_url);
    let answer = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
        "expires_in": DEVICE_LOGIN_LIFETIME,
        "interval": interval,
    });
    Ok(respond(200, JSON_UTF8, answer.to_string()))
}

/// `POST /oauth/v3/token`: the three grants.
fn token(shared: &Shared, parts: &http::request::Parts, body: &Bytes) -> Result<Answer, Refusal> {
    let params = params(parts, body)?;
    if let Some(refused) = authenticate(shared, parts, &params) {
        return Err(refused);
    }
    let issued = match required(&params, "grant_type")? {
        DEVICE_GRANT => poll_device_login(shared, &params)?,
        "authorization_code" => exchange_code(shared, &params)?,
        "refresh_token" => refresh(shared, &params)?,
        other => {
            return Err(refusal(
                400,
                20036,
                &format!("the grant_type {other} is not supported: authorization_code, refresh_token or {DEVICE_GRANT}"),
            ))
        }
    };
    Ok(respond(200, JSON_UTF8, issued.to_string()))
}

fn poll_device_login(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Refusal> {
    let device_code = required(params, "device_code")?;
    let mut state = shared.state();
    let accounts = &mut state.accounts;
    let now = accounts.now();
    let Some(login) = accounts.devices.iter_mut().find(|l| l.device_code == device_code) else {
        return Err(refusal(400, 20003, "no device login has this device_code"));
    };
    let used = || {
        refusal(
            400,
            20065,
            "the device_code was used already: start a new device login",
        )
    };
    if login.state == DeviceState::Used {
        return Err(used());
    }
    if now >= login.expires_at {
        return Err(refusal_as(
            400,
            20004,
            "expired_token",
            "the device login expired: start a new one",
        ));
    }
    let too_soon = login.last_poll.is_some_and(|last| now < last + login.interval);
    login.last_poll = Some(now);
    if too_soon {
        // As RFC 8628 asks: every slow_down adds 5 seconds to the interval.
        login.interval += Duration::from_secs(5);
        let message = format!(
            "polled faster than the interval: wait {} seconds between polls",
            login.interval.as_secs()
        );
        return Err(refusal(400, SLOW_DOWN, &message));
    }
    match login.state.clone() {
        DeviceState::Pending => Err(refusal(
            400,
            AUTHORIZATION_PENDING,
            "the person has not approved the login yet",
        )),
        DeviceState::Denied => Err(refusal(400, ACCESS_DENIED, "the person denied the login")),
        DeviceState::Approved(open_id) => {
            login.state = DeviceState::Used;
            let scope = login.scope.clone();
            Ok(accounts.issue(shared, &open_id, &scope))
        }
        DeviceState::Used => Err(used()),
    }
}

/// The scope a token request asks for: what was granted, or a part of it.
fn narrowed(params: &HashMap<String, String>, granted: &str) -> Result<String, Refusal> {
    let Some(asked) = params.get("scope").filter(|s| !s.trim().is_empty()) else {
        return Ok(granted.to_owned());
    };
    let granted: Vec<&str> = granted.split_whitespace().collect();
    if let Some(extra) = asked.split_whitespace().find(|s| !granted.contains(s)) {
        return Err(refusal(400, 20068, &format!("the scope {extra} was not granted")));
    }
    Ok(asked.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn exchange_code(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Refusal> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let mut state = shared.state();
    let accounts = &mut state.accounts;
    let now = accounts.now();
    let Some(grant) = accounts.codes.get_mut(code) else {
        return Err(refusal(400, 20003, "no authorization code is this code"));
    };
    if grant.used {
        return Err(refusal(
            400,
            20065,
            "the authorization code was used already: it is single use",
        ));
    }
    if now >= grant.issued_at + CODE_LIFETIME {
        return Err(refusal(
            400,
            20004,
            "the authorization code expired: it lives 5 minutes",
        ));
    }
    if redirect_uri != grant.redirect_uri {
        return Err(refusal(
            400,
            20071,
            &format!(
                "redirect_uri {redirect_uri} differs from the authorize request's {}",
                grant.redirect_uri
            ),
        ));
    }
    match (&grant.challenge, params.get("code_verifier")) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(refusal(
                400,
                20049,
                "a code_verifier was sent, but the authorize request had no code_challenge",
            ))
        }
        (Some(_), None) => {
            return Err(refusal(
                400,
                20049,
                "the authorize request had a code_challenge: the code_verifier is required",
            ))
        }
        (Some((challenge, method)), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return Err(refusal(
                    400,
                    20063,
                    "the code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            let computed = if method == "S256" {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.clone()
            };
            if &computed != challenge {
                return Err(refusal(
                    400,
                    20049,
                    &format!("the code_verifier does not match the code_challenge ({method})"),
                ));
            }
        }
    }
    let scope = narrowed(params, &grant.scope)?;
    grant.used = true;
    let open_id = grant.open_id.clone();
    Ok(accounts.issue(shared, &open_id, &scope))
}

fn refresh(shared: &Shared, params: &HashMap<String, String>) -> Result<Value, Refusal> {
    let refresh_token = required(params, "refresh_token")?;
    let mut state = shared.state();
    let accounts = &mut state.accounts;
    if !accounts.allow_refresh {
        return Err(refusal(
            400,
            20074,
            "the app may not refresh user access tokens: turn on the refresh security setting",
        ));
    }
    let now = accounts.now();
    let Some(grant) = accounts.refresh.get_mut(refresh_token) else {
        return Err(refusal(400, 20026, "the refresh token is invalid"));
    };
    if grant.spent {
        accounts.refreshes_refused += 1;
        return Err(refusal(
            400,
            20064,
            "the refresh token was revoked: it was used already (each refresh gives a new one) or revoked",
        ));
    }
    if now >= grant.expires_at {
        return Err(refusal(
            400,
            20037,
            "the refresh token expired: the person must log in again",
        ));
    }
    let scope = narrowed(params, &grant.scope)?;
    grant.spent = true;
    let (open_id, old) = (grant.open_id.clone(), grant.access_token.clone());
    if let Some(old) = accounts.access.get_mut(&old) {
        old.expires_at = old.expires_at.min(now + REFRESH_GRACE);
    }
    Ok(accounts.issue(shared, &open_id, &scope))
}

/// Whether the redirect URL is the app's: one set with `allow_redirect_uri`, or a loopback
/// `/callback` on any port.
fn allowed_redirect(accounts: &Accounts, uri: &str) -> bool {
    let loopback = ["http://127.0.0.1:", "http://localhost:"].iter().any(|host| {
        uri.strip_prefix(host)
            .and_then(|rest| rest.strip_suffix("/callback"))
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
    });
    loopback || accounts.redirect_uris.iter().any(|allowed| allowed == uri)
}

/// `GET /open-apis/authen/v1/authorize`: the browser's step, played at once for the person
/// set to log in.
fn authorize(shared: &Shared, parts: &http::request::Parts) -> Answer {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = get("client_id").unwrap_or_default();
    if client_id != shared.credentials.app_id {
        return page(20048, &format!("no app has the client_id {client_id:?}"));
    }
    if get("response_type") != Some("code") {
        return page(20063, "response_type must be code");
    }
    let Some(redirect_uri) = get("redirect_uri") else {
        return page(20001, "the parameter redirect_uri is missing");
    };
    let mut state = shared.state();
    let accounts = &mut state.accounts;
    if !allowed_redirect(accounts, redirect_uri) {
        return page(
            20029,
            &format!("the redirect_uri {redirect_uri} is not among the app's redirect URLs"),
        );
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => return page(20063, "code_challenge_method without a code_challenge"),
        (Some(challenge), method @ (None | Some("S256" | "plain"))) => {
            Some((challenge.to_owned(), method.unwrap_or("plain").to_owned()))
        }
        (Some(_), Some(method)) => {
            return page(
                20063,
                &format!("code_challenge_method {method} is not S256 or plain"),
            )
        }
    };
    let state_param = query.get("state").cloned().unwrap_or_default();
    if accounts.deny {
        return redirect(
            redirect_uri,
            &[("error", "access_denied"), ("state", &state_param)],
        );
    }
    let code = random(64);
    let now = accounts.now();
    accounts.codes.insert(
        code.clone(),
        CodeGrant {
            open_id: accounts.login_as.clone(),
            redirect_uri: redirect_uri.to_owned(),
            challenge,
            scope: query.get("scope").cloned().unwrap_or_default(),
            issued_at: now,
            used: false,
        },
    );
    redirect(redirect_uri, &[("code", &code), ("state", &state_param)])
}

fn redirect(uri: &str, pairs: &[(&str, &str)]) -> Answer {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if uri.contains('?') { '&' } else { '?' };
    let mut answer = respond(302, "text/html; charset=utf-8", String::new());
    if let Ok(location) = format!("{uri}{separator}{query}").parse() {
        answer.headers_mut().insert(http::header::LOCATION, location);
    }
    answer
}

/// `GET /open-apis/authen/v1/user_info`: who the user access token belongs to.
fn user_info(shared: &Shared, parts: &http::request::Parts) -> Answer {
    let token = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return envelope(
            401,
            99991661,
            "Missing access token for authorization. Please make a request with token attached.",
        );
    };
    let open_id = if token == shared.credentials.user_access_token {
        DEFAULT_PERSON_OPEN_ID.to_owned()
    } else {
        match user_token(shared, token) {
            UserTokenStatus::Valid(open_id) => open_id,
            UserTokenStatus::Expired => return expired_user_token(),
            UserTokenStatus::Unknown => return invalid_user_token(),
        }
    };
    let data = shared.state().accounts.person(&open_id);
    respond(
        200,
        JSON_UTF8,
        json!({"code": 0, "msg": "success", "data": data}).to_string(),
    )
}

fn random(length: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(length)
        .collect()
}

fn random_upper(length: usize) -> String {
    std::iter::repeat_with(fastrand::uppercase).take(length).collect()
}

/// The controls that the control interface (`/__mock/`) shares with [`MockPlatform`].
impl Shared {
    pub(super) fn approve_device_logins(&self) -> usize {
        let mut state = self.state();
        let accounts = &mut state.accounts;
        let (now, person) = (accounts.now(), accounts.login_as.clone());
        let pending = accounts
            .devices
            .iter_mut()
            .filter(|l| l.state == DeviceState::Pending && now < l.expires_at);
        pending.fold(0, |approved, login| {
            login.state = DeviceState::Approved(person.clone());
            approved + 1
        })
    }

    pub(super) fn expire_user_tokens(&self) {
        let mut state = self.state();
        let now = state.accounts.now();
        for token in state.accounts.access.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
    }

    pub(super) fn revoke_refresh_tokens(&self) {
        let mut state = self.state();
        state
            .accounts
            .refresh
            .values_mut()
            .for_each(|grant| grant.spent = true);
    }
}

/// The accounts side's controls: who logs in, the logins pending, the tokens' lives.
impl MockPlatform {
    fn accounts<T>(&self, with: impl FnOnce(&mut Accounts) -> T) -> T {
        with(&mut self.shared.state().accounts)
    }

    /// Adds a person who can log in ([`log_in_as`](Self::log_in_as)); `user_info` gives their
    /// `name`. [`DEFAULT_PERSON_OPEN_ID`] is there from the start.
    pub fn add_person(&self, open_id: &str, name: &str) {
        self.accounts(|a| a.people.insert(open_id.to_owned(), name.to_owned()));
    }

    /// The person the next approvals log in: device logins approved from now on and the
    /// browser step of the authorization-code flow.
    ///
    /// # Panics
    ///
    /// If the person was not added with [`add_person`](Self::add_person).
    #[track_caller]
    pub fn log_in_as(&self, open_id: &str) {
        let known = self.accounts(|a| {
            let known = a.people.contains_key(open_id);
            if known {
                a.login_as = open_id.to_owned();
            }
            known
        });
        assert!(known, "no person {open_id}: add them with add_person first");
    }

    /// The `user_code` of each device login waiting for the person's approval, oldest first.
    pub fn pending_device_logins(&self) -> Vec<String> {
        self.accounts(|a| {
            let now = a.now();
            a.devices
                .iter()
                .filter(|l| l.state == DeviceState::Pending && now < l.expires_at)
                .map(|l| l.user_code.clone())
                .collect()
        })
    }

    fn settle_device_login(&self, user_code: &str, settle: impl Fn(&Accounts) -> DeviceState) -> bool {
        self.accounts(|a| {
            let settled = settle(a);
            let now = a.now();
            let login = a
                .devices
                .iter_mut()
                .find(|l| l.user_code == user_code && l.state == DeviceState::Pending && now < l.expires_at);
            login.map(|login| login.state = settled).is_some()
        })
    }

    /// The person set with [`log_in_as`](Self::log_in_as) approves the device login showing
    /// `user_code`: its next poll gets the tokens. `false` if no such login is pending.
    pub fn approve_device_login(&self, user_code: &str) -> bool {
        self.settle_device_login(user_code, |a| DeviceState::Approved(a.login_as.clone()))
    }

    /// Approves every pending device login, as the person set with
    /// [`log_in_as`](Self::log_in_as); gives how many.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use feishu_helpdesk::testing::{MockPlatform, APP_ID, APP_SECRET};
    ///
    /// let platform = MockPlatform::start().await;
    /// let http = reqwest::Client::new();
    /// let form = |pairs: &[(&str, &str)]| {
    ///     url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    /// };
    /// let started: serde_json::Value = http
    ///     .post(format!("{}/oauth/v1/device_authorization", platform.base_url()))
    ///     .basic_auth(APP_ID, Some(APP_SECRET))
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(form(&[("client_id", APP_ID), ("scope", "offline_access")]))
    ///     .send().await.unwrap().json().await.unwrap();
    /// assert_eq!(platform.approve_device_logins(), 1);
    /// let tokens: serde_json::Value = http
    ///     .post(format!("{}/oauth/v3/token", platform.base_url()))
    ///     .json(&serde_json::json!({
    ///         "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
    ///         "device_code": started["device_code"],
    ///         "client_id": APP_ID,
    ///         "client_secret": APP_SECRET,
    ///     }))
    ///     .send().await.unwrap().json().await.unwrap();
    /// assert_eq!(tokens["code"], 0);
    /// assert!(tokens["refresh_token"].is_string());
    /// # }
    /// ```
    pub fn approve_device_logins(&self) -> usize {
        self.shared.approve_device_logins()
    }

    /// The person denies the device login showing `user_code`: its next poll gets
    /// `access_denied`. `false` if no such login is pending.
    pub fn deny_device_login(&self, user_code: &str) -> bool {
        self.settle_device_login(user_code, |_| DeviceState::Denied)
    }

    /// The device login showing `user_code` expires now: its next poll gets
    /// `expired_token`. `false` if there is no such login.
    pub fn expire_device_login(&self, user_code: &str) -> bool {
        self.accounts(|a| {
            let now = a.now();
            let login = a.devices.iter_mut().find(|l| l.user_code == user_code);
            login.map(|login| login.expires_at = now).is_some()
        })
    }

    /// Whether the person declines in the browser: the authorize step then sends them back
    /// with `?error=access_denied&state=…` instead of a code.
    pub fn deny_authorization(&self, deny: bool) {
        self.accounts(|a| a.deny = deny);
    }

    /// Adds `uri` to the app's redirect URLs; a loopback `http://127.0.0.1:<port>/callback` or
    /// `http://localhost:<port>/callback` is allowed from the start.
    pub fn allow_redirect_uri(&self, uri: &str) {
        self.accounts(|a| a.redirect_uris.push(uri.to_owned()));
    }

    /// Moves the accounts side's clock forward: authorization codes, device logins, user
    /// access tokens and refresh tokens age by `by` (to test a code's 5 minutes, the
    /// [`REFRESH_GRACE`] or a poll interval without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.accounts(|a| a.offset += by);
    }

    /// Every user access token issued so far expires now: the next call with one is refused
    /// with [`USER_TOKEN_EXPIRED`]. (The fixed `MockCredentials::user_access_token` stays.)
    pub fn expire_user_tokens(&self) {
        self.shared.expire_user_tokens();
    }

    /// Revokes every refresh token issued so far: using one is refused with 20064.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.revoke_refresh_tokens();
    }

    /// The app's "refresh user_access_token" security setting (on by default): off, logins
    /// give no refresh token and a refresh is refused with 20074.
    pub fn allow_refresh(&self, allowed: bool) {
        self.accounts(|a| a.allow_refresh = allowed);
    }

    /// How many refresh requests (`grant_type=refresh_token`) reached the token endpoint,
    /// however they were answered.
    pub fn refresh_requests(&self) -> usize {
        self.accounts(|a| a.refresh_requests)
    }

    /// How many refreshes were refused with 20064 (a refresh token used twice or revoked).
    pub fn refreshes_refused(&self) -> usize {
        self.accounts(|a| a.refreshes_refused)
    }

    /// How many user access tokens the stand-in issued (logins, refreshes and
    /// [`issue_user_login`](Self::issue_user_login)).
    pub fn user_tokens_issued(&self) -> usize {
        self.accounts(|a| a.user_tokens_issued)
    }

    /// A login of `open_id` as if they had logged in (scope `offline_access helpdesk:all`):
    /// their user access token and refresh token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use feishu_helpdesk::testing::{MockPlatform, DEFAULT_PERSON_OPEN_ID};
    ///
    /// let platform = MockPlatform::start().await;
    /// let (access_token, _refresh_token) = platform.issue_user_login(DEFAULT_PERSON_OPEN_ID);
    /// let me: serde_json::Value = reqwest::Client::new()
    ///     .get(format!("{}/open-apis/authen/v1/user_info", platform.base_url()))
    ///     .bearer_auth(&access_token)
    ///     .send().await.unwrap().json().await.unwrap();
    /// assert_eq!(me["data"]["open_id"], DEFAULT_PERSON_OPEN_ID);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the person was not added with [`add_person`](Self::add_person), or refreshing is
    /// off ([`allow_refresh`](Self::allow_refresh)).
    #[track_caller]
    pub fn issue_user_login(&self, open_id: &str) -> (String, String) {
        let shared = &self.shared;
        let issued = self.accounts(|a| {
            (a.people.contains_key(open_id) && a.allow_refresh)
                .then(|| a.issue(shared, open_id, "offline_access helpdesk:all"))
        });
        let issued = issued.unwrap_or_else(|| {
            panic!("no login for {open_id}: add the person with add_person, and allow refresh")
        });
        let text = |name: &str| issued[name].as_str().unwrap_or_default().to_owned();
        (text("access_token"), text("refresh_token"))
    }
}
