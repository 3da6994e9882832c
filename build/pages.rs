//! `stream()` on each paged operation's builder, added by the call-machinery pass.

use crate::operations::PagingMeta;
use crate::syntax::{generic_argument, qualified, type_name, without_option};

/// `stream()` on a paged operation's builder: every item of every page, fetched a page at a
/// time through `send` (`crate::pages::pages_by_token` or `pages_by_number`).
pub(crate) fn page_stream(
    block: &syn::ItemImpl,
    answer: &str,
    paging: &PagingMeta,
    data_fields: &std::collections::HashMap<String, syn::Type>,
    field: &dyn Fn(&str, &str) -> Option<syn::Type>,
) -> Result<syn::Item, String> {
    let missing = |what: &str| format!("the paged answer {answer} has no {what} in the generated types");
    let data = without_option(data_fields.get(answer).ok_or_else(|| missing("data"))?).clone();
    let data_name = type_name(&data);
    let items_type = field(&data_name, &paging.items).ok_or_else(|| missing(&paging.items))?;
    let item = qualified(
        generic_argument(without_option(&items_type), "Vec").ok_or_else(|| missing("an array of items"))?,
    );
    let data = qualified(&data);
    let items = quote::format_ident!("{}", paging.items);
    let (generics, self_ty) = (&block.generics, &block.self_ty);
    let body = match &paging.next_token {
        Some(next) => {
            let next = quote::format_ident!("{}", next);
            quote::quote! {
                crate::pages::pages_by_token(
                    self,
                    |builder: Self, token: Option<::std::string::String>| match token {
                        Some(token) => builder.page_token(token).send(),
                        None => builder.send(),
                    },
                    |data: #data| (
                        ::std::convert::Into::into(data.#items),
                        ::std::convert::Into::into(data.has_more),
                        ::std::convert::Into::into(data.#next),
                    ),
                )
            }
        }
        None => quote::quote! {
            // From the page the caller set, or the first.
            let start = self.page.clone().ok().flatten().unwrap_or(1);
            crate::pages::pages_by_number(
                self,
                start,
                |builder: Self, page: i64| builder.page(page).send(),
                |data: #data| (
                    ::std::convert::Into::into(data.#items),
                    ::std::convert::Into::into(data.total),
                ),
            )
        },
    };
    Ok(syn::parse_quote! {
        impl #generics #self_ty {
            /// Every item of every page, as a stream: each page one call through
            /// [`send`](Self::send) (with its retries and token renewal), fetched when the
            /// previous page's items have been taken, so that one page at a time is held.
            /// The parameters set on the builder apply to every page.
            pub fn stream(self) -> impl ::futures_core::Stream<Item = Result<#item, crate::Error>> + Send + 'a {
                #body
            }
        }
    })
}
