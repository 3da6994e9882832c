//! `build.rs` turns a broken spec into one clear message, not a panic.

#[path = "../../build.rs"]
#[allow(dead_code)]
mod generator;

const SPEC: &str = include_str!("../../openapi/helpdesk.yaml");

#[test]
fn the_generated_operations_build_no_api_version_header() {
    let code = generator::generate(SPEC).expect("the committed spec generates");
    assert!(
        !code.contains("\"api-version\""),
        "progenitor's api-version header is still built"
    );
    assert!(code.contains("HeaderMap::with_capacity(0usize)"));
}

#[test]
fn operations_take_their_url_from_the_parsed_base_url() {
    let code = generator::generate(SPEC).expect("the committed spec generates");
    assert!(code.contains(r#"self.inner.url("/open-apis/helpdesk/v1/events/unsubscribe")"#));
    assert!(
        !code.contains("self.baseurl,"),
        "an operation still formats the base URL"
    );
}

#[test]
fn paths_with_parameters_keep_progenitor_s_formatting() {
    let mut file: syn::File = syn::parse_quote! {
        fn operation(&self) {
            let url = format!("{}/tickets/{}", self.baseurl, encode_path(&ticket_id.to_string()));
        }
    };
    let before = quote::quote!(#file).to_string();
    // No operation of this file has a path without parameters: the build must say so.
    let err = generator::with_parsed_base_url(&mut file).unwrap_err();
    assert!(err.starts_with("progenitor's output changed"), "{err}");
    assert_eq!(quote::quote!(#file).to_string(), before);
}

#[test]
fn progenitor_output_of_another_shape_fails_the_build() {
    // A header map without the api-version header progenitor 0.15 puts in it.
    let mut file: syn::File = syn::parse_quote! {
        fn operation() {
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        }
    };
    let err = generator::without_api_version(&mut file).unwrap_err();
    assert!(err.starts_with("progenitor's output changed"), "{err}");
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
    for (spec, expected) in cases {
        assert_ne!(spec, SPEC, "the case for {expected:?} did not change the spec");
        let message = generator::generate(spec).expect_err("a broken spec must not generate");
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
    }
}
