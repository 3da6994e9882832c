//! `feishu-helpdesk`: call any helpdesk operation, subscribe, unsubscribe and listen to
//! helpdesk events from a terminal or a deploy script (feature `cli`).
//!
//! Configuration comes from the environment; flags override the settings that are not
//! secret, and secrets are read from the environment only. Exit codes: 0 success; 1 the
//! platform refused; 2 usage or configuration error; 3 transport failure or timeout.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use feishu_helpdesk::events::{DedupeStore, HelpdeskEvent, LongConnection, Receiver, RedisDedupeStore};
use feishu_helpdesk::{Client, Error, Event, LARK_BASE_URL};
use serde_json::json;

/// Subscribe to, unsubscribe from and receive Feishu / Lark helpdesk events.
#[derive(Parser)]
#[command(name = "feishu-helpdesk", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Log what the library does (tracing) to stderr.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// The platform's base URL [default: Feishu].
    #[arg(long, global = true, env = "FEISHU_BASE_URL")]
    base_url: Option<String>,
    /// Use Lark (open.larksuite.com) instead of Feishu.
    #[arg(long, global = true)]
    lark: bool,
    /// The app id (the app secret comes from FEISHU_APP_SECRET).
    #[arg(long, global = true, env = "FEISHU_APP_ID")]
    app_id: Option<String>,
    /// The helpdesk id (the helpdesk token comes from FEISHU_HELPDESK_TOKEN).
    #[arg(long, global = true, env = "FEISHU_HELPDESK_ID")]
    helpdesk_id: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Subscribe to events (default: the three ticket events).
    Subscribe {
        /// `helpdesk.ticket/ticket.created_v1`, `helpdesk.ticket.created_v1` or `ticket.created_v1`.
        events: Vec<String>,
    },
    /// Unsubscribe from events (default: the three ticket events).
    Unsubscribe {
        /// As for `subscribe`.
        events: Vec<String>,
    },
    /// List the known events.
    Events,
    /// Obtain a token with the app credentials, and nothing else.
    Check,
    /// Call any helpdesk operation by its name and print the answer's data as JSON.
    ///
    /// A user access token, for the operations that act for a person, comes from
    /// FEISHU_USER_ACCESS_TOKEN.
    Api(ApiArgs),
    /// Receive events and print each as one JSON line on stdout.
    ///
    /// Over HTTP (the request URL set in the developer console; FEISHU_VERIFICATION_TOKEN
    /// and, if set there, FEISHU_ENCRYPT_KEY), or with --long-connection over a connection
    /// this command opens itself (no public URL; FEISHU_APP_ID and FEISHU_APP_SECRET).
    /// FEISHU_REDIS_URL shares the handled events between replicas.
    Listen {
        /// Where to listen.
        #[arg(
            long,
            default_value = "127.0.0.1:3000",
            env = "FEISHU_RECEIVER_ADDR",
            conflicts_with = "long_connection"
        )]
        addr: String,
        /// The path of the request URL.
        #[arg(long, default_value = "/", conflicts_with = "long_connection")]
        path: String,
        /// Receive over the long connection instead of HTTP. Exits 2 when the platform
        /// refuses the app, 3 when the connection cannot be restored.
        #[arg(long)]
        long_connection: bool,
    },
}

/// The arguments of `api`.
#[derive(clap::Args)]
struct ApiArgs {
    /// The operation, such as `get_ticket` (see `--list`).
    #[arg(required_unless_present = "list")]
    operation: Option<String>,
    /// List the operations with their method, path and token.
    #[arg(long)]
    list: bool,
    /// A path parameter, `name=value` (repeatable).
    #[arg(long = "path", value_name = "NAME=VALUE")]
    path: Vec<String>,
    /// A query parameter, `name=value` (repeatable; repeat a name for an array).
    #[arg(long = "query", value_name = "NAME=VALUE")]
    query: Vec<String>,
    /// The JSON body: the text itself, `@file`, or `-` for standard input.
    #[arg(long)]
    body: Option<String>,
    /// Every item of a paged operation, one JSON line each, page by page.
    #[arg(long)]
    all_pages: bool,
    /// Where a download's bytes go [default: standard output].
    #[arg(long)]
    output: Option<std::path::PathBuf>,
}

/// The known events: subscribe type and subtype, and what each is.
const KNOWN: [(&str, &str, &str); 4] = [
    ("helpdesk.ticket", "ticket.created_v1", "a ticket was created"),
    ("helpdesk.ticket", "ticket.updated_v1", "a ticket was updated"),
    (
        "helpdesk.ticket_message",
        "ticket_message.created_v1",
        "a ticket message was created",
    ),
    (
        "helpdesk.notification",
        "notification.approve_v1",
        "a push notification's approval changed",
    ),
];

/// Why the command failed, as its exit code says.
enum Failure {
    /// 1: the platform refused.
    Refused(Error),
    /// 2: usage or configuration.
    Config(String),
    /// 3: transport failure or timeout.
    Transport(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        match &err {
            Error::InvalidInput { .. } => Failure::Config(err.to_string()),
            Error::UserTokenRequired { .. } => {
                Failure::Config(format!("{err}: set FEISHU_USER_ACCESS_TOKEN"))
            }
            Error::Timeout { .. } | Error::Transport { .. } => Failure::Transport(err),
            _ => Failure::Refused(err),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    } else if matches!(cli.command, Command::Listen { .. }) {
        // Refusals, duplicates and handler failures of `listen` go to stderr.
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&cli, failure),
    }
}

fn report(cli: &Cli, failure: Failure) -> ExitCode {
    let (code, err) = match failure {
        Failure::Config(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        Failure::Refused(err) => (1, err),
        Failure::Transport(err) => (3, err),
    };
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if cli.json {
        eprintln!(
            "{}",
            json!({"error": message, "http_status": err.http_status(), "code": err.code(), "log_id": err.log_id()})
        );
    } else {
        eprintln!("error: {message}");
        if let Some(status) = err.http_status() {
            eprintln!("  HTTP status: {status}");
        }
        if let Some(code) = err.code() {
            eprintln!("  code: {code}");
        }
        if let Some(log_id) = err.log_id() {
            eprintln!("  log id: {log_id}");
        }
    }
    ExitCode::from(code)
}

async fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Events => {
            list_events(cli.json);
            Ok(())
        }
        Command::Subscribe { events } => change(cli, events, true).await,
        Command::Unsubscribe { events } => change(cli, events, false).await,
        Command::Check => check(cli).await,
        Command::Listen {
            long_connection: true,
            ..
        } => listen_long_connection(cli).await,
        Command::Listen { addr, path, .. } => listen(addr, path).await,
        Command::Api(args) => api(cli, args).await,
    }
}

/// `api`: one operation by name, its parameters as text, its body as JSON.
async fn api(cli: &Cli, args: &ApiArgs) -> Result<(), Failure> {
    use futures_util::StreamExt as _;
    use std::io::Write as _;

    if args.list {
        list_operations(cli.json);
        return Ok(());
    }
    let name = required(args.operation.clone(), "the operation")?;
    let client = client(cli)?;
    let client = match env("FEISHU_USER_ACCESS_TOKEN") {
        Some(token) => client.as_user(token)?,
        None => client,
    };
    let mut call = client.raw(&name)?;
    for pair in &args.path {
        let (name, value) = name_value(pair, "--path")?;
        call = call.path(name, value);
    }
    for pair in &args.query {
        let (name, value) = name_value(pair, "--query")?;
        call = call.query(name, value);
    }
    if let Some(body) = &args.body {
        let text = match body.as_str() {
            "-" => std::io::read_to_string(std::io::stdin())
                .map_err(|e| Failure::Config(format!("cannot read the body from standard input: {e}")))?,
            at if at.starts_with('@') => std::fs::read_to_string(&at[1..])
                .map_err(|e| Failure::Config(format!("cannot read the body from {}: {e}", &at[1..])))?,
            text => text.to_owned(),
        };
        let json =
            serde_json::from_str(&text).map_err(|e| Failure::Config(format!("the body is not JSON: {e}")))?;
        call = call.body(json);
    }
    let write_failed = |e: std::io::Error| Failure::Config(format!("cannot write the answer: {e}"));
    if call.operation().binary {
        let download = call.download().await?;
        let mut stream = download.into_stream();
        let mut out: Box<dyn std::io::Write> = match &args.output {
            Some(path) => Box::new(std::fs::File::create(path).map_err(write_failed)?),
            None => Box::new(std::io::stdout().lock()),
        };
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk?).map_err(write_failed)?;
        }
        return out.flush().map_err(write_failed);
    }
    if args.all_pages {
        let mut items = call.pages()?;
        let mut out = std::io::stdout().lock();
        while let Some(item) = items.next().await {
            writeln!(out, "{}", item?).map_err(write_failed)?;
        }
        return Ok(());
    }
    let answer = call.send().await?;
    if cli.json {
        println!("{}", answer.envelope);
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&answer.data).unwrap_or_default()
        );
    }
    Ok(())
}

/// `name=value`, as `--path` and `--query` take it.
fn name_value<'a>(pair: &'a str, flag: &str) -> Result<(&'a str, &'a str), Failure> {
    pair.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| Failure::Config(format!("{flag} {pair:?} is not name=value")))
}

/// `api --list`: each operation with its method, path and token.
fn list_operations(as_json: bool) {
    for op in feishu_helpdesk::operations() {
        let token = match op.token {
            feishu_helpdesk::TokenKind::Tenant => "tenant",
            feishu_helpdesk::TokenKind::User => "user",
            feishu_helpdesk::TokenKind::TenantOrUser => "tenant or user",
            _ => continue,
        };
        if as_json {
            println!(
                "{}",
                json!({"operation": op.id, "method": op.method, "path": op.path, "token": token, "resource": op.tag, "summary": op.summary})
            );
        } else {
            println!("{:<32} {:<6} {:<70} {token}", op.id, op.method, op.path);
        }
    }
}

fn list_events(as_json: bool) {
    for (event_type, subtype, what) in KNOWN {
        let pushed = pushed_name(event_type, subtype);
        if as_json {
            println!(
                "{}",
                json!({"type": event_type, "subtype": subtype, "event_type": pushed, "description": what})
            );
        } else {
            println!("{event_type}/{subtype}  ({pushed}): {what}");
        }
    }
}

/// `helpdesk.ticket` + `ticket.created_v1` is pushed as `helpdesk.ticket.created_v1`.
fn pushed_name(event_type: &str, subtype: &str) -> String {
    let product = event_type.split('.').next().unwrap_or_default();
    format!("{product}.{subtype}")
}

/// An event as named on the command line: `type/subtype`, the pushed name, or the short one.
fn parse_event(name: &str) -> Result<Event, Failure> {
    if let Some((event_type, subtype)) = name.split_once('/') {
        if event_type.is_empty() || subtype.is_empty() {
            return Err(Failure::Config(format!(
                "event {name:?}: type and subtype must not be empty"
            )));
        }
        return Ok(Event::new(event_type.to_owned(), subtype.to_owned()));
    }
    let full = if name.starts_with("helpdesk.") {
        name.to_owned()
    } else {
        format!("helpdesk.{name}")
    };
    // `helpdesk.<object>.<action>`: the type is the product and the object.
    let mut parts = full.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(product), Some(object), Some(action)) if !object.is_empty() && !action.is_empty() => {
            Ok(Event::new(format!("{product}.{object}"), format!("{object}.{action}")))
        }
        _ => Err(Failure::Config(format!(
            "event {name:?} is not `type/subtype`, `helpdesk.<object>.<action>` or `<object>.<action>`; see `feishu-helpdesk events`"
        ))),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn required(value: Option<String>, what: &str) -> Result<String, Failure> {
    value.ok_or_else(|| Failure::Config(format!("{what} is not set")))
}

fn base_url(cli: &Cli) -> String {
    match (&cli.base_url, cli.lark) {
        (Some(url), _) => url.clone(),
        (None, true) => LARK_BASE_URL.to_owned(),
        (None, false) => feishu_helpdesk::FEISHU_BASE_URL.to_owned(),
    }
}

fn client(cli: &Cli) -> Result<Client, Failure> {
    let mut builder = Client::builder().base_url(base_url(cli));
    builder = match (env("FEISHU_TENANT_ACCESS_TOKEN"), &cli.app_id) {
        (Some(token), None) => builder.tenant_access_token(token),
        (_, Some(app_id)) => {
            builder.app_credentials(app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?)
        }
        (None, None) => {
            return Err(Failure::Config(
                "FEISHU_APP_ID (with FEISHU_APP_SECRET) or FEISHU_TENANT_ACCESS_TOKEN is not set".into(),
            ))
        }
    };
    let helpdesk_id = required(cli.helpdesk_id.clone(), "FEISHU_HELPDESK_ID (or --helpdesk-id)")?;
    let helpdesk_token = required(env("FEISHU_HELPDESK_TOKEN"), "FEISHU_HELPDESK_TOKEN")?;
    Ok(builder
        .helpdesk_credentials(helpdesk_id, helpdesk_token)
        .build()?)
}

async fn change(cli: &Cli, names: &[String], subscribe: bool) -> Result<(), Failure> {
    let events: Vec<Event> = if names.is_empty() {
        vec![
            Event::TICKET_CREATED,
            Event::TICKET_UPDATED,
            Event::TICKET_MESSAGE_CREATED,
        ]
    } else {
        names
            .iter()
            .map(|name| parse_event(name))
            .collect::<Result<_, _>>()?
    };
    let client = client(cli)?;
    let receipt = if subscribe {
        client.subscribe(&events).await?
    } else {
        client.unsubscribe(&events).await?
    };
    let done = if subscribe { "subscribed" } else { "unsubscribed" };
    if cli.json {
        let events: Vec<_> = events
            .iter()
            .map(|e| json!({"type": e.event_type(), "subtype": e.subtype()}))
            .collect();
        println!(
            "{}",
            json!({"result": done, "events": events, "http_status": receipt.http_status, "log_id": receipt.log_id})
        );
    } else {
        for event in &events {
            println!("{done} {event}");
        }
        println!("log id: {}", receipt.log_id.as_deref().unwrap_or("(none)"));
    }
    Ok(())
}

async fn check(cli: &Cli) -> Result<(), Failure> {
    let app_id = required(cli.app_id.clone(), "FEISHU_APP_ID (or --app-id)")?;
    let client = Client::builder()
        .base_url(base_url(cli))
        .app_credentials(&app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?)
        // The check calls no helpdesk operation; these only satisfy the builder.
        .helpdesk_credentials("0", "unused")
        .build()?;
    let lifetime = client.token_lifetime().await?.unwrap_or_default();
    if cli.json {
        println!(
            "{}",
            json!({"app_id": app_id, "token_seconds_left": lifetime.as_secs(), "base_url": client.base_url()})
        );
    } else {
        println!(
            "app {app_id}: token obtained, {} s left, from {}",
            lifetime.as_secs(),
            client.base_url()
        );
    }
    Ok(())
}

async fn listen(addr: &str, path: &str) -> Result<(), Failure> {
    let mut builder = Receiver::builder().verification_token(required(
        env("FEISHU_VERIFICATION_TOKEN"),
        "FEISHU_VERIFICATION_TOKEN",
    )?);
    if let Some(key) = env("FEISHU_ENCRYPT_KEY") {
        builder = builder.encrypt_key(key);
    }
    if let Some(store) = redis_dedupe()? {
        builder = builder.dedupe_store(store);
    }
    let receiver = builder.build()?;
    let app = axum::Router::new().route(
        path,
        receiver.into_service(|event: HelpdeskEvent| async move { print_event(&event) }),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::Config(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Config(e.to_string()))?;
    note(&format!("listening on http://{local}{path}"));
    axum::serve(listener, app)
        .with_graceful_shutdown(stopped())
        .await
        .map_err(|e| Failure::Config(format!("the server stopped: {e}")))?;
    note("stopped");
    Ok(())
}

/// `listen --long-connection`: events over the connection this command opens.
async fn listen_long_connection(cli: &Cli) -> Result<(), Failure> {
    let app_id = required(cli.app_id.clone(), "FEISHU_APP_ID")?;
    let mut builder = LongConnection::builder()
        .base_url(base_url(cli))
        .app_credentials(&app_id, required(env("FEISHU_APP_SECRET"), "FEISHU_APP_SECRET")?);
    if let Some(store) = redis_dedupe()? {
        builder = builder.dedupe_store(store);
    }
    let connection = builder.build()?;
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
        Err(err @ Error::ConnectionRefused { .. }) => Err(Failure::Config(err.to_string())),
        Err(err) => Err(Failure::Transport(err)),
    }
}

/// The shared dedupe store of FEISHU_REDIS_URL, if set.
fn redis_dedupe() -> Result<Option<std::sync::Arc<dyn DedupeStore>>, Failure> {
    match env("FEISHU_REDIS_URL") {
        Some(url) => Ok(Some(std::sync::Arc::new(RedisDedupeStore::new(&url)?))),
        None => Ok(None),
    }
}

/// Prints an event as one JSON line on stdout.
fn print_event(event: &HelpdeskEvent) -> Result<(), String> {
    let header = event.header();
    let payload = match event {
        HelpdeskEvent::TicketCreated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::TicketUpdated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::TicketMessageCreated { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::NotificationApprove { event, .. } => serde_json::to_value(event),
        HelpdeskEvent::Other { event, .. } => Ok(event.clone()),
        _ => Ok(serde_json::Value::Null),
    }
    .map_err(|e| e.to_string())?;
    let line = json!({
        "event_id": header.event_id,
        "event_type": header.event_type,
        "create_time": header.create_time,
        "tenant_key": header.tenant_key,
        "event": payload,
    });
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())
}

/// A line on stderr; a closed stderr is no reason to fail.
fn note(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stopped() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
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
