//! The platform's acknowledgement of a successful call.

/// The platform's acknowledgement of a successful call: what to quote to its support
/// about a call that went through. Every operation's builder gives it beside the data with
/// `send_with_receipt`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The platform's log id for the request (`X-Tt-Logid`), if the answer had one.
    pub log_id: Option<String>,
}
