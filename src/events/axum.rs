//! The receiver as an axum route (feature `axum`): the body limit applied before the body is
//! read, then [`Receiver::handle`].

use std::fmt;
use std::future::Future;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::routing::{post, MethodRouter};
use http::HeaderMap;

use super::event::HelpdeskEvent;
use super::receiver::{Receiver, MAX_EVENT_BODY_BYTES};

impl Receiver {
    /// This receiver as an axum `POST` route calling `handler` for each event, for
    /// `Router::route` or `Router::route_service`:
    ///
    /// ```no_run
    /// # fn run(receiver: feishu_helpdesk::events::Receiver) {
    /// let app: axum::Router = axum::Router::new().route(
    ///     "/feishu/events",
    ///     receiver.into_service(|event| async move {
    ///         println!("{}", event.event_type());
    ///         Ok::<(), std::convert::Infallible>(())
    ///     }),
    /// );
    /// # }
    /// ```
    ///
    /// A body over [`MAX_EVENT_BODY_BYTES`] is answered 413 without being read whole.
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn into_service<S, H, Fut, E>(self, handler: H) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        H: Fn(HelpdeskEvent) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        post(move |headers: HeaderMap, body: Bytes| async move {
            let answer = self.handle(&headers, &body, handler).await;
            let (parts, body) = answer.into_parts();
            axum::response::Response::from_parts(parts, axum::body::Body::from(body))
        })
        .layer(DefaultBodyLimit::max(MAX_EVENT_BODY_BYTES))
    }
}
