//! `listen`: events received over HTTP or over the long connection, each printed as it
//! comes, until Ctrl-C or SIGTERM. Over HTTP, served by `events::serve`: timeouts and a
//! connection cap, against slow and idle clients.

use std::sync::Arc;

use feishu_helpdesk::events::{
    DeliveryOptions, HelpdeskEvent, LongConnection, LongConnectionError, Receiver, RedisDedupeStore,
};

use crate::config::{base_url, env, required};
use crate::failure::Failure;
use crate::output::{note, print_event};
use crate::Cli;

/// `listen`: the platform's pushes to the request URL, served on `addr` at `path`.
pub(crate) async fn http(addr: &str, path: &str) -> Result<(), Failure> {
    let mut builder = Receiver::builder()
        .verification_token(required(
            env("FEISHU_VERIFICATION_TOKEN"),
            "FEISHU_VERIFICATION_TOKEN",
        )?)
        .delivery(delivery()?);
    if let Some(key) = env("FEISHU_ENCRYPT_KEY") {
        builder = builder.encrypt_key(key);
    }
    let receiver = builder.build()?;
    let app = axum::Router::new().route(
        path,
        receiver.into_service(|event: HelpdeskEvent| async move { print_event(&event) }),
    );
    // A long accept queue: a burst of connections does not drop the platform's.
    let listener = feishu_helpdesk::events::bind(addr)
        .await
        .map_err(|e| Failure::Config(format!("cannot listen on {addr}: {e}")))?;
    // The address bound, not the one asked: port 0 asks for any free port.
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Config(e.to_string()))?;
    note(&format!("listening on http://{local}{path}"));
    // The timeouts and connection cap a public URL needs against slow and idle clients.
    feishu_helpdesk::events::serve(listener, app)
        .with_graceful_shutdown(stopped())
        .await
        .map_err(|e| Failure::Config(format!("the server stopped: {e}")))?;
    note("stopped");
    Ok(())
}

/// `listen --long-connection`: events over the connection this command opens.
pub(crate) async fn long_connection(cli: &Cli) -> Result<(), Failure> {
    let app_id = required(cli.app_id.clone(), "FEISHU_APP_ID")?;
    let connection = LongConnection::builder()
        .base_url(base_url(cli))
        .app_credentials(&app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?)
        .delivery(delivery()?)
        .build()?;
    let shutdown = connection.shutdown_handle();
    tokio::spawn(async move {
        stopped().await;
        shutdown.shutdown();
    });
    note(&format!(
        "receiving events for app {app_id} over the long connection"
    ));
    match connection
        .run(|event: HelpdeskEvent| async move { print_event(&event) })
        .await
    {
        Ok(()) => {
            note("stopped");
            Ok(())
        }
        // A refused app is a configuration to fix (2), not a network to wait for (3).
        Err(err @ LongConnectionError::Refused { .. }) => Err(Failure::Config(err.to_string())),
        Err(err) => Err(Failure::Connection(err)),
    }
}

/// The delivery options: the shared dedupe store of FEISHU_REDIS_URL, if set.
fn delivery() -> Result<DeliveryOptions, Failure> {
    let options = DeliveryOptions::default();
    match env("FEISHU_REDIS_URL") {
        Some(url) => Ok(options.dedupe_store(Arc::new(RedisDedupeStore::new(&url)?))),
        None => Ok(options),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn stopped() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Where SIGTERM cannot be watched, Ctrl-C alone stops the command.
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
