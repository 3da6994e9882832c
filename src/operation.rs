//! The operation table's types: what each operation of the spec takes and how it pages
//! ([`Operation`], [`TokenKind`], [`Paging`], listed by `build.rs` as `OPERATIONS`), and what
//! the testing kit needs of each (`OperationDetail`, listed as `OPERATION_DETAILS`).

/// The access token an operation takes in `Authorization`, beside the helpdesk header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// The app's tenant access token (`t-...`).
    Tenant,
    /// A person's user access token (`u-...`): the operation acts for that person. Call it
    /// through [`Client::as_user`](crate::Client::as_user).
    User,
    /// Either: the user's token on a [`Client::as_user`](crate::Client::as_user) view, the
    /// tenant token otherwise.
    TenantOrUser,
}

/// How a paged operation pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Paging {
    /// A `page_token` query; `data` says `has_more` and gives the next token in
    /// `next_token`.
    Token {
        /// The field of `data` holding the page's items.
        items: &'static str,
        /// The field of `data` holding the next page's token.
        next_token: &'static str,
    },
    /// `page` (from 1) and `page_size` queries; `data` gives `total`.
    Number {
        /// The field of `data` holding the page's items.
        items: &'static str,
    },
}

/// One operation of the helpdesk API, as `openapi/helpdesk.yaml` describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The spec's `operationId`, also the builder method's name, such as `get_ticket`.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path, with `{parameters}`.
    pub path: &'static str,
    /// The resource (the spec's tag), such as `tickets`.
    pub tag: &'static str,
    /// A one-line summary.
    pub summary: &'static str,
    /// The access token it takes.
    pub token: TokenKind,
    /// Whether sending it twice is harmless (a GET, or the spec's `x-idempotent`): only
    /// then is it sent again after a failure that the platform may have acted on.
    pub idempotent: bool,
    /// Whether a success answers bytes rather than the JSON envelope.
    pub binary: bool,
    /// How it pages, if it does.
    pub paging: Option<Paging>,
}

/// What a stand-in of the platform needs of an operation to check its requests and answer
/// them (the testing kit), beside each [`Operation`].
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // read by the testing kit only
pub(crate) struct OperationDetail {
    /// The spec's first example of a success, as JSON text (empty for a download).
    pub(crate) example: &'static str,
    /// The query parameters: name, whether required, whether an array.
    pub(crate) query: &'static [(&'static str, bool, bool)],
    /// Whether the operation requires a body.
    pub(crate) body_required: bool,
}
