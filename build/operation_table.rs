//! `OPERATIONS` and `OPERATION_DETAILS`: the operation table appended to the generated code.

use crate::operations::{OperationMeta, PagingMeta};

/// `OPERATIONS`: the helpdesk operations (those taking the helpdesk header), as
/// `crate::operation::Operation`, sorted by id, and `OPERATION_DETAILS` beside them.
pub(crate) fn operation_table(operations: &[OperationMeta]) -> Vec<syn::Item> {
    // The helpdesk's operations: the token endpoints and the login of a person take no
    // helpdesk header, and are the client's own business, called through their generated
    // builders alone.
    let operations: Vec<&OperationMeta> = operations.iter().filter(|op| op.helpdesk).collect();
    let rows = operations.iter().map(|op| {
        let OperationMeta {
            id,
            method,
            path,
            tag,
            summary,
            idempotent,
            binary,
            ..
        } = op;
        let token = quote::format_ident!("{}", op.token);
        let paging = match &op.paging {
            Some(PagingMeta {
                items,
                next_token: Some(next),
            }) => {
                quote::quote!(Some(crate::operation::Paging::Token { items: #items, next_token: #next }))
            }
            Some(PagingMeta {
                items,
                next_token: None,
            }) => {
                quote::quote!(Some(crate::operation::Paging::Number { items: #items }))
            }
            None => quote::quote!(None),
        };
        quote::quote! {
            crate::operation::Operation {
                id: #id,
                method: #method,
                path: #path,
                tag: #tag,
                summary: #summary,
                token: crate::operation::TokenKind::#token,
                idempotent: #idempotent,
                binary: #binary,
                paging: #paging,
            }
        }
    });
    let details = operations.iter().map(|op| {
        let example = op.example.clone().unwrap_or_default();
        let query = op
            .query
            .iter()
            .map(|(name, required, array)| quote::quote!((#name, #required, #array)));
        let body_required = op.body_required;
        quote::quote! {
            crate::operation::OperationDetail {
                example: #example,
                query: &[#(#query),*],
                body_required: #body_required,
            }
        }
    });
    vec![
        syn::parse_quote! {
            /// Every helpdesk operation of the spec, sorted by id.
            pub(crate) const OPERATIONS: &[crate::operation::Operation] = &[#(#rows),*];
        },
        syn::parse_quote! {
            /// Beside each of `OPERATIONS` (same index): what a stand-in needs to check its
            /// requests and answer them.
            pub(crate) const OPERATION_DETAILS: &[crate::operation::OperationDetail] = &[#(#details),*];
        },
    ]
}
