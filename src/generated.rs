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
