//! Why a command failed, the exit code each kind of failure gives, and its report on stderr.

use std::process::ExitCode;

use feishu_helpdesk::events::LongConnectionError;
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
    /// 3: the long connection ended for another reason than a refusal (which is `Config`).
    Connection(LongConnectionError),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        match &err {
            Error::InvalidInput { .. } => Failure::Config(err.to_string()),
            Error::UserTokenRequired { .. } => Failure::Config(format!(
                "{err}: run `feishu-helpdesk login` (or set FEISHU_USER_ACCESS_TOKEN)"
            )),
            Error::LoginRequired { .. } => Failure::Config(format!("{err}: run `feishu-helpdesk login`")),
            Error::Store { .. } => Failure::Config(err.to_string()),
            Error::Timeout { .. } | Error::Transport { .. } => Failure::Transport(err),
            _ => Failure::Refused(err),
        }
    }
}

/// What the report says of an error: the whole chain of causes, and the platform's details.
struct Details {
    message: String,
    http_status: Option<u16>,
    code: Option<i64>,
    log_id: Option<String>,
}

impl Details {
    fn of_call(err: &Error) -> Details {
        Details {
            message: chain(err),
            // A refusal the library reports for the platform (a person who declined, a
            // device login that expired) had no answer: its status and code are 0, not shown.
            http_status: err.http_status().filter(|&status| status != 0),
            code: err.code().filter(|&code| code != 0),
            log_id: err.log_id().map(str::to_owned),
        }
    }

    fn of_connection(err: &LongConnectionError) -> Details {
        let log_id = match err {
            LongConnectionError::Call { error, .. } => error.log_id().map(str::to_owned),
            _ => None,
        };
        Details {
            message: chain(err),
            http_status: err.http_status(),
            code: err.code(),
            log_id,
        }
    }
}

/// The error and the whole chain of its causes: a transport error's reason is usually deep
/// in it.
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// Writes the failure to stderr (one JSON line with `--json`) and gives its exit code.
pub(crate) fn report(failure: Failure, as_json: bool) -> ExitCode {
    let (code, details) = match failure {
        Failure::Config(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        Failure::Refused(err) => (1, Details::of_call(&err)),
        Failure::Transport(err) => (3, Details::of_call(&err)),
        Failure::Connection(err) => (3, Details::of_connection(&err)),
    };
    if as_json {
        eprintln!(
            "{}",
            json!({"error": details.message, "http_status": details.http_status, "code": details.code, "log_id": details.log_id})
        );
    } else {
        eprintln!("error: {}", details.message);
        if let Some(status) = details.http_status {
            eprintln!("  HTTP status: {status}");
        }
        if let Some(code) = details.code {
            eprintln!("  code: {code}");
        }
        if let Some(log_id) = &details.log_id {
            eprintln!("  log id: {log_id}");
        }
    }
    ExitCode::from(code)
}
