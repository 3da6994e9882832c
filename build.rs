//! Generates the low-level client from `openapi/helpdesk.yaml` into `OUT_DIR/codegen.rs`.
//!
//! A spec that cannot be read, parsed or generated from fails the build with one message
//! naming the file and the problem, not a panic backtrace.
//!
//! Run by hand with a command (cargo runs it with none), it does one step on files of the
//! caller's: `generate <spec.yaml> <out.rs>`, or `edit <without-api-version|parsed-base-url>
//! <file.rs>` in place. `tests/it/build_script.rs` tests it so, without compiling the
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
                other => return Err(format!("no edit named {other}")),
            }
            write(file, &prettyplease::unparse(&parsed))
        }),
        _ => Err(
            "usage: generate <spec.yaml> <out.rs> | edit <without-api-version|parsed-base-url> <file.rs>"
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
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
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
/// those paths, for the client to join to its base URL once. Paths with parameters keep
/// progenitor's code. If no operation builds its URL that way any more (a progenitor upgrade),
/// the build says so rather than keep the slower code unnoticed.
fn with_parsed_base_url(file: &mut syn::File) -> Result<(), String> {
    use syn::visit_mut::{self, VisitMut};

    #[derive(Default)]
    struct Edit {
        /// The paths rewritten, each once.
        paths: Vec<String>,
    }

    /// The path in `format!("{}/path", self.baseurl,)`, if the call is exactly that.
    fn static_path(mac: &syn::Macro) -> Option<String> {
        if !mac.path.is_ident("format") {
            return None;
        }
        let args = mac
            .parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        let mut args = args.iter();
        let (Some(syn::Expr::Lit(template)), Some(syn::Expr::Field(base)), None) =
            (args.next(), args.next(), args.next())
        else {
            return None;
        };
        let syn::Lit::Str(template) = &template.lit else {
            return None;
        };
        let is_self_baseurl = matches!(&*base.base, syn::Expr::Path(p) if p.path.is_ident("self"))
            && matches!(&base.member, syn::Member::Named(name) if name == "baseurl");
        let path = template.value().strip_prefix("{}")?.to_owned();
        (is_self_baseurl && path.starts_with('/') && !path.contains(['{', '}'])).then_some(path)
    }

    impl VisitMut for Edit {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            if let syn::Expr::Macro(syn::ExprMacro { mac, .. }) = expr {
                if let Some(path) = static_path(mac) {
                    *expr = syn::parse_quote!(self.inner.url(#path));
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
    if edit.paths.is_empty() {
        return Err("progenitor's output changed: no operation formats its URL as \
                    format!(\"{}/path\", self.baseurl); review build.rs"
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

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build through cargo"))
}
