//! Generates the low-level client from `openapi/helpdesk.yaml` into `OUT_DIR/codegen.rs`.
//!
//! A spec that cannot be read, parsed or generated from fails the build with one message
//! naming the file and the problem, not a panic backtrace.
//!
//! Run by hand with a command (cargo runs it with none), it does one step on files of the
//! caller's: `generate <spec.yaml> <out.rs>`, or `edit
//! <without-api-version|parsed-base-url|call-machinery> <file.rs>` in place. `tests/it/build_script.rs` tests it so, without compiling the
//! generator a second time into the test binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "openapi/helpdesk.yaml";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return by_hand(&args);
    }
    println!("cargo::rerun-if-changed={SPEC}");
    println!("cargo::rerun-if-changed=build.rs");
    match read_spec()
        .and_then(|text| generate(&text))
        .and_then(|code| write_out(&code))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Shown by cargo as the first line of the failed build.
            println!("cargo::error={SPEC}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One step, run by hand: failures go to stderr as `error: <message>`.
fn by_hand(args: &[String]) -> ExitCode {
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"));
    let write =
        |path: &str, text: &str| std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"));
    let done = match args {
        [command, spec, out] if command == "generate" => read(spec)
            .and_then(|text| generate(&text))
            .and_then(|code| write(out, &code)),
        [command, which, file] if command == "edit" => read(file).and_then(|text| {
            let mut parsed = syn::parse_file(&text).map_err(|e| format!("{file} does not parse: {e}"))?;
            match which.as_str() {
                "without-api-version" => without_api_version(&mut parsed)?,
                "parsed-base-url" => with_parsed_base_url(&mut parsed)?,
                "call-machinery" => with_call_machinery(&mut parsed, &[])?,
                other => return Err(format!("no edit named {other}")),
            }
            write(file, &prettyplease::unparse(&parsed))
        }),
        _ => Err(
            "usage: generate <spec.yaml> <out.rs> | edit <without-api-version|parsed-base-url|call-machinery> <file.rs>"
                .into(),
        ),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn read_spec() -> Result<String, String> {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read it: {e}"))
}

fn write_out(code: &str) -> Result<(), String> {
    let out = Path::new(&env("OUT_DIR")?).join("codegen.rs");
    std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// Generates the formatted client code from the text of an OpenAPI 3.0 document.
fn generate(text: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        // Named parameters and `.send()`; one extension trait per tag (resource).
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Separate)
        // The per-client state the request hook reads (see `src/client_state.rs`).
        .with_inner_type(quote::quote!(crate::client_state::ClientState))
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");

    // The generator panics on some constructs it does not support (a `default` response
    // beside `200`, for one); report those as build errors rather than backtraces.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated = std::panic::catch_unwind(|| progenitor::Generator::new(&settings).generate_tokens(&spec));
    std::panic::set_hook(previous_hook);
    let tokens = generated
        .map_err(|panic| {
            let cause = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown cause");
            format!("progenitor cannot generate a client from it: {cause}")
        })?
        .map_err(|e| format!("progenitor cannot generate a client from it: {e}"))?;

    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("the generated code does not parse: {e}"))?;
    without_api_version(&mut file)?;
    with_parsed_base_url(&mut file)?;
    let operations = operations(&spec)?;
    with_call_machinery(&mut file, &operations)?;
    with_examples_as_text(&mut file);
    without_client_in_prelude(&mut file)?;
    file.items.extend(operation_table(&operations));
    Ok(prettyplease::unparse(&file))
}

/// Drops the `api-version` header from the generated operations.
///
/// progenitor 0.15 builds, in every operation, a header map holding `api-version: <the spec's
/// info.version>`. The platform defines no such header, so the client must not send it; dropping
/// the statement here costs nothing per call (removing the header in the request hook did). The
/// map's capacity counted the header, so it is lowered by one: an empty map does not allocate.
/// If a progenitor upgrade changes this code, the build says so rather than sending the header.
fn without_api_version(file: &mut syn::File) -> Result<(), String> {
    use syn::visit_mut::{self, VisitMut};

    #[derive(Default)]
    struct Edit {
        appends_dropped: usize,
        capacities_lowered: usize,
        error: Option<String>,
    }

    /// `header_map.append(::reqwest::header::HeaderName::from_static("api-version"), …);`
    fn is_api_version_append(stmt: &syn::Stmt) -> bool {
        let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
            return false;
        };
        let receiver_is_map = matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"));
        let names_api_version = match call.args.first() {
            Some(syn::Expr::Call(name)) => {
                path_ends_with(&name.func, &["from_static"])
                    && matches!(name.args.first(), Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if s.value() == "api-version")
            }
            _ => false,
        };
        call.method == "append" && receiver_is_map && names_api_version
    }

    /// Whether `func` is a path ending in `names`.
    fn path_ends_with(func: &syn::Expr, names: &[&str]) -> bool {
        let syn::Expr::Path(path) = func else {
            return false;
        };
        let segments = path.path.segments.iter().map(|s| s.ident.to_string());
        segments.rev().take(names.len()).eq(names.iter().rev().copied())
    }

    impl VisitMut for Edit {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let before = block.stmts.len();
            block.stmts.retain(|stmt| !is_api_version_append(stmt));
            self.appends_dropped += before - block.stmts.len();
            visit_mut::visit_block_mut(self, block);
        }

        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            // `::reqwest::header::HeaderMap::with_capacity(N)`, N counting the api-version header.
            if path_ends_with(&call.func, &["HeaderMap", "with_capacity"]) {
                let lowered = match call.args.first_mut() {
                    Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    })) => {
                        let count = n.base10_parse::<usize>().ok().filter(|&count| count > 0);
                        count.map(|count| *n = syn::LitInt::new(&format!("{}usize", count - 1), n.span()))
                    }
                    _ => None,
                };
                match lowered {
                    Some(()) => self.capacities_lowered += 1,
                    None => self.error = Some("a header map's capacity is not a positive literal".into()),
                }
            }
            visit_mut::visit_expr_call_mut(self, call);
        }
    }

    let mut edit = Edit::default();
    edit.visit_file_mut(file);
    match edit {
        Edit {
            error: Some(error), ..
        } => Err(format!("progenitor's output changed: {error}; review build.rs")),
        Edit {
            appends_dropped,
            capacities_lowered,
            ..
        } if appends_dropped == 0 || appends_dropped != capacities_lowered => Err(format!(
            "progenitor's output changed: {appends_dropped} api-version headers for {capacities_lowered} \
             header maps; review build.rs"
        )),
        _ => Ok(()),
    }
}

/// Takes the URL of each operation whose path has no parameters from the client, which
/// builds it once.
///
/// progenitor formats `format!("{}/path", self.baseurl)` in every call, and reqwest then parses
/// the whole URL again (host and all). The call becomes `self.inner.url("/path")`
/// (`ClientState::url` in `src/client_state.rs`), and the file gains `STATIC_PATHS`, the list of
/// those paths, for the client to join to its base URL once. A path with parameters is
/// written with each parameter encoded straight into it (`crate::operation::PathParam`, the
/// encoding of progenitor's `encode_path`) and joined to the parsed base URL
/// (`self.inner.url_with_path(&format!(..))`). If no operation builds its URL that way any more
/// (a progenitor upgrade), the build says so rather than keep the slower code unnoticed.
fn with_parsed_base_url(file: &mut syn::File) -> Result<(), String> {
    use syn::visit_mut::{self, VisitMut};

    #[derive(Default)]
    struct Edit {
        /// The paths rewritten, each once.
        paths: Vec<String>,
        /// How many URLs with path parameters were rewritten.
        with_parameters: usize,
    }

    /// The owner, the path (the template without the `{}` of the base URL) and the other
    /// arguments of `format!("{}/path..", owner.baseurl, ..)`, if the call has that shape.
    fn base_url_format(mac: &syn::Macro) -> Option<(syn::Ident, String, Vec<syn::Expr>)> {
        if !mac.path.is_ident("format") {
            return None;
        }
        let args = mac
            .parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        let mut args = args.into_iter();
        let (Some(syn::Expr::Lit(template)), Some(syn::Expr::Field(base))) = (args.next(), args.next())
        else {
            return None;
        };
        let syn::Lit::Str(template) = &template.lit else {
            return None;
        };
        // `self.baseurl` (a client method) or `client.baseurl` (a builder's `send`).
        let syn::Expr::Path(owner) = &*base.base else {
            return None;
        };
        let owner = owner.path.get_ident()?.clone();
        let is_baseurl = matches!(&base.member, syn::Member::Named(name) if name == "baseurl");
        let path = template.value().strip_prefix("{}")?.to_owned();
        (is_baseurl && path.starts_with('/')).then(|| (owner, path, args.collect()))
    }

    /// The owner and path in `format!("{}/path", owner.baseurl,)`, if the call is exactly that.
    fn static_path(mac: &syn::Macro) -> Option<(syn::Ident, String)> {
        let (owner, path, rest) = base_url_format(mac)?;
        (rest.is_empty() && !path.contains(['{', '}'])).then_some((owner, path))
    }

    /// The owner, the path template and the parameters in
    /// `format!("{}/path/{}", owner.baseurl, encode_path(&x.to_string()), ..)`, if the call is
    /// exactly that.
    fn path_with_parameters(mac: &syn::Macro) -> Option<(syn::Ident, String, Vec<syn::Expr>)> {
        let (owner, path, rest) = base_url_format(mac)?;
        // Each parameter: `encode_path(&x.to_string())`; `x` is kept.
        let parameters: Vec<syn::Expr> = rest
            .into_iter()
            .map(|arg| {
                let syn::Expr::Call(call) = arg else { return None };
                let syn::Expr::Path(func) = &*call.func else {
                    return None;
                };
                if !func.path.is_ident("encode_path") || call.args.len() != 1 {
                    return None;
                }
                let syn::Expr::Reference(reference) = &call.args[0] else {
                    return None;
                };
                let syn::Expr::MethodCall(to_string) = &*reference.expr else {
                    return None;
                };
                (to_string.method == "to_string" && to_string.args.is_empty())
                    .then(|| (*to_string.receiver).clone())
            })
            .collect::<Option<_>>()?;
        let placeholders = path.matches("{}").count();
        (!parameters.is_empty() && placeholders == parameters.len()).then_some((owner, path, parameters))
    }

    impl VisitMut for Edit {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::Macro(syn::ExprMacro { mac, .. }) = expr {
                if let Some((owner, path, parameters)) = path_with_parameters(mac) {
                    // Written straight into the path, encoded as `encode_path` encodes; the
                    // path joined to the parsed base URL.
                    *expr = syn::parse_quote!(
                        #owner.inner.url_with_path(&format!(#path, #(crate::operation::PathParam(&#parameters)),*))
                    );
                    self.with_parameters += 1;
                    return;
                }
                if let Some((owner, path)) = static_path(mac) {
                    *expr = syn::parse_quote!(#owner.inner.url(#path));
                    if !self.paths.contains(&path) {
                        self.paths.push(path);
                    }
                    return;
                }
            }
            visit_mut::visit_expr_mut(self, expr);
        }
    }

    let mut edit = Edit::default();
    edit.visit_file_mut(file);
    if edit.paths.is_empty() || edit.with_parameters == 0 {
        return Err("progenitor's output changed: no operation formats its URL as \
                    format!(\"{}/path\", client.baseurl) or with encode_path(&x.to_string()) \
                    parameters; review build.rs"
            .into());
    }
    let paths = &edit.paths;
    file.items.push(syn::parse_quote! {
        /// The paths the operations pass to `ClientState::url`, which joins each to the
        /// base URL once per client.
        pub(crate) const STATIC_PATHS: &[&str] = &[#(#paths),*];
    });
    Ok(())
}

/// Runs every operation's `send` through the client's call machinery.
///
/// progenitor's `send` on each builder (in `mod builder`) makes one attempt and returns
/// progenitor's result. It becomes `send_once`, and a new `send` hands a closure making one
/// attempt to `crate::operation::Dispatch` (implemented in `src/call.rs`): token renewal,
/// retries, the tracing span and the mapping of the envelope to its `data` or an `Error`,
/// the same for every operation. The envelope types of the answers gain
/// `crate::operation::Envelope`, which takes them apart. The edit is the same for every
/// builder; one that does not have progenitor's shape fails the build.
fn with_call_machinery(file: &mut syn::File, operations: &[OperationMeta]) -> Result<(), String> {
    use quote::quote;

    // The fields of each struct of `mod types`, and the `data` type of each envelope.
    let mut structs = std::collections::HashMap::new();
    let types = module(file, "types").ok_or("progenitor's output changed: no `mod types`")?;
    for item in types {
        let syn::Item::Struct(item) = item else { continue };
        let fields: Vec<(String, syn::Type)> = item
            .fields
            .iter()
            .filter_map(|f| Some((f.ident.as_ref()?.to_string(), f.ty.clone())))
            .collect();
        structs.insert(item.ident.to_string(), fields);
    }
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
    // The body type of each builder that takes one (`body: Result<types::builder::X, String>`).
    let mut body_types = std::collections::HashMap::new();
    if let Some(items) = module(file, "builder") {
        for item in items {
            let syn::Item::Struct(item) = item else { continue };
            let body = item
                .fields
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == "body"));
            let name = body
                .and_then(|f| generic_argument(&f.ty, "Result"))
                .and_then(|ty| match ty {
                    syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.clone()),
                    _ => None,
                });
            if let Some(name) = name {
                body_types.insert(item.ident.to_string(), name);
            }
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
        let answer = success_type(&send.sig.output).ok_or_else(|| {
            format!(
                "progenitor's output changed: a `send` returns {}",
                quote!(#send.sig.output)
            )
        })?;
        let operation =
            operation_id(&send.block).ok_or("progenitor's output changed: a `send` names no operation_id")?;
        let answer_name = answer
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if answer_name != "ByteStream" && !data_fields.contains_key(&answer_name) {
            // Not the `{code, msg, data}` envelope (the token operation answers at the top
            // level): progenitor's `send` stays, for the token endpoint.
            continue;
        }
        let doc = send.attrs.iter().find(|a| a.path().is_ident("doc")).cloned();
        through_exchange(send, &operation)?;
        send.sig.ident = syn::Ident::new("send_once", send.sig.ident.span());
        send.vis = syn::parse_quote!(pub(crate));
        send.attrs.retain(|a| !a.path().is_ident("doc"));
        send.attrs
            .push(syn::parse_quote!(#[doc = " One attempt, as progenitor makes it."]));
        let new_send: syn::ImplItem = if answer_name == "ByteStream" {
            syn::parse_quote! {
                #doc
                ///
                /// With the client's call machinery: both credentials, token renewal, retries
                /// (never repeating a side effect), a tracing span named by the operation. The
                /// answer's bytes come as a stream, bounded in size; a JSON error answer is an
                /// [`Error`](crate::Error).
                pub async fn send(self) -> Result<crate::operation::Download, crate::Error> {
                    let client = self.client;
                    let notes = <super::Client as crate::operation::Dispatch>::Notes::default();
                    crate::operation::Dispatch::download(client, #operation, &notes, || self.clone().send_once(&notes)).await
                }
            }
        } else {
            let data = data_fields.get(&answer_name).ok_or_else(|| {
                format!("the answer type {answer_name} of {operation} is not an envelope (code, msg, data)")
            })?;
            let data = qualified(without_option(data));
            if !envelopes.contains(&answer_name) {
                envelopes.push(answer_name.clone());
            }
            syn::parse_quote! {
                #doc
                ///
                /// With the client's call machinery: both credentials, token renewal, retries
                /// (never repeating a side effect), a tracing span named by the operation. Gives
                /// the answer's `data` (its default if the platform left it out); a non-zero
                /// `code` is an [`Error::Api`](crate::Error::Api).
                pub async fn send(self) -> Result<#data, crate::Error> {
                    let client = self.client;
                    let notes = <super::Client as crate::operation::Dispatch>::Notes::default();
                    crate::operation::Dispatch::dispatch(client, #operation, &notes, || self.clone().send_once(&notes)).await
                }
            }
        };
        block.items.insert(position, new_send);
        edited += 1;
        let builder_name = type_name(&block.self_ty);
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
            impl crate::operation::Envelope for #ident {
                type Data = #data_type;
                fn into_parts(self) -> (i64, ::std::string::String, Option<Self::Data>) {
                    (self.code, self.msg, #parts)
                }
            }
        });
    }
    Ok(())
}

/// Sends an attempt through `crate::operation::Dispatch::exchange` instead of progenitor's
/// hooks, with the call's notes as a parameter.
///
/// progenitor's `send` ends with `let info = OperationInfo {..}; client.pre(..).await?;
/// let result = client.exec(..).await; client.post(..).await?; let response = result?;`
/// and then maps the status. Those statements become one
/// `let response = Dispatch::exchange(client, request, "<operation>", notes).await?;`: the
/// notes reach the hook by reference (no task-local moved in and out on every poll), the
/// operation is looked up once, and the attempt's future holds one small future where it
/// held the request beside each hook's. The answers are decoded by `crate::operation::decode`
/// instead of `ResponseValue::from_response`. A `send` of another shape fails the build.
fn through_exchange(send: &mut syn::ImplItemFn, operation: &str) -> Result<(), String> {
    let text = |stmt: &syn::Stmt| quote::quote!(#stmt).to_string().replace(' ', "");
    let stmts = &mut send.block.stmts;
    let start = stmts
        .iter()
        .position(|s| text(s).starts_with("letinfo=OperationInfo{"));
    let end = stmts.iter().position(|s| text(s) == "letresponse=result?;");
    let (Some(start), Some(end)) = (start, end) else {
        return Err(format!(
            "progenitor's output changed: the `send` of {operation} has no hook calls to replace"
        ));
    };
    let replaced: Vec<String> = stmts[start..=end].iter().map(text).collect();
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
            let response = crate::operation::Dispatch::exchange(client, request, #operation, notes).await?;
        }],
    );
    // The answers are decoded by `crate::operation::decode`, which moves the headers where
    // `ResponseValue::from_response` copies them, and keeps less in the attempt's future.
    struct Decode(usize);
    impl syn::visit_mut::VisitMut for Decode {
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            if let syn::Expr::Path(func) = &*call.func {
                let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
                if names == ["ResponseValue", "from_response"] {
                    *call.func = syn::parse_quote!(crate::operation::decode);
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
    send.sig
        .inputs
        .push(syn::parse_quote!(notes: &<super::Client as crate::operation::Dispatch>::Notes));
    Ok(())
}

/// `stream()` on a paged operation's builder: every item of every page, fetched a page at a
/// time through `send` (`crate::operation::pages_by_token` or `pages_by_number`).
fn page_stream(
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
                crate::operation::pages_by_token(
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
            crate::operation::pages_by_number(
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

/// The items of the inline module `name`.
fn module<'a>(file: &'a syn::File, name: &str) -> Option<&'a Vec<syn::Item>> {
    file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

fn module_mut<'a>(file: &'a mut syn::File, name: &str) -> Option<&'a mut Vec<syn::Item>> {
    file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// `T` in `-> Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &syn::ReturnType) -> Option<syn::Path> {
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
fn generic_argument<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The last name of a type's path (`GetTicket` for `builder::GetTicket<'a>`), or "".
fn type_name(ty: &syn::Type) -> String {
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

fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    generic_argument(ty, "Option")
}

fn without_option(ty: &syn::Type) -> &syn::Type {
    option_inner(ty).unwrap_or(ty)
}

/// A type named inside `mod types`, as `mod builder` names it.
fn qualified(ty: &syn::Type) -> syn::Type {
    match ty {
        syn::Type::Path(p)
            if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1 =>
        {
            syn::parse_quote!(types::#p)
        }
        other => other.clone(),
    }
}

/// The `operation_id: "..."` of the `OperationInfo` a `send` builds.
fn operation_id(block: &syn::Block) -> Option<String> {
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

/// Marks progenitor's usage sketches in the docs (```` ```ignore ```` blocks, which name
/// variables they never define) as text: rustdoc shows them the same, and the doctests
/// neither list them as ignored nor fail on them under `--include-ignored`.
fn with_examples_as_text(file: &mut syn::File) {
    use syn::visit_mut::{self, VisitMut};

    struct Edit;
    impl VisitMut for Edit {
        fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
            if let syn::Meta::NameValue(doc) = &mut attr.meta {
                if doc.path.is_ident("doc") {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }) = &mut doc.value
                    {
                        if text.value().contains("```ignore") {
                            *text =
                                syn::LitStr::new(&text.value().replace("```ignore", "```text"), text.span());
                        }
                    }
                }
            }
            visit_mut::visit_attribute_mut(self, attr);
        }
    }
    Edit.visit_file_mut(file);
}

/// Drops `pub use super::Client;` from the generated prelude: the crate's prelude re-exports
/// the extension traits beside the crate's own `Client`.
fn without_client_in_prelude(file: &mut syn::File) -> Result<(), String> {
    let prelude = module_mut(file, "prelude").ok_or("progenitor's output changed: no `mod prelude`")?;
    let before = prelude.len();
    prelude.retain(|item| !matches!(item, syn::Item::Use(u) if quote::quote!(#u).to_string().replace(' ', "").ends_with("super::Client;")));
    if prelude.len() + 1 != before {
        return Err(
            "progenitor's output changed: the prelude does not re-export the Client; review build.rs".into(),
        );
    }
    Ok(())
}

/// An operation of the spec, as the generated code describes it.
struct OperationMeta {
    id: String,
    method: String,
    path: String,
    tag: String,
    summary: String,
    /// `Tenant`, `User`, `TenantOrUser` or `None`.
    token: &'static str,
    idempotent: bool,
    binary: bool,
    paging: Option<PagingMeta>,
    /// The first example of the `200` answer, as JSON text.
    example: Option<String>,
    /// The query parameters: name, required, array.
    query: Vec<(String, bool, bool)>,
    /// Whether a request body is required.
    body_required: bool,
}

/// How a paged operation pages: the array of items in `data`, and the field of `data` with
/// the next page's token (token paging) or `None` (page numbers with `total`).
struct PagingMeta {
    items: String,
    next_token: Option<String>,
}

/// Each operation of the spec: its id, method, path, tag, the token it takes, whether
/// sending it twice is harmless, whether it answers bytes, and how it pages.
///
/// The token comes from the operation's `security`: `userAccessToken`, `tenantAccessToken`
/// or either. An operation is safe to send again if it is a GET or says
/// `x-idempotent: true`. Paging is read from the parameters and the `data` schema: a
/// `page_token` query with `has_more` and `page_token` or `next_page_token` in `data`, or
/// `page` and `page_size` queries with `total`; the items are `data`'s one array.
fn operations(spec: &openapiv3::OpenAPI) -> Result<Vec<OperationMeta>, String> {
    use openapiv3::{ReferenceOr, SchemaKind, Type};

    let schema_named = |reference: &str| -> Option<&openapiv3::Schema> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        match spec.components.as_ref()?.schemas.get(name)? {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { .. } => None,
        }
    };
    let resolve = |schema: &ReferenceOr<Box<openapiv3::Schema>>| -> Option<openapiv3::Schema> {
        match schema {
            ReferenceOr::Item(s) => Some((**s).clone()),
            ReferenceOr::Reference { reference } => schema_named(reference).cloned(),
        }
    };
    let properties = |schema: &openapiv3::Schema| -> Vec<(String, openapiv3::Schema)> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => object
                .properties
                .iter()
                .filter_map(|(name, s)| Some((name.clone(), resolve(s)?)))
                .collect(),
            _ => Vec::new(),
        }
    };

    let mut operations = Vec::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else { continue };
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .clone()
                .ok_or_else(|| format!("{method} {path} has no operationId"))?;
            let schemes: Vec<Vec<String>> = op
                .security
                .as_ref()
                .or(spec.security.as_ref())
                .map(|alternatives| alternatives.iter().map(|a| a.keys().cloned().collect()).collect())
                .unwrap_or_default();
            let takes = |scheme: &str| schemes.iter().any(|alt| alt.iter().any(|s| s == scheme));
            let token = match (takes("tenantAccessToken"), takes("userAccessToken")) {
                (true, true) => "TenantOrUser",
                (false, true) => "User",
                (true, false) => "Tenant",
                (false, false) => "None",
            };
            let idempotent =
                method == "get" || op.extensions.get("x-idempotent").and_then(|v| v.as_bool()) == Some(true);
            let success = match op.responses.responses.get(&openapiv3::StatusCode::Code(200)) {
                Some(ReferenceOr::Item(r)) => Some(r.clone()),
                Some(ReferenceOr::Reference { reference }) => reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|name| spec.components.as_ref()?.responses.get(name))
                    .and_then(|r| match r {
                        ReferenceOr::Item(r) => Some(r.clone()),
                        ReferenceOr::Reference { .. } => None,
                    }),
                None => None,
            };
            let binary = success
                .as_ref()
                .is_some_and(|r| r.content.keys().any(|c| c == "application/octet-stream"));
            // The `data` schema of the success envelope, for paging.
            let data = success
                .as_ref()
                .and_then(|r| r.content.get("application/json"))
                .and_then(|media| media.schema.as_ref())
                .and_then(|s| match s {
                    ReferenceOr::Reference { reference } => schema_named(reference).cloned(),
                    ReferenceOr::Item(s) => Some(s.clone()),
                })
                .and_then(|envelope| {
                    properties(&envelope)
                        .into_iter()
                        .find(|(n, _)| n == "data")
                        .map(|(_, s)| s)
                });
            let data_fields = data.as_ref().map(properties).unwrap_or_default();
            let has = |name: &str| data_fields.iter().any(|(n, _)| n == name);
            let arrays: Vec<&String> = data_fields
                .iter()
                .filter(|(_, s)| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
                .map(|(n, _)| n)
                .collect();
            let queries: Vec<&str> = op
                .parameters
                .iter()
                .filter_map(|p| match p {
                    ReferenceOr::Item(openapiv3::Parameter::Query { parameter_data, .. }) => {
                        Some(parameter_data.name.as_str())
                    }
                    _ => None,
                })
                .collect();
            let query = |name: &str| queries.contains(&name);
            let paging = match arrays.as_slice() {
                [items]
                    if query("page_token")
                        && has("has_more")
                        && (has("page_token") || has("next_page_token")) =>
                {
                    let next = if has("next_page_token") {
                        "next_page_token"
                    } else {
                        "page_token"
                    };
                    Some(PagingMeta {
                        items: (*items).clone(),
                        next_token: Some(next.into()),
                    })
                }
                [items] if query("page") && query("page_size") && has("total") => Some(PagingMeta {
                    items: (*items).clone(),
                    next_token: None,
                }),
                _ => None,
            };
            let example = success
                .as_ref()
                .and_then(|r| r.content.get("application/json"))
                .and_then(|media| {
                    let first = media.examples.values().next().and_then(|e| match e {
                        ReferenceOr::Item(example) => example.value.clone(),
                        ReferenceOr::Reference { .. } => None,
                    });
                    first.or_else(|| media.example.clone())
                })
                .map(|value| value.to_string());
            let query = op
                .parameters
                .iter()
                .filter_map(|p| match p {
                    ReferenceOr::Item(openapiv3::Parameter::Query { parameter_data, .. }) => {
                        let array = match &parameter_data.format {
                            openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
                                matches!(schema.schema_kind, SchemaKind::Type(Type::Array(_)))
                            }
                            _ => false,
                        };
                        Some((parameter_data.name.clone(), parameter_data.required, array))
                    }
                    _ => None,
                })
                .collect();
            let body_required = match &op.request_body {
                Some(ReferenceOr::Item(body)) => body.required,
                Some(ReferenceOr::Reference { reference }) => reference
                    .strip_prefix("#/components/requestBodies/")
                    .and_then(|name| spec.components.as_ref()?.request_bodies.get(name))
                    .is_some_and(|body| matches!(body, ReferenceOr::Item(b) if b.required)),
                None => false,
            };
            operations.push(OperationMeta {
                example,
                query,
                body_required,
                id,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                tag: op.tags.first().cloned().unwrap_or_default(),
                summary: op.summary.clone().unwrap_or_default(),
                token,
                idempotent,
                binary,
                paging,
            });
        }
    }
    operations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(operations)
}

/// `OPERATIONS`: the operations as `crate::operation::Operation`, sorted by id, and
/// `OPERATION_DETAILS` beside them.
fn operation_table(operations: &[OperationMeta]) -> Vec<syn::Item> {
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
            /// Every operation of the spec, sorted by id.
            pub(crate) const OPERATIONS: &[crate::operation::Operation] = &[#(#rows),*];
        },
        syn::parse_quote! {
            /// Beside each of `OPERATIONS` (same index): what a stand-in needs to check its
            /// requests and answer them.
            pub(crate) const OPERATION_DETAILS: &[crate::operation::OperationDetail] = &[#(#details),*];
        },
    ]
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build through cargo"))
}
