//! The two credentials every helpdesk request carries, as ready-made header values:
//! `Authorization: Bearer <tenant_access_token>` and
//! `X-Lark-Helpdesk-Authorization: base64(helpdesk_id:helpdesk_token)`.

use base64::Engine as _;
use reqwest::header::{HeaderName, HeaderValue};

use crate::error::Error;
use crate::secret::Secret;

/// The name of the helpdesk credential header.
pub const HELPDESK_AUTHORIZATION: &str = "x-lark-helpdesk-authorization";

/// The helpdesk credential header, as a constant so that no request parses its name.
pub(crate) const HELPDESK_HEADER: HeaderName = HeaderName::from_static(HELPDESK_AUTHORIZATION);

/// `Bearer <tenant_access_token>`, marked sensitive.
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

/// `base64(helpdesk_id:helpdesk_token)`, standard alphabet with padding, no prefix, marked
/// sensitive.
pub(crate) fn helpdesk_authorization(
    helpdesk_id: &str,
    helpdesk_token: &Secret,
) -> Result<HeaderValue, Error> {
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

    fn headers(token: &str, id: &str, helpdesk_token: &str) -> Result<(HeaderValue, HeaderValue), Error> {
        Ok((
            bearer(&Secret::new(token))?,
            helpdesk_authorization(id, &Secret::new(helpdesk_token))?,
        ))
    }

    #[test]
    fn values_match_the_reference() {
        let (authorization, helpdesk) = headers(
            "t-7f1bcd13fc57d46bac21793a18e560",
            "7180000000000000001",
            "ht-example",
        )
        .unwrap();
        assert_eq!(
            authorization.as_bytes(),
            b"Bearer t-7f1bcd13fc57d46bac21793a18e560"
        );
        assert_eq!(helpdesk.as_bytes(), b"NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl");
        assert!(authorization.is_sensitive() && helpdesk.is_sensitive());
    }

    #[test]
    fn debug_hides_both_values() {
        let (authorization, helpdesk) = headers("t-secret-token", "7180", "ht-secret").unwrap();
        let shown = format!("{authorization:?} {helpdesk:?}");
        assert!(
            !shown.contains("secret") && !shown.contains(helpdesk.to_str().unwrap()),
            "{shown}"
        );
    }

    #[test]
    fn bad_credentials_are_refused_by_field() {
        let field = |r: Result<(HeaderValue, HeaderValue), Error>| match r {
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
