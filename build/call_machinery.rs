//! The pass routing each builder's `send` through the client's call machinery, and
//! `through_exchange`, which sends its one attempt through `Dispatch::exchange`.

use crate::operations::OperationMeta;
use crate::pages::page_stream;
use crate::syntax::{
    compact, generic_argument, module, module_mut, option_inner, qualified, success_type, type_argument,
    type_name, without_option,
};

/// Runs every operation's `send` through the client's call machinery.
///
/// progenitor's `send` on each builder (in `mod builder`) makes one attempt and returns
/// progenitor's result. It becomes `send_once`, and a new `send` hands a closure making one
/// attempt to `crate::generated_glue::Dispatch` (implemented in `src/call.rs`): token
/// renewal, retries, the tracing span and the mapping of the envelope to its `data` or an
/// `Error`, the same for every operation. The envelope types of the answers gain
/// `crate::generated_glue::Envelope`, which takes them apart. The edit is the same for every
/// builder; one that does not have progenitor's shape fails the build.
pub(crate) fn with_call_machinery(file: &mut syn::File, operations: &[OperationMeta]) -> Result<(), String> {
    use quote::quote;

    // The fields of each struct of `mod types`, and the `data` type of each envelope.
    let types = module(file, "types").ok_or("progenitor's output changed: no `mod types`")?;
    let structs = struct_fields(types);
    let field = |name: &str, field: &str| -> Option<syn::Type> {
        structs
            .get(name)?
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, ty)| ty.clone())
    };
    let mut data_fields = std::collections::HashMap::new();
    for name in structs.keys() {
        if let (Some(_), Some(_), Some(data)) = (field(name, "code"), field(name, "msg"), field(name, "data"))
        {
            data_fields.insert(name.clone(), data);
        }
    }
    let mut streams: Vec<syn::Item> = Vec::new();
    // The fields of each builder, as progenitor declares them (`Result<T, String>`, but the
    // client's `&'a super::Client`), and the body type of each builder that takes one
    // (`body: Result<types::builder::X, String>`).
    let builder_fields = module(file, "builder")
        .map(|items| struct_fields(items))
        .unwrap_or_default();
    let mut body_types = std::collections::HashMap::new();
    for (builder, fields) in &builder_fields {
        let name = fields
            .iter()
            .find(|(name, _)| name == "body")
            .and_then(|(_, ty)| generic_argument(ty, "Result"))
            .and_then(|ty| match ty {
                syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.clone()),
                _ => None,
            });
        if let Some(name) = name {
            body_types.insert(builder.clone(), name);
        }
    }
    let mut body_checks: Vec<proc_macro2::TokenStream> = Vec::new();

    let builder = module_mut(file, "builder").ok_or("progenitor's output changed: no `mod builder`")?;
    let mut envelopes: Vec<String> = Vec::new();
    let mut edited = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(block) = item else { continue };
        let Some(position) = block
            .items
            .iter()
            .position(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "send"))
        else {
            continue;
        };
        let syn::ImplItem::Fn(send) = &mut block.items[position] else {
            unreachable!()
        };
        let operation =
            operation_id(&send.block).ok_or("progenitor's output changed: a `send` names no operation_id")?;
        if !operations.iter().any(|op| op.id == operation && op.helpdesk) {
            // Not a helpdesk operation (a token endpoint, logging a person in): progenitor's
            // `send` stays, through the hooks (`src/hooks.rs`), for the crate's own callers.
            continue;
        }
        let answer = success_type(&send.sig.output).ok_or_else(|| {
            format!(
                "progenitor's output changed: a `send` returns {}",
                quote!(#send.sig.output)
            )
        })?;
        let answer_name = answer
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let doc = send.attrs.iter().find(|a| a.path().is_ident("doc")).cloned();
        // The operation's row of `OPERATIONS` (the helpdesk operations, sorted by id, as
        // `operation_table` writes them), passed to the call machinery instead of its name.
        let row = operations
            .iter()
            .filter(|op| op.helpdesk)
            .position(|op| op.id == operation)
            .ok_or_else(|| format!("{operation} is not in the operation table"))?;
        // Checked at compile time to be the row of `operation`, whose name stays readable here.
        let operation_row = quote!(const { crate::generated::operation_at(#row, #operation) });
        through_exchange(send, &operation, &operation_row)?;
        let builder_name = type_name(&block.self_ty);
        let parts = if answer_name != "ByteStream" {
            let lifetime = block
                .generics
                .lifetimes()
                .next()
                .map(|l| l.lifetime.clone())
                .ok_or_else(|| {
                    format!("progenitor's output changed: the builder of {operation} has no lifetime")
                })?;
            let fields = builder_fields
                .get(&builder_name)
                .ok_or_else(|| format!("progenitor's output changed: no builder struct {builder_name}"))?;
            Some(without_await_before_sending(
                send,
                &operation,
                &operation_row,
                &lifetime,
                fields,
            )?)
        } else {
            None
        };
        send.sig.ident = syn::Ident::new("send_once", send.sig.ident.span());
        send.vis = syn::parse_quote!(pub(crate));
        send.attrs.retain(|a| !a.path().is_ident("doc"));
        send.attrs
            .push(syn::parse_quote!(#[doc = " One attempt, as progenitor makes it."]));
        let (new_send, new_send_with_receipt): (syn::ImplItem, syn::ImplItem) = if answer_name == "ByteStream"
        {
            (
                syn::parse_quote! {
                    #doc
                    ///
                    /// With the client's call machinery: both credentials, token renewal, retries
                    /// (never repeating a side effect), a tracing span named by the operation. The
                    /// answer's bytes come as a stream, bounded in size; a JSON error answer is an
                    /// [`Error`](crate::Error).
                    pub async fn send(self) -> Result<crate::download::Download, crate::Error> {
                        let client = self.client;
                        let notes = <super::Client as crate::generated_glue::Dispatch>::Notes::default();
                        crate::generated_glue::Dispatch::download(client, #operation_row, &notes, || self.clone().send_once(&notes)).await
                    }
                },
                syn::parse_quote! {
                    /// As [`send`](Self::send), with the platform's [`Receipt`](crate::Receipt) of
                    /// the call (its HTTP status and log id) beside the bytes.
                    pub async fn send_with_receipt(self) -> Result<(crate::download::Download, crate::Receipt), crate::Error> {
                        let client = self.client;
                        let notes = <super::Client as crate::generated_glue::Dispatch>::Notes::default();
                        crate::generated_glue::Dispatch::download_with_receipt(client, #operation_row, &notes, || self.clone().send_once(&notes)).await
                    }
                },
            )
        } else {
            let data = data_fields.get(&answer_name).ok_or_else(|| {
                format!("the answer type {answer_name} of {operation} is not an envelope (code, msg, data)")
            })?;
            let data = qualified(without_option(data));
            if !envelopes.contains(&answer_name) {
                envelopes.push(answer_name.clone());
            }
            (
                syn::parse_quote! {
                    #doc
                    ///
                    /// With the client's call machinery: both credentials, token renewal, retries
                    /// (never repeating a side effect), a tracing span named by the operation. Gives
                    /// the answer's `data` (its default if the platform left it out); a non-zero
                    /// `code` is an [`Error::Api`](crate::Error::Api).
                    pub async fn send(self) -> Result<#data, crate::Error> {
                        let client = self.client;
                        let notes = <super::Client as crate::generated_glue::Dispatch>::Notes::default();
                        let parts = self.parts();
                        crate::generated_glue::Dispatch::dispatch(client, #operation_row, &notes, || Self::send_once(&parts, &notes)).await
                    }
                },
                syn::parse_quote! {
                    /// As [`send`](Self::send), with the platform's [`Receipt`](crate::Receipt) of
                    /// the call (its HTTP status and log id) beside the answer's `data`.
                    pub async fn send_with_receipt(self) -> Result<(#data, crate::Receipt), crate::Error> {
                        let client = self.client;
                        let notes = <super::Client as crate::generated_glue::Dispatch>::Notes::default();
                        let parts = self.parts();
                        crate::generated_glue::Dispatch::dispatch_with_receipt(client, #operation_row, &notes, || Self::send_once(&parts, &notes)).await
                    }
                },
            )
        };
        block.items.insert(position, new_send_with_receipt);
        block.items.insert(position, new_send);
        if let Some(parts) = parts {
            block.items.insert(position, parts);
        }
        edited += 1;
        if let Some(body) = body_types.get(&builder_name) {
            body_checks.push(quote! {
                #operation => ::serde_json::from_slice::<types::#body>(body).map(drop).map_err(|e| e.to_string()),
            });
        }
        if let Some(paging) = operations
            .iter()
            .find(|op| op.id == operation)
            .and_then(|op| op.paging.as_ref())
        {
            streams.push(page_stream(block, &answer_name, paging, &data_fields, &field)?);
        }
    }
    if edited == 0 {
        return Err("progenitor's output changed: no builder has a `send`; review build.rs".into());
    }
    builder.extend(streams);
    file.items.push(syn::parse_quote! {
        /// Whether `body` is a valid body of `operation` (it decodes into the operation's body
        /// type); `None` for an operation without a body.
        pub(crate) fn check_body(operation: &str, body: &[u8]) -> Option<Result<(), String>> {
            Some(match operation {
                #(#body_checks)*
                _ => return None,
            })
        }
    });
    let types = module_mut(file, "types").ok_or("progenitor's output changed: no `mod types`")?;
    for name in envelopes {
        let ident = quote::format_ident!("{}", name);
        let data = &data_fields[&name];
        let (data_type, parts) = match option_inner(data) {
            Some(inner) => (inner.clone(), quote!(self.data)),
            None => (data.clone(), quote!(Some(self.data))),
        };
        types.push(syn::parse_quote! {
            impl crate::generated_glue::Envelope for #ident {
                type Data = #data_type;
                fn into_parts(self) -> (i64, ::std::string::String, Option<Self::Data>) {
                    (self.code, self.msg, #parts)
                }
            }
        });
    }
    Ok(())
}

/// The named fields of each struct among `items`, by the struct's name.
fn struct_fields(items: &[syn::Item]) -> std::collections::HashMap<String, Vec<(String, syn::Type)>> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        })
        .map(|item| {
            let fields = item
                .fields
                .iter()
                .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
                .collect();
            (item.ident.to_string(), fields)
        })
        .collect()
}

/// Sends an attempt through `crate::generated_glue::Dispatch::exchange` instead of
/// progenitor's hooks, with the call's notes as a parameter.
///
/// progenitor's `send` ends with `let info = OperationInfo {..}; client.pre(..).await?;
/// let result = client.exec(..).await; client.post(..).await?; let response = result?;`
/// and then maps the status. Those statements become one
/// `let response = Dispatch::exchange(client, request, <its row of OPERATIONS>, notes).await?;`:
/// the notes reach the hook by reference (no task-local moved in and out on every poll), the
/// operation is its row of the table (never looked up by name), and the attempt's future holds one small future where it
/// held the request beside each hook's. The answers are decoded by
/// `crate::generated_glue::decode` instead of `ResponseValue::from_response`. A `send` of another shape fails the build.
pub(crate) fn through_exchange(
    send: &mut syn::ImplItemFn,
    operation: &str,
    operation_row: &proc_macro2::TokenStream,
) -> Result<(), String> {
    let stmts = &mut send.block.stmts;
    let start = stmts
        .iter()
        .position(|s| compact(s).starts_with("letinfo=OperationInfo{"));
    let end = stmts.iter().position(|s| compact(s) == "letresponse=result?;");
    let (Some(start), Some(end)) = (start, end) else {
        return Err(format!(
            "progenitor's output changed: the `send` of {operation} has no hook calls to replace"
        ));
    };
    let replaced: Vec<String> = stmts[start..=end].iter().map(|s| compact(s)).collect();
    let expected = [
        "letinfo=OperationInfo{",
        "client.pre(&mutrequest,&info).await?;",
        "letresult=client.exec(request,&info).await;",
        "client.post(&result,&info).await?;",
        "letresponse=result?;",
    ];
    if replaced.len() != expected.len() || !replaced.iter().zip(expected).all(|(s, e)| s.starts_with(e)) {
        return Err(format!(
            "progenitor's output changed: the hook calls of {operation} are {replaced:?}; review build.rs"
        ));
    }
    stmts.splice(
        start..=end,
        [syn::parse_quote! {
            let response = crate::generated_glue::Dispatch::exchange(client, request, #operation_row, notes).await?;
        }],
    );
    // The answers are decoded by `crate::generated_glue::decode`, which moves the headers
    // where `ResponseValue::from_response` copies them, and keeps less in the attempt's future.
    struct Decode(usize);
    impl syn::visit_mut::VisitMut for Decode {
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            if let syn::Expr::Path(func) = &*call.func {
                let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
                if names == ["ResponseValue", "from_response"] {
                    *call.func = syn::parse_quote!(crate::generated_glue::decode);
                    self.0 += 1;
                }
            }
            syn::visit_mut::visit_expr_call_mut(self, call);
        }
    }
    let mut decode = Decode(0);
    syn::visit_mut::VisitMut::visit_block_mut(&mut decode, &mut send.block);
    if decode.0 == 0
        && !quote::quote!(#send)
            .to_string()
            .contains("ResponseValue :: stream")
    {
        return Err(format!("progenitor's output changed: the `send` of {operation} decodes no answer with ResponseValue::from_response"));
    }
    merge_status_arms(send);
    send.sig
        .inputs
        .push(syn::parse_quote!(notes: &<super::Client as crate::generated_glue::Dispatch>::Notes));
    Ok(())
}

/// Makes a JSON operation's attempt a plain function that builds the request without
/// awaiting and returns `crate::generated_glue::answer` over `Dispatch::exchange`: a
/// combinator that holds the exchange or the decoding of its answer, and nothing else (an
/// `async fn` keeps the builder, its body, the request and the response in its future beside
/// them).
///
/// The builder's values are checked and its body serialized once per call, by the `parts`
/// function returned here (progenitor's statements before the URL, and the body's
/// serialization): each attempt builds its request from them by reference
/// (`send_once(&parts, notes)`), with a reference-counted copy of the body's bytes. So a call
/// neither copies its builder for each attempt nor keeps the body's values while it waits,
/// and a retry sends the same bytes. A builder that fails its checks fails each attempt as it
/// did, before anything is sent. The statements must be progenitor's, as `through_exchange`
/// and `merge_status_arms` leave them: the checks, the building, `let response =
/// exchange(..).await?;`, and a match with a 200 arm, one arm of the documented error
/// statuses and `_`; any other shape fails the build.
fn without_await_before_sending(
    send: &mut syn::ImplItemFn,
    operation: &str,
    operation_row: &proc_macro2::TokenStream,
    lifetime: &syn::Lifetime,
    fields: &[(String, syn::Type)],
) -> Result<syn::ImplItem, String> {
    let changed = |what: &str| {
        format!("progenitor's output changed: the `send` of {operation} {what}; review build.rs")
    };
    let stmts = &send.block.stmts;
    let exchange = stmts
        .iter()
        .position(|s| compact(s).starts_with("letresponse=crate::generated_glue::Dispatch::exchange("))
        .ok_or_else(|| changed("sends no exchange"))?;
    let [syn::Stmt::Expr(syn::Expr::Match(answer), None)] = &stmts[exchange + 1..] else {
        return Err(changed("does not end with a match on the answer"));
    };
    let mut codes: Vec<syn::Pat> = Vec::new();
    let (mut success, mut unexpected) = (false, false);
    for arm in &answer.arms {
        // progenitor writes some arms' bodies as blocks: `{ expr }`.
        let body = compact(&arm.body);
        let body = body
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .unwrap_or(&body)
            .to_owned();
        match (&arm.pat, body.as_str()) {
            (syn::Pat::Lit(_), "crate::generated_glue::decode(response).await")
                if compact(&arm.pat) == "200u16" =>
            {
                success = true;
            }
            (syn::Pat::Wild(_), "Err(Error::UnexpectedResponse(response))") => unexpected = true,
            (
                syn::Pat::Lit(_) | syn::Pat::Or(_),
                "Err(Error::ErrorResponse(crate::generated_glue::decode(response).await?))",
            ) if codes.is_empty() => match &arm.pat {
                syn::Pat::Or(or) => codes.extend(or.cases.iter().cloned()),
                single => codes.push(single.clone()),
            },
            _ => return Err(changed(&format!("answers {} with {body}", compact(&arm.pat)))),
        }
    }
    if !(success && unexpected) {
        return Err(changed("does not answer 200 and other statuses as expected"));
    }
    let syn::ReturnType::Type(_, output) = &send.sig.output else {
        return Err(changed("returns nothing"));
    };
    let output = (**output).clone();
    let error = type_argument(&output, "Result", 1)
        .cloned()
        .ok_or_else(|| changed("does not return a Result"))?;

    // The checks (`let Self { .. } = self;` and one `let x = x...?;` per field), then the
    // request's building, from `let url = ..` on.
    let url = stmts[..exchange]
        .iter()
        .position(|s| compact(s).starts_with("leturl="))
        .ok_or_else(|| changed("builds no URL"))?;
    let (checks, mut building) = (stmts[..url].to_vec(), stmts[url..exchange].to_vec());
    let Some(syn::Stmt::Local(destructure)) = checks.first() else {
        return Err(changed("does not start by taking the builder apart"));
    };
    let syn::Pat::Struct(pattern) = &destructure.pat else {
        return Err(changed(
            "does not take the builder apart with `let Self { .. } = self;`",
        ));
    };
    let names: Vec<syn::Ident> = pattern
        .fields
        .iter()
        .map(|f| match &f.member {
            syn::Member::Named(name) => Ok(name.clone()),
            syn::Member::Unnamed(_) => Err(changed("takes apart a builder with unnamed fields")),
        })
        .collect::<Result<_, _>>()?;
    for check in &checks[1..] {
        let syn::Stmt::Local(local) = check else {
            return Err(changed(&format!("checks its values with {}", compact(check))));
        };
        let checked = compact(&local.pat);
        if !names.iter().any(|n| *n == checked) || !compact(check).ends_with("?;") {
            return Err(changed(&format!("checks its values with {}", compact(check))));
        }
    }
    // The body, serialized once: `.json(&body)` becomes `.body(<the bytes>)` (the content
    // type is set by `exchange`, which sends JSON with its charset).
    struct Json(usize);
    impl syn::visit_mut::VisitMut for Json {
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            syn::visit_mut::visit_expr_method_call_mut(self, call);
            let arg = call.args.first().map(|a| compact(a));
            if call.method == "json" && call.args.len() == 1 && arg.as_deref() == Some("&body") {
                call.method = syn::Ident::new("body", call.method.span());
                call.args = syn::parse_quote!(::std::clone::Clone::clone(body));
                self.0 += 1;
            }
        }
    }
    let mut json = Json(0);
    for stmt in &mut building {
        syn::visit_mut::VisitMut::visit_stmt_mut(&mut json, stmt);
    }
    let has_body = names.iter().any(|n| n == "body");
    if has_body != (json.0 == 1) {
        return Err(changed("sends its body otherwise than once with `.json(&body)`"));
    }
    let types: Vec<syn::Type> = names
        .iter()
        .map(|name| {
            let (_, ty) = fields
                .iter()
                .find(|(field, _)| name == field)
                .ok_or_else(|| changed(&format!("takes apart a field {name} its builder lacks")))?;
            Ok(if name == "client" {
                ty.clone()
            } else if name == "body" {
                syn::parse_quote!(::bytes::Bytes)
            } else {
                generic_argument(ty, "Result")
                    .cloned()
                    .ok_or_else(|| changed(&format!("has a field {name} that is not a Result")))?
            })
        })
        .collect::<Result<_, String>>()?;
    let serialize = has_body
        .then(|| -> syn::Stmt { syn::parse_quote!(let body = crate::generated_glue::json_body(&body)?;) });
    let parts: syn::ImplItem = syn::parse_quote! {
        /// The builder's values, checked, and its body serialized: what each attempt's
        /// request is built from; the message of the first value that fails its check.
        pub(crate) fn parts(self) -> ::std::result::Result<(#(#types,)*), ::std::string::String> {
            (move || -> ::std::result::Result<(#(#types,)*), #error> {
                #(#checks)*
                #serialize
                Ok((#(#names,)*))
            })()
            .map_err(crate::generated_glue::invalid_request_message)
        }
    };
    let block: syn::Block = syn::parse_quote!({
        let built = (move || -> ::std::result::Result<(&#lifetime super::Client, ::reqwest::Request), #error> {
            let (#(#names,)*) = match parts {
                Ok((#(#names,)*)) => (#(#names,)*),
                Err(message) => return Err(Error::InvalidRequest(message.clone())),
            };
            let client: &#lifetime super::Client = client;
            #(#building)*
            Ok((client, request))
        })();
        let (client, request) = match built {
            Ok(built) => built,
            Err(err) => return ::futures_util::future::Either::Left(crate::generated_glue::not_built(err)),
        };
        ::futures_util::future::Either::Right(crate::generated_glue::answer(
            crate::generated_glue::Dispatch::exchange(client, request, #operation_row, notes),
            &[#(#codes),*],
        ))
    });
    send.block = block;
    send.sig.asyncness = None;
    send.sig.generics.params.push(syn::parse_quote!('n));
    send.sig.inputs = syn::parse_quote!(
        parts: &::std::result::Result<(#(#types,)*), ::std::string::String>,
        notes: &'n <super::Client as crate::generated_glue::Dispatch>::Notes
    );
    send.sig.output = syn::parse_quote!(
        -> impl ::std::future::Future<Output = #output> + Send + use<#lifetime, 'n>
    );
    Ok(parts)
}

/// Merges the arms of the match on the answer's status that do the same (progenitor writes
/// one arm per documented status, each decoding the error body: 400, 401, 403, 429 and 500
/// become one `400u16 | 401u16 | .. =>` arm). One decoding future and its code instead of
/// five: a smaller attempt, and less code for each call to bring into the instruction cache.
fn merge_status_arms(send: &mut syn::ImplItemFn) {
    struct Merge;
    impl syn::visit_mut::VisitMut for Merge {
        fn visit_expr_match_mut(&mut self, expr: &mut syn::ExprMatch) {
            let scrutinee = compact(&expr.expr);
            if scrutinee.ends_with("response.status().as_u16()") {
                let mut merged: Vec<syn::Arm> = Vec::new();
                for arm in std::mem::take(&mut expr.arms) {
                    let body = |arm: &syn::Arm| {
                        let body = &arm.body;
                        quote::quote!(#body).to_string()
                    };
                    let literal = matches!(arm.pat, syn::Pat::Lit(_)) && arm.guard.is_none();
                    let same = merged.iter_mut().find(|earlier| {
                        literal
                            && earlier.guard.is_none()
                            && matches!(&earlier.pat, syn::Pat::Lit(_) | syn::Pat::Or(_))
                            && body(earlier) == body(&arm)
                    });
                    match same {
                        Some(earlier) => {
                            let first = earlier.pat.clone();
                            let pat = arm.pat;
                            earlier.pat = syn::parse_quote!(#first | #pat);
                        }
                        None => merged.push(arm),
                    }
                }
                expr.arms = merged;
            }
            syn::visit_mut::visit_expr_match_mut(self, expr);
        }
    }
    syn::visit_mut::VisitMut::visit_impl_item_fn_mut(&mut Merge, send);
}

/// The `operation_id: "..."` of the `OperationInfo` a `send` builds.
pub(crate) fn operation_id(block: &syn::Block) -> Option<String> {
    use syn::visit::{self, Visit};
    #[derive(Default)]
    struct Find(Option<String>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_field_value(&mut self, field: &'ast syn::FieldValue) {
            if let (
                syn::Member::Named(name),
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ) = (&field.member, &field.expr)
            {
                if name == "operation_id" {
                    self.0 = Some(s.value());
                }
            }
            visit::visit_field_value(self, field);
        }
    }
    let mut find = Find::default();
    find.visit_block(block);
    find.0
}
