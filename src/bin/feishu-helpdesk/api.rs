//! `api`: any helpdesk operation called by its name, its parameters given as text and its
//! body as JSON; `api --list` lists the operations.

use std::io::Write as _;
use std::path::PathBuf;

use feishu_helpdesk::TokenKind;
use futures_util::StreamExt as _;
use serde_json::json;

use crate::config::{client, required};
use crate::failure::Failure;
use crate::login::{chosen, fixed_user_token};
use crate::Cli;

/// The arguments of `api`.
#[derive(clap::Args)]
pub(crate) struct ApiArgs {
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
    output: Option<PathBuf>,
    /// The person to act for (their open_id), among the stored logins [default: the only
    /// one stored, for the operations that need a person].
    #[arg(long)]
    user: Option<String>,
}

/// `api`: one operation by name, its parameters as text, its body as JSON.
pub(crate) async fn run(cli: &Cli, args: &ApiArgs) -> Result<(), Failure> {
    if args.list {
        list_operations(cli.json);
        return Ok(());
    }
    let name = required(args.operation.clone(), "the operation")?;
    let needs_person = feishu_helpdesk::operations()
        .iter()
        .any(|op| op.id == name && op.token == TokenKind::User);
    let stored_person = fixed_user_token().is_none() && (needs_person || args.user.is_some());
    let client = client(cli, stored_person)?;
    // A token given as is wins; else the stored login, where the operation needs a person
    // (or one was named).
    let client = match fixed_user_token() {
        Some(token) => client.as_user(token)?,
        None if stored_person => {
            let open_id = chosen(&client.logins()?, args.user.as_deref()).await?;
            client.for_user(&open_id)?
        }
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
    // A download is streamed as it arrives, not held whole in memory.
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
        // The answer's envelope, one line: its code was 0.
        println!(
            "{}",
            serde_json::json!({"code": 0, "msg": answer.msg, "data": answer.data})
        );
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
        // `TokenKind` is non-exhaustive; a kind this tool does not know is left out.
        let token = match op.token {
            TokenKind::Tenant => "tenant",
            TokenKind::User => "user",
            TokenKind::TenantOrUser => "tenant or user",
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
