//! Generates the low-level client from `openapi/helpdesk.yaml` into `OUT_DIR/codegen.rs`.
//!
//! A spec that cannot be read, parsed or generated from fails the build with one message
//! naming the file and the problem, not a panic backtrace.
//!
//! Run by hand with a command (cargo runs it with none), it does one step on files of the
//! caller's: `generate <spec.yaml> <out.rs>`, or `edit
//! <without-api-version|parsed-base-url|call-machinery> <file.rs>` in place. `tests/it/build_script.rs` tests it so, without compiling the
//! generator a second time into the test binary.
//!
//! This file reads the spec and writes `OUT_DIR`; the parts are in `build/`, one to a file. In
//! the order they run (`build/generate.rs`):
//!
//! 1. `generate`: progenitor's settings; the generation, its panics reported as errors.
//! 2. `api_version`: drops the `api-version` header from every operation.
//! 3. `urls`: each operation's URL from the client's parsed base URL; `STATIC_PATHS`.
//! 4. `operations`: the operations read from the spec (`OperationMeta`).
//! 5. `call_machinery`: each builder's `send` through the call machinery (progenitor's
//!    becomes `send_once`, through `Dispatch::exchange`), `check_body`, the envelopes'
//!    `Envelope`; on the way, `pages` adds `stream()` to each paged builder.
//! 6. `doc_examples`: progenitor's usage sketches in the docs marked as text.
//! 7. `prelude`: drops `Client` from the generated prelude.
//! 8. `constructors`: drops `Client::new`; `Client::new_with_client` only for the crate.
//! 9. `operation_table`: appends `OPERATIONS` and `OPERATION_DETAILS`.
//!
//! `syntax` holds the helpers the passes share, finding modules and types in the tree.

#[path = "build/api_version.rs"]
mod api_version;
#[path = "build/call_machinery.rs"]
mod call_machinery;
#[path = "build/constructors.rs"]
mod constructors;
#[path = "build/doc_examples.rs"]
mod doc_examples;
#[path = "build/generate.rs"]
mod generate;
#[path = "build/operation_table.rs"]
mod operation_table;
#[path = "build/operations.rs"]
mod operations;
#[path = "build/pages.rs"]
mod pages;
#[path = "build/prelude.rs"]
mod prelude;
#[path = "build/syntax.rs"]
mod syntax;
#[path = "build/urls.rs"]
mod urls;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use api_version::without_api_version;
use call_machinery::with_call_machinery;
use generate::generate;
use urls::with_parsed_base_url;

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

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build through cargo"))
}
