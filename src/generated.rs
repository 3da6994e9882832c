//! The client progenitor generates from `openapi/helpdesk.yaml` at build time (see
//! `build.rs`), reached through [`Client::api`](crate::Client::api): every operation as a
//! builder whose `send` runs through the crate's call machinery (credentials, token renewal,
//! retries, tracing, typed errors).
//!
//! The types in [`types`] derive `schemars::JsonSchema`, so bodies can be checked against
//! the schema.
#![allow(missing_docs, clippy::all, clippy::pedantic, unused)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

/// The operation with the spec's `operationId` `id`.
pub(crate) fn find_operation(id: &str) -> Option<&'static crate::operation::Operation> {
    OPERATIONS
        .binary_search_by(|op| op.id.cmp(id))
        .ok()
        .map(|at| &OPERATIONS[at])
}

/// The row of `OPERATIONS` at `at`, which must be the operation `id`: the generated builders
/// pass their operation to the call machinery so, in a `const` block, so that a row that is
/// not the operation named fails the build instead of a call looking it up by name.
pub(crate) const fn operation_at(at: usize, id: &str) -> &'static crate::operation::Operation {
    let operation = &OPERATIONS[at];
    assert!(
        same_text(operation.id, id),
        "the operation table's row is not the operation named"
    );
    operation
}

/// `a == b`, as a `const fn` can compare them.
const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut at = 0;
    while at < a.len() {
        if a[at] != b[at] {
            return false;
        }
        at += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{operation_at, OPERATIONS};

    #[test]
    fn each_row_is_the_operation_named() {
        for (at, operation) in OPERATIONS.iter().enumerate() {
            assert_eq!(operation_at(at, operation.id), operation);
        }
    }

    #[test]
    #[should_panic(expected = "not the operation named")]
    fn a_row_that_is_not_the_operation_named_is_refused() {
        operation_at(0, OPERATIONS[1].id);
    }
}
