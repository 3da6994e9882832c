//! The tests that read what `tracing` records, in a binary of their own: the level filter
//! and callsite interest are process-wide, so tests with no subscriber running beside them
//! could make a span vanish from a capture.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod logins;
#[cfg(feature = "long-connection")]
mod long_connection;
mod spans;
