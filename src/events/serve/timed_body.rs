//! A request body that must arrive whole within a deadline: past it, reading the body fails
//! and the request is answered 408.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error of a body that did not arrive whole in time.
#[derive(Debug)]
pub(super) struct BodyTimeout(pub(super) Duration);

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the request body did not arrive whole within {:?}", self.0)
    }
}

impl StdError for BodyTimeout {}

/// `hyper`'s body of a request, with the deadline for the whole of it.
pub(super) struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Set when the deadline passed before the end.
    timed_out: Arc<AtomicBool>,
    /// Called once, when the body has arrived whole.
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl TimedBody {
    /// `inner`, which must arrive whole `timeout` from now; `on_end` is called when it has.
    pub(super) fn new(
        inner: Incoming,
        timeout: Duration,
        timed_out: Arc<AtomicBool>,
        on_end: Box<dyn FnOnce() + Send>,
    ) -> Self {
        let mut body = Self {
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
            inner,
            timeout,
            timed_out,
            on_end: Some(on_end),
        };
        if body.inner.is_end_stream() {
            body.ended();
        }
        body
    }

    fn ended(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            on_end();
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.timed_out.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout)))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.ended();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.ended();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(Box::new(err)))),
            Poll::Pending => {
                if this.on_end.is_some() && this.deadline.as_mut().poll(cx).is_ready() {
                    this.timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
