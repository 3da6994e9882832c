//! `feishu-helpdesk`: call any helpdesk operation, subscribe, unsubscribe and listen to
//! helpdesk events from a terminal or a deploy script (feature `cli`). This file holds the
//! command line as clap reads it, `main` and the dispatch to each command's module.
//!
//! Configuration comes from the environment; flags override the settings that are not
//! secret, and secrets are read from the environment only. Exit codes: 0 success; 1 the
//! platform refused; 2 usage or configuration error; 3 transport failure or timeout.

/// mimalloc: a program making many concurrent calls spends less on allocation with it than
/// with glibc's malloc (the README's performance section has the figures). The library leaves
/// the choice to the program; this program makes it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod check;
mod config;
mod failure;
mod listen;
mod login;
mod mock;
mod output;
mod subscription;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::failure::Failure;

/// Call every Feishu / Lark helpdesk operation and receive helpdesk events.
// `about` is left to this doc comment: a bare `about` would show the package's description,
// which speaks of the library.
#[derive(Parser)]
#[command(name = "feishu-helpdesk", version)]
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
    /// Where people log in [default: beside the base URL: accounts.feishu.cn,
    /// accounts.larksuite.com, or the base URL itself].
    #[arg(long, global = true, env = "FEISHU_ACCOUNTS_URL")]
    accounts_url: Option<String>,
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
    /// The operations that act for a person use the stored login (see `login`; --user
    /// chooses one when several are stored), or FEISHU_USER_ACCESS_TOKEN when it is set.
    Api(api::ApiArgs),
    /// Log a person in, for the operations that act for them: the device flow (open a page,
    /// enter a code), or --browser. The login is kept in the configuration directory
    /// (FEISHU_HELPDESK_CONFIG_DIR, or $XDG_CONFIG_HOME/feishu-helpdesk), or in Redis with
    /// FEISHU_REDIS_URL, and refreshed as it is used.
    Login(login::LoginArgs),
    /// Remove a stored login.
    Logout {
        /// The person's open_id [default: the only login stored].
        #[arg(long)]
        user: Option<String>,
    },
    /// Show the stored logins: the person, the scopes, when the tokens expire (never a token).
    Whoami {
        /// Only this person's login.
        #[arg(long)]
        user: Option<String>,
    },
    /// Receive events and print each as one JSON line on stdout.
    ///
    /// Over HTTP (the request URL set in the developer console; FEISHU_VERIFICATION_TOKEN
    /// and, if set there, FEISHU_ENCRYPT_KEY), or with --long-connection over a connection
    /// this command opens itself (no public URL; FEISHU_APP_ID and FEISHU_APP_SECRET).
    /// FEISHU_REDIS_URL shares the handled events between replicas. Over HTTP, connections
    /// that stall are closed (no whole request head 10 s after connecting, no whole body 10 s
    /// after it, idle 60 s after an answer), and at most 10,000 are open at once.
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
    /// Run a stand-in of the platform, for the tests of a client in any language.
    ///
    /// The testing kit's stand-in, as a process: the token endpoint and every helpdesk
    /// operation with the platform's checks, a person's login, and a control interface
    /// under /__mock/ (add tickets, write as a customer, queue faults, set answers, read
    /// the requests received; openapi/mock-control.yaml describes it). Prints where it
    /// listens and the credentials it accepts (one JSON line with --json), then serves until
    /// Ctrl-C or SIGTERM. --app-id and --helpdesk-id set its ids when given on the command
    /// line (the environment is not read: it names a real app); --base-url and --lark play
    /// no part.
    Mock(mock::MockArgs),
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            // `--help` and `--version` come here too, and are no usage error.
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
    // As servers do: the soft open-file limit up to the hard one, so that `listen` holds as
    // many connections as the system allows it (its cap stays below the limit).
    if let Err(err) = feishu_helpdesk::events::raise_file_limit() {
        tracing::debug!("the open-file limit stays as it is: {err}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(3);
        }
    };
    // What `mock` takes of the global ids: only what the command line gives.
    let given = |id: &str| {
        let given = matches.value_source(id) == Some(ValueSource::CommandLine);
        given.then(|| matches.get_one::<String>(id).cloned()).flatten()
    };
    let ids = mock::Ids {
        app_id: given("app_id"),
        helpdesk_id: given("helpdesk_id"),
    };
    match runtime.block_on(run(&cli, ids)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure::report(failure, cli.json),
    }
}

async fn run(cli: &Cli, ids: mock::Ids) -> Result<(), Failure> {
    match &cli.command {
        Command::Events => {
            subscription::list_events(cli.json);
            Ok(())
        }
        Command::Subscribe { events } => subscription::change(cli, events, true).await,
        Command::Unsubscribe { events } => subscription::change(cli, events, false).await,
        Command::Check => check::run(cli).await,
        Command::Listen {
            long_connection: true,
            ..
        } => listen::long_connection(cli).await,
        Command::Listen { addr, path, .. } => listen::http(addr, path).await,
        Command::Api(args) => api::run(cli, args).await,
        Command::Login(args) => login::login(cli, args).await,
        Command::Logout { user } => login::logout(cli, user.as_deref()).await,
        Command::Whoami { user } => login::whoami(cli, user.as_deref()).await,
        Command::Mock(args) => mock::run(args, ids, cli.json).await,
    }
}
