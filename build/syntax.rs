//! Helpers finding modules and types in progenitor's syntax tree, shared by the passes.

/// The items of the inline module `name`.
pub(crate) fn module<'a>(file: &'a syn::File, name: &str) -> Option<&'a Vec<syn::Item>> {
    file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

pub(crate) fn module_mut<'a>(file: &'a mut syn::File, name: &str) -> Option<&'a mut Vec<syn::Item>> {
    file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// `T` in `-> Result<ResponseValue<T>, Error<E>>`.
pub(crate) fn success_type(output: &syn::ReturnType) -> Option<syn::Path> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let ok = generic_argument(ty, "Result")?;
    match generic_argument(ok, "ResponseValue")? {
        syn::Type::Path(p) => Some(p.path.clone()),
        _ => None,
    }
}

/// The first type argument of `ty` if its last segment is `name`.
pub(crate) fn generic_argument<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    type_argument(ty, name, 0)
}

/// The type argument at `at` (counting type arguments only) of `ty` if its last segment is
/// `name`: `E` is `type_argument(ty, "Result", 1)` of `Result<T, E>`.
pub(crate) fn type_argument<'a>(ty: &'a syn::Type, name: &str, at: usize) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(at)
}

/// The text of `tokens` without spaces, as the build step compares progenitor's code to the
/// shapes it expects (`letresponse=result?;`).
pub(crate) fn compact(tokens: &dyn quote::ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

/// The last name of a type's path (`GetTicket` for `builder::GetTicket<'a>`), or "".
pub(crate) fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    generic_argument(ty, "Option")
}

pub(crate) fn without_option(ty: &syn::Type) -> &syn::Type {
    option_inner(ty).unwrap_or(ty)
}

/// A type named inside `mod types`, as `mod builder` names it.
pub(crate) fn qualified(ty: &syn::Type) -> syn::Type {
    match ty {
        syn::Type::Path(p)
            if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 =>
        {
            syn::parse_quote!(types::#p)
        }
        other => other.clone(),
    }
}
