//! Every change to `openapi/helpdesk.yaml` bumps its `info.version`.
//!
//! The snapshot `snapshots/it__spec_version__spec_version.snap` records the version and the
//! SHA-256 of the spec it was last accepted for. After changing the spec and bumping
//! `info.version`, accept the new record with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test it -- spec_version`).

use sha2::{Digest, Sha256};

const SPEC: &str = include_str!("../../openapi/helpdesk.yaml");
const RECORD: &str = include_str!("snapshots/it__spec_version__spec_version.snap");

fn version_of(spec: &str) -> String {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(spec).expect("the spec is YAML");
    doc["info"]["version"]
        .as_str()
        .expect("info.version is a string")
        .to_owned()
}

fn parse(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.parse().expect("info.version is numeric x.y.z"))
        .collect()
}

/// The version and hash in the committed record (the line after insta's header).
fn recorded() -> (String, String) {
    let line = RECORD
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let (version, hash) = line.trim().split_once(' ').unwrap_or(("0.0.0", ""));
    (version.to_owned(), hash.to_owned())
}

#[test]
fn spec_version() {
    let version = version_of(SPEC);
    // Line endings are normalised so that a checkout with CRLF endings hashes the same.
    let hash = format!("{:x}", Sha256::digest(SPEC.replace("\r\n", "\n").as_bytes()));
    let (recorded_version, recorded_hash) = recorded();
    if hash != recorded_hash {
        assert!(
            parse(&version) > parse(&recorded_version),
            "openapi/helpdesk.yaml changed but info.version is {version} (recorded: {recorded_version}): bump it"
        );
    }
    insta::assert_snapshot!(format!("{version} {hash}"));
}
