//! Why a command failed, the exit code each kind of failure gives, and its report on stderr.

use std::process::ExitCode;

use feishu_helpdesk::Error;
use serde_json::json;

/// Why the command failed, as its exit code says.
pub(crate) enum Failure {
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

/// Writes the failure to stderr (one JSON line with `--json`) and gives its exit code.
pub(crate) fn report(failure: Failure, as_json: bool) -> ExitCode {
    let (code, err) = match failure {
        Failure::Config(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        Failure::Refused(err) => (1, err),
        Failure::Transport(err) => (3, err),
    };
    // The whole chain of causes: a transport error's reason is usually deep in it.
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if as_json {
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
