//! Receiving events over the long connection (长连接): a WebSocket the app opens itself, so
//! that no public URL is needed (feature `long-connection`).

pub(crate) mod frame;
