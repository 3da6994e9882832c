//! Generates the low-level client from `openapi/helpdesk.yaml` into `OUT_DIR/codegen.rs`.
//!
//! A spec that cannot be read, parsed or generated from fails the build with one message
//! naming the file and the problem, not a panic backtrace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "openapi/helpdesk.yaml";

fn main() -> ExitCode {
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

fn read_spec() -> Result<String, String> {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read it: {e}"))
}

fn write_out(code: &str) -> Result<(), String> {
    let out = Path::new(&env("OUT_DIR")?).join("codegen.rs");
    std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// Generates the formatted client code from the text of an OpenAPI 3.0 document.
pub(crate) fn generate(text: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        // The per-client state the request hook reads (see `src/hooks.rs`).
        .with_inner_type(quote::quote!(crate::hooks::HookState))
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

    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("the generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build through cargo"))
}
