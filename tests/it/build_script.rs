//! `build.rs` turns a broken spec into one clear message, not a panic, and its two edits of
//! progenitor's output fail the build, naming the cause, when that output changes shape.
//!
//! The generated code of the committed spec is read from `OUT_DIR`; the other cases run the
//! compiled build script by hand on files of their own (see the top of `build.rs`), so the
//! generator is not compiled a second time into this test binary.

use std::path::PathBuf;
use std::process::Command;

const SPEC: &str = include_str!("../../openapi/helpdesk.yaml");
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/codegen.rs"));

/// The build script cargo compiled for this package: the newest `build-script-build` beside
/// this test's `OUT_DIR` (`target/<profile>/build/feishu-helpdesk-<hash>/`).
fn build_script() -> PathBuf {
    let build = PathBuf::from(env!("OUT_DIR"))
        .ancestors()
        .nth(2)
        .expect("OUT_DIR is target/<profile>/build/<package>-<hash>/out")
        .to_owned();
    std::fs::read_dir(&build)
        .expect("the build directory")
        .filter_map(|entry| {
            let dir = entry.ok()?;
            let name = dir.file_name().into_string().ok()?;
            let script = dir.path().join("build-script-build");
            let modified = script.metadata().ok()?.modified().ok()?;
            name.starts_with("feishu-helpdesk-").then_some((modified, script))
        })
        .max()
        .map(|(_, script)| script)
        .unwrap_or_else(|| panic!("no build-script-build under {}", build.display()))
}

/// A scratch file, unique to this process and `name`.
fn scratch(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("feishu-helpdesk-build-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the build script with `args`: `Ok(())`, or `Err(stderr)` if it failed.
fn run(args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let output = Command::new(build_script()).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "the build script panicked: {stderr}"
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(stderr)
    }
}

fn edit(which: &str, name: &str, code: &str) -> (Result<(), String>, String) {
    let file = scratch(name, code);
    let result = run(&["edit".as_ref(), which.as_ref(), file.as_os_str()]);
    let after = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).ok();
    (result, after)
}

#[test]
fn the_generated_operations_build_no_api_version_header() {
    assert!(
        !GENERATED.contains("\"api-version\""),
        "progenitor's api-version header is still built"
    );
    assert!(GENERATED.contains("HeaderMap::with_capacity(0usize)"));
}

#[test]
fn operations_take_their_url_from_the_parsed_base_url() {
    // With its place in `STATIC_PATHS`, where the client keeps the joined URL.
    let compact: String = GENERATED.split_whitespace().collect();
    let at = compact
        .find(r#""/open-apis/helpdesk/v1/events/unsubscribe")"#)
        .expect("unsubscribe's URL from the client");
    let call = &compact[..at];
    assert!(
        call.ends_with("usize,") && call.contains("client.inner.url_at("),
        "{}",
        &compact[at - 60..at + 60]
    );
    assert!(GENERATED.contains(r#"pub(crate) const STATIC_PATHS"#));
    assert!(
        !GENERATED.contains("\"{}/open-apis/helpdesk/v1/events/unsubscribe\", client.baseurl"),
        "an operation without path parameters still formats the base URL"
    );
}

#[test]
fn paths_with_parameters_are_written_encoded_and_joined_to_the_parsed_base_url() {
    let both = r#"
        fn operations(&self) {
            let a = format!("{}/open-apis/static", self.baseurl,);
            let b = format!("{}/tickets/{}", self.baseurl, encode_path(&ticket_id.to_string()),);
            let c = format!("{}/open-apis/static", self.baseurl,);
        }
    "#;
    let (result, after) = edit("parsed-base-url", "both.rs", both);
    assert_eq!(result, Ok(()));
    // Both at the place of the one path in `STATIC_PATHS`.
    assert_eq!(
        after
            .matches(r#"self.inner.url_at(0usize, "/open-apis/static")"#)
            .count(),
        2,
        "{after}"
    );
    let compact: String = after.split_whitespace().collect();
    assert!(
        compact.contains(
            r#"self.inner.url_with_path(&format!("/tickets/{}",crate::generated_glue::PathParam(&ticket_id)),)"#
        ),
        "{after}"
    );
    assert!(!after.contains("encode_path"), "{after}");
    // The client joins the listed paths to its base URL once: each rewritten path, once.
    let listed = after
        .split_once("const STATIC_PATHS: &[&str] = &[")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list.split_whitespace().collect::<String>());
    assert_eq!(
        listed.as_deref().map(|list| list.trim_end_matches(',')),
        Some(r#""/open-apis/static""#),
        "{after}"
    );

    // No operation of this file has a path without parameters: the build must say so.
    let parameters_only = r#"
        fn operation(&self) {
            let url = format!("{}/tickets/{}", self.baseurl, encode_path(&ticket_id.to_string()));
        }
    "#;
    let (result, after) = edit("parsed-base-url", "parameters.rs", parameters_only);
    let err = result.unwrap_err();
    assert!(err.contains("error: progenitor's output changed"), "{err}");
    assert_eq!(after, parameters_only, "a failed edit leaves the file alone");

    // Nor one with parameters formatted as this edit expects.
    let static_only = r#"
        fn operation(&self) {
            let url = format!("{}/open-apis/static", self.baseurl);
        }
    "#;
    let (result, after) = edit("parsed-base-url", "static.rs", static_only);
    let err = result.unwrap_err();
    assert!(err.contains("error: progenitor's output changed"), "{err}");
    assert_eq!(after, static_only, "a failed edit leaves the file alone");
}

#[test]
fn progenitor_output_of_another_shape_fails_the_build() {
    // A header map without the api-version header progenitor 0.15 puts in it.
    let other_shape = r#"
        fn operation() {
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        }
    "#;
    let (result, _) = edit("without-api-version", "shape.rs", other_shape);
    let err = result.unwrap_err();
    assert!(err.contains("error: progenitor's output changed"), "{err}");

    // progenitor's shape: the header dropped and the capacity lowered.
    let progenitor_shape = r#"
        fn operation() {
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map.append(::reqwest::header::HeaderName::from_static("api-version"), ::reqwest::header::HeaderValue::from_static(Client::api_version()));
        }
    "#;
    let (result, after) = edit("without-api-version", "progenitor.rs", progenitor_shape);
    assert_eq!(result, Ok(()));
    assert!(
        !after.contains("api-version") && after.contains("with_capacity(0usize)"),
        "{after}"
    );
}

#[test]
fn broken_specs_fail_with_a_message_that_names_the_problem() {
    let cases = [
        ("openapi: [", "not a valid OpenAPI 3.0 document"),
        (
            &SPEC.replace("openapi: 3.0.3", "openapi: 3.1.0"),
            "invalid version: 3.1.0",
        ),
        (
            &SPEC.replace("      operationId: subscribe_events\n", ""),
            "missing operation ID",
        ),
        (
            // A `default` response beside `200` makes progenitor panic.
            &SPEC.replacen(
                "        '400':\n          $ref: '#/components/responses/BadRequest'\n",
                "        default:\n          $ref: '#/components/responses/BadRequest'\n",
                1,
            ),
            "progenitor cannot generate a client from it",
        ),
    ];
    for (i, (spec, expected)) in cases.into_iter().enumerate() {
        assert_ne!(spec, SPEC, "the case for {expected:?} did not change the spec");
        let spec_file = scratch(&format!("broken-{i}.yaml"), spec);
        let out =
            std::env::temp_dir().join(format!("feishu-helpdesk-build-{}-out-{i}.rs", std::process::id()));
        let message = run(&["generate".as_ref(), spec_file.as_os_str(), out.as_os_str()])
            .expect_err("a broken spec must not generate");
        std::fs::remove_file(&spec_file).ok();
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        assert!(!out.exists(), "a broken spec wrote code");
    }
}

#[test]
fn the_committed_spec_generates_what_the_build_generated() {
    let out = std::env::temp_dir().join(format!(
        "feishu-helpdesk-build-{}-committed.rs",
        std::process::id()
    ));
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/helpdesk.yaml");
    run(&["generate".as_ref(), spec.as_ref(), out.as_os_str()]).unwrap();
    let generated = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(generated, GENERATED);
}

/// Each JSON operation's attempt builds its request without awaiting and returns
/// `generated_glue::answer` over the exchange, with the documented error statuses in one
/// list; the two downloads keep progenitor's match, its error statuses in one arm. Either way
/// one decoding of an error body per operation, not one per status.
#[test]
fn attempts_await_nothing_before_sending_and_decode_errors_once() {
    let compact: String = GENERATED.split_whitespace().collect();
    let combinators = compact.matches("pub(crate)fnsend_once<'n>(").count();
    let downloads = compact.matches("pub(crate)asyncfnsend_once(").count();
    assert_eq!(
        (combinators, downloads),
        (48, 2),
        "one attempt per helpdesk operation"
    );
    assert_eq!(
        compact.matches("crate::generated_glue::answer(").count(),
        combinators
    );
    let errors = "&[400u16,401u16,403u16,429u16,500u16],";
    assert_eq!(compact.matches(errors).count(), combinators);
    assert_eq!(
        compact.matches("400u16|401u16|403u16|429u16|500u16=>").count(),
        downloads
    );
}
