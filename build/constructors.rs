//! The pass keeping the generated client's constructors inside the crate.

/// Drops the generated `Client::new` and makes `Client::new_with_client` `pub(crate)`.
///
/// Both take the crate's private `ClientState`, so a user could not call them; public, they
/// only showed in the docs with a type users cannot name. `new` also built a
/// `reqwest::Client` of progenitor's own (redirects followed, a panic if it cannot be
/// built), which the crate never uses: every client is built by `src/http_client.rs`.
pub(crate) fn constructors_in_the_crate(file: &mut syn::File) -> Result<(), String> {
    let client = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Impl(block)
                if block.trait_.is_none()
                    && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client")) =>
            {
                Some(block)
            }
            _ => None,
        })
        .ok_or("progenitor's output changed: no `impl Client`; review build/constructors.rs")?;
    let before = client.items.len();
    client
        .items
        .retain(|item| !matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
    let mut found = false;
    for item in &mut client.items {
        if let syn::ImplItem::Fn(f) = item {
            if f.sig.ident == "new_with_client" {
                f.vis = syn::parse_quote!(pub(crate));
                found = true;
            }
        }
    }
    if client.items.len() + 1 != before || !found {
        return Err(
            "progenitor's output changed: `Client::new` and `Client::new_with_client` are not as expected; review build/constructors.rs"
                .into(),
        );
    }
    Ok(())
}
