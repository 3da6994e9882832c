//! The hooks of the generated client: credentials and content type on each request (and the
//! timeout, for a caller-supplied `reqwest::Client`); a note of each answer's status, log id
//! and rate-limit reset for the wrapper.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use progenitor_client::{ClientHooks, Error as GeneratedError, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use crate::auth::{AuthHeaders, Tenant, HELPDESK_AUTHORIZATION};
use crate::error::Error;
use crate::generated;
use crate::token::CachedToken;

/// The operation that obtains tenant access tokens; it carries no credentials.
const TOKEN_OPERATION: &str = "get_tenant_access_token";

/// The content type the platform asks for; the generated code sends it without charset.
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// The header the platform puts its log id in. Header names are constants, so that no
/// call parses one.
pub(crate) const LOG_ID: HeaderName = HeaderName::from_static("x-tt-logid");
/// The helpdesk credential header.
const HELPDESK: HeaderName = HeaderName::from_static(HELPDESK_AUTHORIZATION);

/// State shared by every request of one client (the generated client's inner value).
#[derive(Clone)]
pub struct HookState {
    pub(crate) auth: AuthHeaders,
    pub(crate) timeout: Duration,
    /// Whether the hook sets `timeout` on each request: for a caller-supplied
    /// `reqwest::Client`. The library's own client has it as its default, which costs
    /// nothing per request.
    pub(crate) timeout_per_request: bool,
    /// The base URL, parsed once.
    pub(crate) base_url: reqwest::Url,
    /// The base URL's path without its trailing slash: empty, or a proxy's prefix.
    pub(crate) base_path: String,
}

impl HookState {
    /// The URL of the operation at `path` (a path without parameters): the parsed base URL
    /// with `path` appended. The generated operations call this (see `build.rs`) rather than
    /// format the base URL into a string that reqwest parses again, host and all, per call.
    pub(crate) fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base_url.clone();
        if self.base_path.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&[self.base_path.as_str(), path].concat());
        }
        url
    }
}

impl fmt::Debug for HookState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookState")
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// What the hooks saw of one attempt: the token sent, or why there was none, and the
/// answer's status, log id and rate-limit reset. The wrapper reads the log id from here (the
/// hook takes the answer's headers), and the status when progenitor drops the response (a
/// body that is not the envelope, or a body that fails mid-read).
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponseMeta {
    pub(crate) http_status: Option<u16>,
    /// Kept as the header value (a reference count, not a copy) until it is needed.
    pub(crate) log_id: Option<HeaderValue>,
    pub(crate) rate_limit_reset: Option<std::time::Duration>,
    pub(crate) token_used: Option<CachedToken>,
    /// Boxed: the slot is moved in and out of the task-local on every poll.
    pub(crate) token_error: Option<Box<Error>>,
}

tokio::task_local! {
    /// Set for the duration of one wrapped call; unset when the generated client is used directly.
    pub(crate) static RESPONSE_META: RefCell<ResponseMeta>;
}

impl ClientHooks<HookState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), GeneratedError<E>> {
        let state = &self.inner;
        if info.operation_id != TOKEN_OPERATION {
            let authorization = match &state.auth.tenant {
                Tenant::Fixed(value) => value.clone(),
                Tenant::App(manager) => {
                    // A fresh token is found without awaiting; the fetch is boxed, so that
                    // its large future does not weigh on every call's future.
                    let token = match manager.fresh() {
                        Some(token) => Ok(token),
                        None => Box::pin(manager.token(self)).await,
                    };
                    match token {
                        Ok(token) => {
                            let value = token.header().clone();
                            let _ = RESPONSE_META.try_with(|slot| slot.borrow_mut().token_used = Some(token));
                            value
                        }
                        Err(err) => {
                            let message = format!("no tenant access token for app {}", manager.app_id());
                            let _ = RESPONSE_META
                                .try_with(|slot| slot.borrow_mut().token_error = Some(Box::new(err)));
                            return Err(GeneratedError::Custom(message));
                        }
                    }
                }
            };
            let headers = request.headers_mut();
            headers.reserve(2);
            headers.insert(AUTHORIZATION, authorization);
            headers.insert(HELPDESK, state.auth.helpdesk.clone());
        }
        if request.body().is_some() {
            request.headers_mut().insert(CONTENT_TYPE, JSON_UTF8);
        }
        if state.timeout_per_request {
            *request.timeout_mut() = Some(state.timeout);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let mut response = crate::body::limit(self.client.execute(request).await?);
        // Outside a wrapped call there is nobody to tell.
        let _ = RESPONSE_META.try_with(|slot| {
            let mut meta = slot.borrow_mut();
            let status = response.status();
            meta.http_status = Some(status.as_u16());
            meta.log_id = response.headers().get(LOG_ID).cloned();
            // Rate-limited answers (429, or 400 with code 99991400) carry the reset time;
            // a successful one has nothing to wait for.
            if !status.is_success() {
                meta.rate_limit_reset = crate::retry::rate_limit_reset(response.headers());
            }
            if info.operation_id != TOKEN_OPERATION {
                // The wrapper has taken what it needs; progenitor would copy every header
                // into the `ResponseValue`, which the wrapper drops unread.
                drop(std::mem::take(response.headers_mut()));
            }
        });
        Ok(response)
    }
}

/// The platform's log id, from the `X-Tt-Logid` header.
pub(crate) fn log_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    log_id_of(headers.get(LOG_ID))
}

/// The log id in an `X-Tt-Logid` header value, if it is non-empty text.
pub(crate) fn log_id_of(value: Option<&HeaderValue>) -> Option<String> {
    value
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What progenitor's generated code did: format the base URL and the path, then parse.
    fn formatted(base_url: &str, path: &str) -> reqwest::Url {
        reqwest::Url::parse(&format!("{}{path}", base_url.trim_end_matches('/'))).unwrap()
    }

    #[test]
    fn operation_urls_are_the_formatted_ones() {
        let path = "/open-apis/helpdesk/v1/events/unsubscribe";
        for base_url in [
            "https://open.feishu.cn",
            "https://open.larksuite.com/",
            "http://127.0.0.1:8080",
            "http://[::1]:9000",
            "https://proxy.example/feishu",
            "https://proxy.example/feishu/",
            "https://proxy.example/a%20b/c",
            "https://PROXY.example:443/x",
        ] {
            let parsed = reqwest::Url::parse(base_url.trim_end_matches('/')).unwrap();
            let state = HookState {
                auth: AuthHeaders::new(
                    crate::auth::Tenant::Fixed(HeaderValue::from_static("Bearer t")),
                    "1",
                    &crate::secret::Secret::new("x"),
                )
                .unwrap(),
                timeout: Duration::from_secs(1),
                timeout_per_request: false,
                base_path: parsed.path().trim_end_matches('/').to_owned(),
                base_url: parsed,
            };
            assert_eq!(state.url(path), formatted(base_url, path), "{base_url}");
        }
    }
}
