//! The generated client is committed as a snapshot, so that a spec change shows up in
//! review as a code diff.
//!
//! After changing `openapi/helpdesk.yaml`, review and accept the new snapshot with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --test it -- codegen`), and commit it.

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/codegen.rs"));

#[test]
fn generated_client() {
    insta::assert_snapshot!(GENERATED);
}
