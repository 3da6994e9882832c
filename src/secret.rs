//! A string that never shows itself in `Debug` output.

use std::fmt;
use std::sync::Arc;

/// A secret value (a token), kept out of `Debug` output, logs and errors.
///
/// Its `Debug` output is always `Secret("***")`; the value is reachable only inside the
/// crate, where it is turned into sensitive header values. Clones share one allocation.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_hides_the_value() {
        let secret = Secret::new("t-7f1bcd13fc57d46bac21793a18e560");
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("7f1bcd13"), "{shown}");
        assert_eq!(format!("{secret:?}"), "Secret(\"***\")");
        assert_eq!(secret.expose(), "t-7f1bcd13fc57d46bac21793a18e560");
    }
}
