//! The integration tests, as one binary (one link of the dependency graph, not one per
//! file), with a module per concern. Each uses only the public API, as a user's code would.
//! The tests that read what `tracing` records are in `tests/traced`: the level filter and
//! callsite interest are process-wide, and other tests running beside them change them.

#[path = "../support/mod.rs"]
mod support;

mod body;
mod build_script;
#[cfg(feature = "cli")]
mod cli;
mod codegen;
mod downloads;
mod errors;
mod event_types;
mod fault_retries;
mod headers;
mod hostile;
mod input;
mod layers;
mod load;
mod operations;
mod pages;
mod pushing;
mod readme;
mod receiver;
mod redaction;
mod redis_cache;
mod retry;
mod side_effects;
mod spec_version;
mod testing_kit;
mod token;
mod transport_security;
