//! What every request of one client shares, as the generated client's inner value: where
//! the tenant token comes from, the helpdesk header, the timeout, the base URL and the
//! operations' URLs joined to it. Each attempt (`crate::attempt::exchange`) reads it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::retry::RetryPolicy;
use crate::token_manager::TokenManager;
use crate::user_tokens::PersonTokens;

/// The two credentials of every helpdesk request.
#[derive(Clone)]
pub(crate) struct Credentials {
    /// Where the `Authorization` value comes from.
    pub(crate) tenant: TokenSource,
    /// `base64(helpdesk_id:helpdesk_token)`.
    pub(crate) helpdesk: HeaderValue,
    /// The person's token, on a view made by `Client::as_user` or `Client::for_user`: sent
    /// to the operations that act for a person.
    pub(crate) user: Option<UserSource>,
}

/// Where the user access token of a view comes from.
#[derive(Clone)]
pub(crate) enum UserSource {
    /// A token the caller manages: `Bearer <token>`, built once.
    Fixed(HeaderValue),
    /// A stored login's token, refreshed ahead of expiry.
    Stored(Arc<PersonTokens>),
}

/// Where the `Authorization` header of a request comes from.
#[derive(Clone)]
pub(crate) enum TokenSource {
    /// A token the caller manages: `Bearer <token>`, built once.
    Fixed(HeaderValue),
    /// Tokens obtained from app credentials, reused and renewed by the manager.
    App(Arc<TokenManager>),
}

/// The state of one generated client, read by every attempt.
#[derive(Clone)]
pub struct ClientState {
    /// `None` for the clients that obtain tokens and log people in: their operations take
    /// no helpdesk header.
    pub(crate) credentials: Option<Credentials>,
    /// The `Authorization` of a client without `credentials`, if any: the app's Basic or a
    /// person's Bearer for the accounts operations (`crate::accounts`). A value of the state
    /// rather than a header parameter of the spec, so that the generated builders take no
    /// secret as an argument and the hooks add it as they add every credential, sensitive.
    pub(crate) plain_authorization: Option<HeaderValue>,
    pub(crate) timeout: Duration,
    /// Whether the hook sets `timeout` on each request: for a caller-supplied
    /// `reqwest::Client`. The library's own client has it as its default, which costs
    /// nothing per request.
    pub(crate) timeout_per_request: bool,
    /// When a failed call is sent again.
    pub(crate) retry: RetryPolicy,
    /// The base URL, parsed once.
    base_url: reqwest::Url,
    /// The URL of each operation path without parameters, joined once; shared by clones.
    operation_urls: Arc<[(&'static str, reqwest::Url)]>,
}

impl ClientState {
    /// The state of a client sending to `base_url`, which joins `operation_paths` (the
    /// generated `STATIC_PATHS`) to it once, for [`url`](Self::url) to hand out.
    pub(crate) fn new(
        credentials: Option<Credentials>,
        timeout: Duration,
        timeout_per_request: bool,
        retry: RetryPolicy,
        base_url: reqwest::Url,
        operation_paths: &[&'static str],
    ) -> Self {
        let operation_urls = operation_paths
            .iter()
            .map(|&path| (path, joined(&base_url, path)))
            .collect();
        Self {
            credentials,
            plain_authorization: None,
            timeout,
            timeout_per_request,
            retry,
            base_url,
            operation_urls,
        }
    }

    /// The same state with `credentials` on every request.
    pub(crate) fn with_credentials(self, credentials: Credentials) -> Self {
        Self {
            credentials: Some(credentials),
            ..self
        }
    }

    /// The same state with `value` as the `Authorization` of each request, for a client
    /// without credentials (see [`plain_authorization`](Self::plain_authorization)).
    pub(crate) fn with_plain_authorization(self, value: HeaderValue) -> Self {
        Self {
            plain_authorization: Some(value),
            ..self
        }
    }

    /// The URL of the operation at `path` (a path without parameters): the parsed base URL
    /// with `path` appended. The generated operations call this (see `build.rs`) rather than
    /// format the base URL into a string that reqwest parses again, host and all, per call;
    /// the paths they pass were joined when the client was built, so a call only copies one.
    pub(crate) fn url(&self, path: &str) -> reqwest::Url {
        match self.operation_urls.iter().find(|(known, _)| *known == path) {
            Some((_, url)) => url.clone(),
            None => joined(&self.base_url, path),
        }
    }

    /// [`url`](Self::url) of `path`, which the generated operations pass with its place `at`
    /// in `STATIC_PATHS` (the order the URLs were joined in): found at that place without
    /// comparing it to the others. A `path` not at `at` is joined as `url` joins it.
    pub(crate) fn url_at(&self, at: usize, path: &str) -> reqwest::Url {
        match self.operation_urls.get(at) {
            Some((known, url)) if *known == path => url.clone(),
            _ => self.url(path),
        }
    }

    /// The URL of an operation whose path has parameters, written into `path`: the parsed
    /// base URL with `path` appended, so that the host is not parsed again.
    pub(crate) fn url_with_path(&self, path: &str) -> reqwest::Url {
        joined(&self.base_url, path)
    }
}

/// `base_url` with `path` appended to its path (empty, or a proxy's prefix; a trailing slash
/// is not doubled).
pub(crate) fn joined(base_url: &reqwest::Url, path: &str) -> reqwest::Url {
    let base_path = base_url.path().trim_end_matches('/');
    let mut url = base_url.clone();
    if base_path.is_empty() {
        url.set_path(path);
    } else {
        url.set_path(&[base_path, path].concat());
    }
    url
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Credentials");
        match &self.tenant {
            TokenSource::Fixed(_) => debug.field("authorization", &"Bearer ***"),
            TokenSource::App(manager) => debug.field("tokens", manager),
        };
        debug.field("helpdesk", &"***");
        match &self.user {
            Some(UserSource::Fixed(_)) => {
                debug.field("user", &"Bearer ***");
            }
            Some(UserSource::Stored(person)) => {
                debug.field("user", &person.open_id());
            }
            None => {}
        }
        debug.finish()
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("credentials", &self.credentials)
            .field(
                "plain_authorization",
                &self.plain_authorization.as_ref().map(|_| "***"),
            )
            .field("timeout", &self.timeout)
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
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
        // Joined when the state is built, and (the fallback) when asked for.
        let other_path = "/open-apis/helpdesk/v1/events/subscribe";
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
            let state = ClientState::new(
                None,
                Duration::from_secs(1),
                false,
                crate::retry::RetryPolicy {
                    max_retries: 0,
                    initial_backoff: Duration::ZERO,
                },
                reqwest::Url::parse(base_url).unwrap(),
                &[path],
            );
            assert_eq!(state.url(path), formatted(base_url, path), "{base_url}");
            assert_eq!(state.url_at(0, path), formatted(base_url, path), "{base_url}");
            // Not at the place given: joined all the same.
            assert_eq!(
                state.url_at(1, other_path),
                formatted(base_url, other_path),
                "{base_url}"
            );
            assert_eq!(
                state.url_at(0, other_path),
                formatted(base_url, other_path),
                "{base_url}"
            );
            assert_eq!(
                state.url(other_path),
                formatted(base_url, other_path),
                "{base_url}"
            );
        }
    }

    #[test]
    fn debug_hides_both_credentials() {
        let mut token = HeaderValue::from_static("Bearer t-secret");
        token.set_sensitive(true);
        let credentials = Credentials {
            tenant: TokenSource::Fixed(token),
            helpdesk: HeaderValue::from_static("aGVscGRlc2s6c2VjcmV0"),
            user: Some(UserSource::Fixed(HeaderValue::from_static("Bearer u-secret"))),
        };
        let state = ClientState::new(
            Some(credentials),
            Duration::from_secs(1),
            false,
            crate::retry::RetryPolicy {
                max_retries: 0,
                initial_backoff: Duration::ZERO,
            },
            reqwest::Url::parse("https://open.feishu.cn").unwrap(),
            &[],
        );
        let shown = format!("{state:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("aGVscGRlc2s6c2VjcmV0"),
            "{shown}"
        );
    }
}
