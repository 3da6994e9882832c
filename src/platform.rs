//! What a [`Client`](crate::Client) and the long connection both take, checked in one place:
//! the app's credentials, and the platform (its base URL, whether plain http is allowed, the
//! HTTP client), checked and turned into an HTTP client by one function.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::Error;
use crate::secret::Secret;

/// The base URL of Feishu (mainland China), the default.
pub const FEISHU_BASE_URL: &str = "https://open.feishu.cn";
/// The base URL of Lark (international).
pub const LARK_BASE_URL: &str = "https://open.larksuite.com";
/// Where Feishu logs people in and issues their tokens.
pub const FEISHU_ACCOUNTS_URL: &str = "https://accounts.feishu.cn";
/// Where Lark logs people in and issues their tokens.
pub const LARK_ACCOUNTS_URL: &str = "https://accounts.larksuite.com";

/// An app's id and secret, as a builder was given them. `Debug` shows no secret.
#[derive(Clone, Debug)]
pub(crate) struct AppCredentials {
    pub(crate) app_id: String,
    pub(crate) app_secret: Secret,
}

/// The part of the app credentials that is empty; each builder names it in its error as it
/// always has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Empty {
    AppId,
    AppSecret,
}

impl AppCredentials {
    pub(crate) fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        AppCredentials {
            app_id: app_id.into(),
            app_secret: Secret::new(app_secret),
        }
    }

    /// The credentials, if neither the id nor the secret is empty (the id is checked first).
    pub(crate) fn checked(self) -> Result<Self, Empty> {
        if self.app_id.is_empty() {
            return Err(Empty::AppId);
        }
        if self.app_secret.expose().is_empty() {
            return Err(Empty::AppSecret);
        }
        Ok(self)
    }
}

/// Where the platform is and how to reach it, as a builder was given it.
#[derive(Clone, Debug, Default)]
pub(crate) struct PlatformSettings {
    pub(crate) base_url: Option<String>,
    /// Where people log in; derived from the base URL unless set.
    pub(crate) accounts_url: Option<String>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) http_client: Option<reqwest::Client>,
}

/// The platform, checked, with the HTTP client requests to it go through.
pub(crate) struct Platform {
    pub(crate) base_url: reqwest::Url,
    /// The accounts host: Feishu's or Lark's beside their base URLs, else the base URL
    /// itself (a proxy or a stand-in serves both), unless set.
    pub(crate) accounts_url: reqwest::Url,
    pub(crate) http: reqwest::Client,
    /// Whether `http` is the one the user gave (which keeps its own settings), rather than
    /// the library's own.
    pub(crate) http_client_given: bool,
}

impl Platform {
    /// The base URL as the generated client appends paths to it (which start with `/`):
    /// without a trailing `/`.
    pub(crate) fn base_url_text(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The accounts URL, as [`base_url_text`](Self::base_url_text) gives the base URL.
    pub(crate) fn accounts_url_text(&self) -> String {
        self.accounts_url.as_str().trim_end_matches('/').to_owned()
    }
}

impl PlatformSettings {
    /// Checks the base URL ([`FEISHU_BASE_URL`] unless set) and gives the HTTP client: the one
    /// given, or the library's own, with `timeout` and without redirects, so that the
    /// credentials never go to another host. Fails with [`Error::InvalidInput`] naming
    /// `base_url` (or `http_client`, when the library's own cannot be built).
    pub(crate) fn build(&self, timeout: Duration) -> Result<Platform, Error> {
        let base_url = checked_base_url(
            self.base_url.as_deref().unwrap_or(FEISHU_BASE_URL),
            self.allow_insecure_http,
        )?;
        let accounts_url = match &self.accounts_url {
            Some(url) => checked_base_url(url, self.allow_insecure_http).map_err(|err| match err {
                Error::InvalidInput { reason, source, .. } => Error::InvalidInput {
                    field: "accounts_url",
                    reason,
                    source,
                },
                other => other,
            })?,
            None => default_accounts_url(&base_url),
        };
        let (http, http_client_given) = match &self.http_client {
            Some(client) => (client.clone(), true),
            None => (crate::http_client::library_http_client(timeout)?, false),
        };
        Ok(Platform {
            base_url,
            accounts_url,
            http,
            http_client_given,
        })
    }
}

/// The accounts host that goes with `base_url`.
fn default_accounts_url(base_url: &reqwest::Url) -> reqwest::Url {
    let text = base_url.as_str().trim_end_matches('/');
    let accounts = if text == FEISHU_BASE_URL {
        FEISHU_ACCOUNTS_URL
    } else if text == LARK_BASE_URL {
        LARK_ACCOUNTS_URL
    } else {
        return base_url.clone();
    };
    reqwest::Url::parse(accounts).unwrap_or_else(|_| base_url.clone())
}

/// Parses and checks a base URL.
fn checked_base_url(raw: &str, allow_insecure_http: bool) -> Result<reqwest::Url, Error> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::invalid_input_because("base_url", "is not a valid URL", e))?;
    let host = match url.host() {
        Some(host) => host,
        None => return Err(Error::invalid_input("base_url", "has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input("base_url", "must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            "base_url",
            "must not have a query or fragment",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&host) => {}
        "http" => {
            return Err(Error::invalid_input(
                "base_url",
                "uses plain http to a host that is not loopback; use https or allow_insecure_http(true)",
            ))
        }
        _ => {
            return Err(Error::invalid_input(
                "base_url",
                "must use https (or http to loopback)",
            ))
        }
    }
    Ok(url)
}

/// Whether `host` is this machine: `localhost`, or a loopback address.
pub(crate) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::{AppCredentials, Empty};

    fn checked_base_url(raw: &str, allow_insecure_http: bool) -> Result<String, crate::Error> {
        super::checked_base_url(raw, allow_insecure_http)
            .map(|url| url.as_str().trim_end_matches('/').to_owned())
    }

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            checked_base_url("https://open.feishu.cn/", false).unwrap(),
            "https://open.feishu.cn"
        );
        assert_eq!(
            checked_base_url("https://proxy.example/feishu/", false).unwrap(),
            "https://proxy.example/feishu"
        );
        assert_eq!(
            checked_base_url("http://127.0.0.1:8080", false).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            checked_base_url("http://[::1]:8080", false).unwrap(),
            "http://[::1]:8080"
        );
        assert_eq!(
            checked_base_url("http://localhost:1", false).unwrap(),
            "http://localhost:1"
        );
        assert_eq!(
            checked_base_url("http://proxy.internal", true).unwrap(),
            "http://proxy.internal"
        );
        for bad in [
            "open.feishu.cn",
            "http://open.feishu.cn",
            "ftp://open.feishu.cn",
            "https://user:pass@open.feishu.cn",
            "https://open.feishu.cn/?a=b",
            "https://open.feishu.cn/#x",
            "http://127.0.0.1.example.com",
            "",
        ] {
            assert!(checked_base_url(bad, false).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn app_credentials_need_an_id_and_a_secret() {
        assert!(AppCredentials::new("cli_a", "s").checked().is_ok());
        assert_eq!(AppCredentials::new("", "").checked().unwrap_err(), Empty::AppId);
        assert_eq!(
            AppCredentials::new("cli_a", "").checked().unwrap_err(),
            Empty::AppSecret
        );
        let shown = format!("{:?}", AppCredentials::new("cli_a", "very-secret-value"));
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }
}
