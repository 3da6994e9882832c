//! The pass dropping progenitor's `api-version` header from every operation.

/// Drops the `api-version` header from the generated operations.
///
/// progenitor 0.15 builds, in every operation, a header map holding `api-version: <the spec's
/// info.version>`. The platform defines no such header, so the client must not send it; dropping
/// the statement here costs nothing per call (removing the header in the request hook did). The
/// map's capacity counted the header, so it is lowered by one: an empty map does not allocate.
/// If a progenitor upgrade changes this code, the build says so rather than sending the header.
pub(crate) fn without_api_version(file: &mut syn::File) -> Result<(), String> {
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
