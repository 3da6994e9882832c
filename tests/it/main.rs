//! The integration tests, as one binary (one link of the dependency graph, not one per
//! file), with a module per concern. Each uses only the public API, as a user's code would.
//! The tests that read what `tracing` records are in `tests/traced`: the level filter and
//! callsite interest are process-wide, and other tests running beside them change them.

#[path = "../support/mod.rs"]
mod support;

mod accounts_kit;
mod answer_loop;
mod body;
mod build_script;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod cli_api;
#[cfg(feature = "cli")]
mod cli_long_connection;
#[cfg(feature = "cli")]
mod cli_mock;
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
mod login_stores;
#[cfg(feature = "long-connection")]
mod long_connection;
#[cfg(feature = "long-connection")]
mod long_connection_kit;
mod operations;
mod operations_kit;
mod pages;
#[cfg(feature = "axum")]
mod pushing;
mod readme;
mod receipts;
mod receiver;
mod redaction;
#[cfg(feature = "redis")]
mod redis_cache;
mod retry;
mod side_effects;
#[cfg(feature = "axum")]
mod slow_clients;
mod spec_version;
mod testing_kit;
mod token;
mod transport_security;
mod user_logins;

// The modules above that need an optional feature of the library; the README's test command
// (`--features cli`) has them all. Without it, they show as ignored rather than vanish.
#[cfg(not(feature = "axum"))]
#[test]
#[ignore = "needs feature axum: cargo test --features cli"]
fn pushing_and_the_axum_route() {}

#[cfg(not(feature = "axum"))]
#[test]
#[ignore = "needs feature axum: cargo test --features cli"]
fn serving_against_slow_and_idle_clients() {}

#[cfg(not(feature = "long-connection"))]
#[test]
#[ignore = "needs feature long-connection: cargo test --features cli"]
fn the_long_connection_and_its_stand_in() {}

#[cfg(not(feature = "redis"))]
#[test]
#[ignore = "needs feature redis: cargo test --features cli"]
fn redis_token_cache_and_dedupe_store() {}
