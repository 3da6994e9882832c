//! Generates the low-level client from `openapi/helpdesk.yaml` into `OUT_DIR/codegen.rs`.
//!
//! A spec that cannot be read, parsed or generated from fails the build with one message
//! naming the file and the problem.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "openapi/helpdesk.yaml";

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    match generate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {SPEC}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate() -> Result<(), String> {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let text = std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read: {e}"))?;
    let spec: openapiv3::OpenAPI =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        // The per-client state the request hook reads (see `src/hooks.rs`).
        .with_inner_type(quote::quote!(crate::hooks::HookState))
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");

    // The generator panics on some unsupported constructs; report those as build errors.
    std::panic::set_hook(Box::new(|_| {}));
    let tokens = std::panic::catch_unwind(|| progenitor::Generator::new(&settings).generate_tokens(&spec))
        .map_err(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown cause");
            format!("progenitor cannot generate a client from it: {what}")
        })?
        .map_err(|e| format!("progenitor cannot generate a client from it: {e}"))?;
    let _ = std::panic::take_hook();

    let file: syn::File = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let code = prettyplease::unparse(&file);

    let out = Path::new(&env("OUT_DIR")?).join("codegen.rs");
    std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; run this through cargo"))
}
