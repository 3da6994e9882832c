//! One accepted connection, served by hyper's HTTP/1 server to the end: the deadline of what
//! it is doing (its head, its body, its idle wait for the next request), its place in the
//! registry kept up to date, closed when shed, and drained when the server stops.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::registry::{Place, Registry, Slot};
use super::timed_body::{BodyTimeout, TimedBody};

/// How long past the body's deadline the connection is closed if the application neither
/// read the body nor answered: the time to write the 408 of a body that timed out.
const BODY_GRACE: Duration = Duration::from_secs(1);

/// The timeouts every connection is held to.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub(super) header: Duration,
    pub(super) body: Duration,
    pub(super) idle: Duration,
}

/// What every connection of a server shares.
pub(super) struct Shared {
    pub(super) app: axum::Router,
    pub(super) registry: Registry,
    pub(super) timeouts: Timeouts,
    pub(super) http: http1::Builder,
}

/// When a connection's request head arrived and its last answer left, for its deadlines.
#[derive(Default)]
struct Marks {
    head: Option<Instant>,
    answered: Option<Instant>,
}

/// What the connection's task and its service share.
struct Timeline {
    marks: Mutex<Marks>,
    /// Told on each change of place, for the task to take the new deadline.
    changed: Notify,
}

impl Timeline {
    fn mark(&self, set: impl FnOnce(&mut Marks)) {
        set(&mut self.marks.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_one();
    }
}

/// The application as hyper calls it for each request of the connection: the place in the
/// registry follows the request, and the body has its deadline.
#[derive(Clone)]
struct Tracked {
    shared: Arc<Shared>,
    slot: Arc<Slot>,
    timeline: Arc<Timeline>,
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let shared = self.shared.clone();
        let slot = self.slot.clone();
        let timeline = self.timeline.clone();
        shared.registry.head_received(&slot);
        timeline.mark(|marks| marks.head = Some(Instant::now()));

        let timed_out = Arc::new(AtomicBool::new(false));
        let on_end = {
            let (shared, slot) = (shared.clone(), slot.clone());
            Box::new(move || shared.registry.body_received(&slot))
        };
        let timeout = shared.timeouts.body;
        let request = request
            .map(|body| axum::body::Body::new(TimedBody::new(body, timeout, timed_out.clone(), on_end)));
        let answer = hyper::service::Service::call(&TowerToHyperService::new(shared.app.clone()), request);
        Box::pin(async move {
            let response = match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            shared.registry.answered(&slot);
            timeline.mark(|marks| marks.answered = Some(Instant::now()));
            if timed_out.load(Ordering::Relaxed) {
                tracing::debug!("{}: answered 408", BodyTimeout(timeout));
                return Ok(request_timeout());
            }
            Ok(response)
        })
    }
}

/// 408, and the connection closed after it.
fn request_timeout() -> Response<axum::body::Body> {
    let mut response = Response::new(axum::body::Body::from(
        "the request body did not arrive in time\n",
    ));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
        .headers_mut()
        .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

/// Takes the connection out of the count when its task ends, however it ends.
struct Counted<'a> {
    registry: &'a Registry,
    slot: &'a Arc<Slot>,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.registry.close(self.slot);
        self.slot.was_closed();
    }
}

/// Serves `stream` until the client or a deadline ends it, the registry sheds it, or the
/// server stops (`stopping` turns true, or its sender is gone).
pub(super) async fn run(
    stream: TcpStream,
    slot: Arc<Slot>,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    let accepted = Instant::now();
    let _counted = Counted {
        registry: &shared.registry,
        slot: &slot,
    };
    let timeline = Arc::new(Timeline {
        marks: Mutex::new(Marks::default()),
        changed: Notify::new(),
    });
    let service = Tracked {
        shared: shared.clone(),
        slot: slot.clone(),
        timeline: timeline.clone(),
    };
    let mut connection = pin!(shared.http.serve_connection(TokioIo::new(stream), service));
    let mut draining = *stopping.borrow();
    if draining {
        return;
    }
    let timeouts = shared.timeouts;
    loop {
        let place = shared.registry.place(&slot);
        let deadline = {
            let marks = timeline.marks.lock().unwrap_or_else(PoisonError::into_inner);
            match place {
                Place::Shed => return,
                Place::Waiting(_) => Some(match marks.answered {
                    Some(answered) => answered + timeouts.idle,
                    None => accepted + timeouts.header,
                }),
                Place::Reading(_) => marks.head.map(|head| head + timeouts.body + BODY_GRACE),
                Place::Handling => None,
            }
        };
        if deadline.is_some_and(|deadline| deadline <= Instant::now()) {
            // Past its deadline: dropping the connection closes it.
            return;
        }
        let expired = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            () = slot.shed() => return,
            () = timeline.changed.notified() => {}
            () = expired => {}
            _ = stopping.changed(), if !draining => {
                draining = true;
                if matches!(place, Place::Waiting(_)) {
                    return;
                }
                // Answers the request under way, then closes.
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
