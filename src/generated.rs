//! The client progenitor generates from `openapi/helpdesk.yaml` at build time (see
//! `build.rs`), reached through [`Client::generated`](crate::Client::generated). Its request
//! hook adds the same credentials, content type and timeout as the wrapper's calls.
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

/// Every operation of `openapi/helpdesk.yaml`, sorted by id: method, path, resource, the
/// token it takes, whether it is safe to send again, whether it answers bytes, how it pages.
pub fn operations() -> &'static [crate::operation::Operation] {
    OPERATIONS
}
