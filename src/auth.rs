//! The two credentials every helpdesk request carries, as ready-made header values.

use std::fmt;

use base64::Engine as _;
use reqwest::header::HeaderValue;

use crate::error::Error;
use crate::secret::Secret;
use crate::token::TokenManager;
use std::sync::Arc;

/// The name of the helpdesk credential header.
pub const HELPDESK_AUTHORIZATION: &str = "x-lark-helpdesk-authorization";

/// The `Authorization` and `X-Lark-Helpdesk-Authorization` values, built once per
/// client (or per token) and marked sensitive so that they never show in `Debug` output.
#[derive(Clone)]
pub(crate) struct AuthHeaders {
    pub(crate) tenant: Tenant,
    pub(crate) helpdesk: HeaderValue,
}

/// Where the tenant access token comes from.
#[derive(Clone)]
pub(crate) enum Tenant {
    /// A token the caller manages: `Bearer <token>`.
    Fixed(HeaderValue),
    /// A token obtained from app credentials and cached.
    App(Arc<TokenManager>),
}

impl AuthHeaders {
    pub(crate) fn new(tenant: Tenant, helpdesk_id: &str, helpdesk_token: &Secret) -> Result<Self, Error> {
        Ok(Self {
            tenant,
            helpdesk: helpdesk_authorization(helpdesk_id, helpdesk_token)?,
        })
    }
}

impl fmt::Debug for AuthHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("AuthHeaders");
        match &self.tenant {
            Tenant::Fixed(_) => debug.field("authorization", &"Bearer ***"),
            Tenant::App(manager) => debug.field("tokens", manager),
        };
        debug.field("helpdesk", &"***").finish()
    }
}

/// `Bearer <tenant_access_token>`.
pub(crate) fn bearer(token: &Secret) -> Result<HeaderValue, Error> {
    let token = token.expose();
    if token.is_empty() {
        return Err(Error::invalid_input("tenant_access_token", "is empty"));
    }
    // A token is printable ASCII; anything else would be mangled or refused on the wire.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            "tenant_access_token",
            "contains whitespace or characters that cannot be sent in an HTTP header",
        ));
    }
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|e| {
        Error::invalid_input_because("tenant_access_token", "cannot be sent in an HTTP header", e)
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `base64(helpdesk_id:helpdesk_token)`, standard alphabet with padding, no prefix.
fn helpdesk_authorization(helpdesk_id: &str, helpdesk_token: &Secret) -> Result<HeaderValue, Error> {
    if helpdesk_id.is_empty() {
        return Err(Error::invalid_input("helpdesk_id", "is empty"));
    }
    if helpdesk_id.contains(':') {
        return Err(Error::invalid_input(
            "helpdesk_id",
            "contains ':', which separates the id from the token in the helpdesk header",
        ));
    }
    if helpdesk_token.expose().is_empty() {
        return Err(Error::invalid_input("helpdesk_token", "is empty"));
    }
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{helpdesk_id}:{}", helpdesk_token.expose()));
    // Base64 output is always a valid header value.
    let mut value = HeaderValue::try_from(encoded)
        .map_err(|e| Error::invalid_input_because("helpdesk_token", "cannot be encoded", e))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str, id: &str, helpdesk_token: &str) -> Result<AuthHeaders, Error> {
        AuthHeaders::new(
            Tenant::Fixed(bearer(&Secret::new(token))?),
            id,
            &Secret::new(helpdesk_token),
        )
    }

    fn authorization(headers: &AuthHeaders) -> &HeaderValue {
        match &headers.tenant {
            Tenant::Fixed(value) => value,
            Tenant::App(_) => unreachable!("built from a fixed token"),
        }
    }

    #[test]
    fn values_match_the_reference() {
        let h = headers(
            "t-7f1bcd13fc57d46bac21793a18e560",
            "7180000000000000001",
            "ht-example",
        )
        .unwrap();
        assert_eq!(
            authorization(&h).as_bytes(),
            b"Bearer t-7f1bcd13fc57d46bac21793a18e560"
        );
        assert_eq!(h.helpdesk.as_bytes(), b"NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl");
        assert!(authorization(&h).is_sensitive() && h.helpdesk.is_sensitive());
    }

    #[test]
    fn debug_hides_both_values() {
        let h = headers("t-secret-token", "7180", "ht-secret").unwrap();
        let shown = format!("{h:?}");
        assert!(
            !shown.contains("secret") && !shown.contains(h.helpdesk.to_str().unwrap()),
            "{shown}"
        );
    }

    #[test]
    fn bad_credentials_are_refused_by_field() {
        let field = |r: Result<AuthHeaders, Error>| match r {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        };
        assert_eq!(field(headers("", "1", "ht")), "tenant_access_token");
        assert_eq!(field(headers("t- x", "1", "ht")), "tenant_access_token");
        assert_eq!(field(headers("t-\u{7f}x", "1", "ht")), "tenant_access_token");
        assert_eq!(field(headers("t-\u{e9}", "1", "ht")), "tenant_access_token");
        assert_eq!(field(headers("t-x", "", "ht")), "helpdesk_id");
        assert_eq!(field(headers("t-x", "71:80", "ht")), "helpdesk_id");
        assert_eq!(field(headers("t-x", "7180", "")), "helpdesk_token");
    }

    #[test]
    fn refusals_never_echo_the_secret() {
        let err = headers("t-s\u{1}ecret", "1", "ht").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("ecret"), "{shown}");
    }
}
