//! The pass marking progenitor's usage sketches in the docs as text.

/// Marks progenitor's usage sketches in the docs (```` ```ignore ```` blocks, which name
/// variables they never define) as text: rustdoc shows them the same, and the doctests
/// neither list them as ignored nor fail on them under `--include-ignored`.
pub(crate) fn with_examples_as_text(file: &mut syn::File) {
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
