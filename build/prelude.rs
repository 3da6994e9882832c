//! The pass dropping `Client` from the generated prelude.

use crate::syntax::module_mut;

/// Drops `pub use super::Client;` from the generated prelude: the crate's prelude re-exports
/// the extension traits beside the crate's own `Client`.
pub(crate) fn without_client_in_prelude(file: &mut syn::File) -> Result<(), String> {
    let prelude = module_mut(file, "prelude").ok_or("progenitor's output changed: no `mod prelude`")?;
    let before = prelude.len();
    prelude.retain(
        |item| !matches!(item, syn::Item::Use(u) if crate::syntax::compact(u).ends_with("super::Client;")),
    );
    if prelude.len() + 1 != before {
        return Err(
            "progenitor's output changed: the prelude does not re-export the Client; review build.rs".into(),
        );
    }
    Ok(())
}
