//! The generated client is committed as a snapshot, so that a spec change shows up in
//! review as a code diff.
//!
//! Refresh it after changing `openapi/helpdesk.yaml`:
//!
//! ```sh
//! UPDATE_SNAPSHOT=1 cargo test --test codegen_snapshot
//! ```

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/codegen.rs"));
const SNAPSHOT: &str = "tests/snapshots/codegen.rs";

#[test]
fn generated_code_matches_the_committed_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, GENERATED).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {SNAPSHOT} ({e}); create it with UPDATE_SNAPSHOT=1"));
    if committed != GENERATED {
        let line = committed
            .lines()
            .zip(GENERATED.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(GENERATED.lines().count()))
            + 1;
        panic!(
            "the generated client differs from {SNAPSHOT} from line {line} on; \
             if the spec change is intended, run `UPDATE_SNAPSHOT=1 cargo test --test codegen_snapshot` \
             and commit the snapshot"
        );
    }
}
