//! progenitor's settings, and the generation: the client from the spec, through every pass.

use crate::api_version::without_api_version;
use crate::call_machinery::with_call_machinery;
use crate::constructors::constructors_in_the_crate;
use crate::doc_examples::with_examples_as_text;
use crate::operation_table::operation_table;
use crate::operations::operations;
use crate::prelude::without_client_in_prelude;
use crate::urls::with_parsed_base_url;

/// Generates the formatted client code from the text of an OpenAPI 3.0 document.
pub(crate) fn generate(text: &str) -> Result<String, String> {
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
    constructors_in_the_crate(&mut file)?;
    file.items.extend(operation_table(&operations));
    Ok(prettyplease::unparse(&file))
}
