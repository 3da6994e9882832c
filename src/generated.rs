//! The client progenitor generates from `openapi/helpdesk.yaml` at build time (see
//! `build.rs`), reached through [`Client::generated`](crate::Client::generated). Its request
//! hook adds the same credentials, content type and timeout as the wrapper's calls.
//!
//! The types in [`types`] derive `schemars::JsonSchema`, so bodies can be checked against
//! the schema.
#![allow(missing_docs, clippy::all, clippy::pedantic, unused)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
