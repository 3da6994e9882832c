//! One call of any operation, in its phases: an attempt (`attempt::exchange` sends it,
//! `attempt::settle` reads its answer), and after a failure the decision of
//! `retry::decide` carried out (renew the token, wait and retry, or fail); its tracing span
//! around them. The generated builders' `send` reach it through
//! [`Dispatch`](crate::generated_glue::Dispatch). A call's path is these three files.

use std::future::Future;

use progenitor_client::{ByteStream, Error as GeneratedError, ResponseValue};
use tracing::Instrument as _;

use crate::attempt::{settle, settle_download, Attempt, AttemptSlot, Failure};
use crate::client_state::{ClientState, TokenSource, UserSource};
use crate::download::Download;
use crate::error::{Attempts, Error};
use crate::generated::{self, types::ErrorResponse};
use crate::generated_glue::{Dispatch, Envelope};
use crate::operation::Operation;
use crate::receipt::Receipt;
use crate::retry::{decide, Decision, Failed, History};

impl Dispatch for generated::Client {
    type ErrorBody = ErrorResponse;
    type Notes = AttemptSlot;

    fn exchange(
        &self,
        request: reqwest::Request,
        operation: &'static Operation,
        notes: &AttemptSlot,
    ) -> impl Future<Output = Result<reqwest::Response, GeneratedError<ErrorResponse>>> + Send {
        crate::attempt::exchange(self, request, operation, notes)
    }

    fn dispatch<F, Fut, T>(
        &self,
        operation: &'static Operation,
        notes: &AttemptSlot,
        call: F,
    ) -> impl Future<Output = Result<T::Data, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<T>, GeneratedError<ErrorResponse>>> + Send,
        T: Envelope + Send,
        T::Data: Default + Send,
    {
        // The loop's own future, not one awaiting it: a layer less to build and move per call.
        run(&self.inner, operation, notes, call, settle, |_, data| {
            data.unwrap_or_default()
        })
    }

    fn dispatch_with_receipt<F, Fut, T>(
        &self,
        operation: &'static Operation,
        notes: &AttemptSlot,
        call: F,
    ) -> impl Future<Output = Result<(T::Data, Receipt), Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<T>, GeneratedError<ErrorResponse>>> + Send,
        T: Envelope + Send,
        T::Data: Default + Send,
    {
        run(&self.inner, operation, notes, call, settle, |attempt, data| {
            (data.unwrap_or_default(), attempt.receipt())
        })
    }

    fn download<F, Fut>(
        &self,
        operation: &'static Operation,
        notes: &AttemptSlot,
        call: F,
    ) -> impl Future<Output = Result<Download, Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, GeneratedError<ErrorResponse>>> + Send,
    {
        run(
            &self.inner,
            operation,
            notes,
            call,
            settle_download,
            |_, download| download,
        )
    }

    fn download_with_receipt<F, Fut>(
        &self,
        operation: &'static Operation,
        notes: &AttemptSlot,
        call: F,
    ) -> impl Future<Output = Result<(Download, Receipt), Error>> + Send
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, GeneratedError<ErrorResponse>>> + Send,
    {
        run(
            &self.inner,
            operation,
            notes,
            call,
            settle_download,
            |attempt, download| (download, attempt.receipt()),
        )
    }
}

/// Sends one call of `operation`, in one tracing span: `call` makes an attempt, noting what
/// `attempt::exchange` saw in `notes`, `settle` maps its outcome, and `finish` takes what the caller
/// wants of a success. Sent again after a rejected token (once, with a new one) and after
/// retryable failures (up to the retry limit, with backoff); an operation that changes
/// something only when the platform surely did not act on the failed attempt.
///
/// Not an `async fn`, whose future would keep each parameter twice (the argument, and the
/// local it is moved into): the block uses them where it captured them.
#[allow(clippy::manual_async_fn)]
pub(crate) fn run<'s, 'n, F, Fut, R, S, O, D, P>(
    state: &'s ClientState,
    operation: &'static Operation,
    notes: &'n AttemptSlot,
    call: F,
    settle: S,
    finish: D,
) -> impl Future<Output = Result<P, Error>> + use<'s, 'n, F, Fut, R, S, O, D, P>
where
    F: Fn() -> Fut,
    Fut: Future<Output = R>,
    S: Fn(R, Attempt) -> Result<(Attempt, O), Box<Failure>>,
    D: FnOnce(Attempt, O) -> P,
{
    async move {
        let span = tracing::info_span!(
            "feishu_helpdesk.call",
            operation = operation.id,
            attempt = tracing::field::Empty,
            http_status = tracing::field::Empty,
            code = tracing::field::Empty,
            log_id = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        // Recording into a disabled span still costs; skip it when nobody listens.
        let traced = !span.is_disabled();
        let started = traced.then(tokio::time::Instant::now);
        let mut history = History::default();
        let outcome = loop {
            history.sent += 1;
            if traced {
                span.record("attempt", history.sent);
            }
            // One future either way (an `Instrumented` beside the plain one would enlarge the
            // call's future); the span is entered on each poll only when somebody listens.
            let mut attempt = std::pin::pin!(call());
            let result = std::future::poll_fn(|cx| {
                let _entered = traced.then(|| span.enter());
                attempt.as_mut().poll(cx)
            })
            .await;
            // The match ends before the failure's await: a temporary of its head (the answer's
            // data, kilobytes for some operations) would otherwise be kept across it.
            let failure = match settle(result, notes.take()) {
                Ok(answer) => {
                    if traced {
                        if let Some(log_id) = answer.0.log_id_str() {
                            span.record("log_id", log_id);
                        }
                        if let Some(status) = answer.0.http_status {
                            span.record("http_status", status);
                        }
                        span.record("code", 0);
                    }
                    break Ok(answer);
                }
                Err(failure) => failure,
            };
            // Boxed: failures are rare, and their handling would otherwise enlarge every call's
            // future.
            match Box::pin(after_failure(state, operation, &span, failure, &mut history)).await {
                Some(err) => break Err(err),
                None => continue,
            }
        };
        if let Some(started) = started {
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        }
        match &outcome {
            Ok(_) => tracing::debug!(parent: &span, "call succeeded"),
            Err(err) => tracing::debug!(parent: &span, error = %err, "call failed"),
        }
        outcome.map(|(attempt, output)| finish(attempt, output))
    }
}

/// Carries out the decision after a failed attempt: `None` to send the call again (after
/// replacing a rejected token or waiting out the delay), or the error that ends it.
async fn after_failure(
    state: &ClientState,
    operation: &'static Operation,
    span: &tracing::Span,
    failure: Box<Failure>,
    history: &mut History,
) -> Option<Error> {
    let (used, user_token_used, reset, sent) = (
        failure.notes.token_used.clone(),
        failure.notes.user_token_used,
        failure.notes.rate_limit_reset,
        failure.sent,
    );
    let err = failure.into_error().await;
    if !span.is_disabled() {
        record_error(span, &err);
    }
    // Who renews the token the attempt carried: the app's manager, or the person's tokens.
    let renewer = state.credentials.as_ref().and_then(|c| {
        if user_token_used {
            match &c.user {
                Some(UserSource::Stored(person)) => Some(Renewer::User(person)),
                _ => None,
            }
        } else {
            match &c.tenant {
                TokenSource::App(manager) => Some(Renewer::Tenant(manager)),
                TokenSource::Fixed(_) => None,
            }
        }
    });
    let failed = Failed {
        error: &err,
        sent,
        idempotent: operation.idempotent,
        renewable_token: renewer.is_some() && used.is_some(),
        rate_limit_reset: reset,
    };
    match decide(&state.retry, failed, *history, fastrand::f64()) {
        Decision::RenewToken => {
            match (renewer, used) {
                (Some(Renewer::Tenant(manager)), Some(used)) => {
                    manager.forget(&used).instrument(span.clone()).await;
                }
                (Some(Renewer::User(person)), Some(used)) => person.forget(&used),
                _ => {}
            }
            history.token_renewed = true;
            None
        }
        Decision::Retry(delay) => {
            tracing::warn!(
                parent: span,
                attempt = history.sent,
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "retrying"
            );
            history.retries += 1;
            tokio::time::sleep(delay).await;
            None
        }
        Decision::Fail { outcome_unknown } => Some(err.after(Attempts {
            sent: history.sent,
            outcome_unknown,
        })),
    }
}

/// Who renews a rejected token.
enum Renewer<'a> {
    Tenant(&'a std::sync::Arc<crate::token_manager::TokenManager>),
    User(&'a std::sync::Arc<crate::user_tokens::PersonTokens>),
}

/// Notes what an attempt's error says about the answer on the call's span.
fn record_error(span: &tracing::Span, err: &Error) {
    if let Some(status) = err.http_status() {
        span.record("http_status", status);
    }
    if let Some(code) = err.code() {
        span.record("code", code);
    }
    if let Some(log_id) = err.log_id() {
        span.record("log_id", log_id);
    }
}
