//! The pass taking each operation's URL from the client's parsed base URL (`STATIC_PATHS`).

/// Takes the URL of each operation whose path has no parameters from the client, which
/// builds it once.
///
/// progenitor formats `format!("{}/path", self.baseurl)` in every call, and reqwest then parses
/// the whole URL again (host and all). The call becomes `self.inner.url_at(<n>, "/path")`
/// (`ClientState::url_at` in `src/client_state.rs`), and the file gains `STATIC_PATHS`, the list of
/// those paths, for the client to join to its base URL once. A path with parameters is
/// written with each parameter encoded straight into it
/// (`crate::generated_glue::PathParam`, the encoding of progenitor's `encode_path`) and joined
/// to the parsed base URL (`self.inner.url_with_path(&format!(..))`). If no operation builds its URL that way any more
/// (a progenitor upgrade), the build says so rather than keep the slower code unnoticed.
/// A static path's call names its place in `STATIC_PATHS` beside it
/// (`self.inner.url_at(7, "/path")`), so that a call finds its URL without comparing paths.
pub(crate) fn with_parsed_base_url(file: &mut syn::File) -> Result<(), String> {
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
                        #owner.inner.url_with_path(&format!(#path, #(crate::generated_glue::PathParam(&#parameters)),*))
                    );
                    self.with_parameters += 1;
                    return;
                }
                if let Some((owner, path)) = static_path(mac) {
                    // Its place in `STATIC_PATHS`, where the client keeps its URL joined.
                    let at = match self.paths.iter().position(|known| *known == path) {
                        Some(at) => at,
                        None => {
                            self.paths.push(path.clone());
                            self.paths.len() - 1
                        }
                    };
                    *expr = syn::parse_quote!(#owner.inner.url_at(#at, #path));
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
