//! Every change to `openapi/helpdesk.yaml` bumps its `info.version`.
//!
//! `openapi/spec.lock` holds the version and the SHA-256 of the spec it was last recorded
//! for. After changing the spec and bumping `info.version`, record it:
//!
//! ```sh
//! UPDATE_SNAPSHOT=1 cargo test --test spec_version
//! ```

use sha2::{Digest, Sha256};

const SPEC: &str = include_str!("../openapi/helpdesk.yaml");
const LOCK: &str = "openapi/spec.lock";

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

#[test]
fn a_changed_spec_has_a_new_version() {
    let version = version_of(SPEC);
    // Line endings are normalised so that a checkout with CRLF endings hashes the same.
    let hash = format!("{:x}", Sha256::digest(SPEC.replace("\r\n", "\n").as_bytes()));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LOCK);
    let lock = std::fs::read_to_string(&path).unwrap_or_default();
    let (locked_version, locked_hash) = lock.trim().split_once(' ').unwrap_or(("0.0.0", ""));

    if hash == locked_hash {
        assert_eq!(
            version, locked_version,
            "{LOCK} records another version for this spec"
        );
        return;
    }
    assert!(
        parse(&version) > parse(locked_version),
        "openapi/helpdesk.yaml changed but info.version is {version} (recorded: {locked_version}): \
         bump it, then run `UPDATE_SNAPSHOT=1 cargo test --test spec_version`"
    );
    if std::env::var_os("UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, format!("{version} {hash}\n")).unwrap();
    } else {
        panic!("info.version is now {version}: record it with `UPDATE_SNAPSHOT=1 cargo test --test spec_version`");
    }
}
