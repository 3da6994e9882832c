//! Any operation called by its spec name, with its parameters as text and its body as JSON:
//! for tools (the command line) and generic code, through the same hooks and call machinery
//! as the typed builders.

use futures_core::Stream;
use progenitor_client::{Error as GeneratedError, ResponseValue};
use reqwest::header::{HeaderValue, ACCEPT};
use serde_json::Value;

use crate::attempt::{settle, settle_download, AttemptSlot};
use crate::call::run;
use crate::client::Client;
use crate::download::Download;
use crate::error::Error;
use crate::generated::{self, types::ErrorResponse};
use crate::generated_glue::Envelope;
use crate::operation::{Operation, Paging};
use crate::receipt::Receipt;

/// A call of one operation named at run time: [`Client::raw`]. Path parameters and query
/// parameters are text (a query parameter given twice is sent twice, as arrays are); the
/// body is JSON. The answer is the envelope's `data` as JSON.
#[derive(Clone, Debug)]
#[must_use = "a call does nothing until it is sent"]
pub struct RawCall<'a> {
    client: &'a Client,
    operation: &'static Operation,
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

/// The answer of a [`RawCall`], as a typed builder's `send_with_receipt` gives it: the
/// envelope's `data` and the call's [`Receipt`], with the envelope's `msg` (its `code` was 0).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RawAnswer {
    /// The envelope's `data` (`{}` if the platform left it out).
    pub data: Value,
    /// The envelope's `msg`, such as `success`.
    pub msg: String,
    /// The HTTP status and log id.
    pub receipt: Receipt,
}

/// The envelope, with `data` as any JSON.
#[derive(serde::Deserialize)]
struct AnyEnvelope {
    code: i64,
    msg: String,
    #[serde(default)]
    data: Option<Value>,
}

impl Envelope for AnyEnvelope {
    /// The message and `data`, for the whole envelope.
    type Data = (String, Option<Value>);
    fn into_parts(self) -> (i64, String, Option<Self::Data>) {
        (self.code, self.msg.clone(), Some((self.msg, self.data)))
    }
}

impl Client {
    /// A call of the operation with the spec's `operationId` `operation` (see
    /// [`operations`](crate::operations)), such as `get_ticket`. Fails with
    /// [`Error::InvalidInput`] if there is no such operation.
    ///
    /// ```no_run
    /// # async fn run(client: feishu_helpdesk::Client) -> Result<(), feishu_helpdesk::Error> {
    /// let answer = client
    ///     .raw("list_tickets")?
    ///     .query("status_list", "1")
    ///     .query("status_list", "2")
    ///     .send()
    ///     .await?;
    /// println!("{}", answer.data["total"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn raw(&self, operation: &str) -> Result<RawCall<'_>, Error> {
        let operation = generated::find_operation(operation).ok_or_else(|| {
            Error::invalid_input(
                "operation",
                format!("no helpdesk operation is named {operation:?}"),
            )
        })?;
        Ok(RawCall {
            client: self,
            operation,
            path: Vec::new(),
            query: Vec::new(),
            body: None,
        })
    }
}

impl<'a> RawCall<'a> {
    /// The operation this call sends.
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    /// Sets the path parameter `name` (such as `ticket_id`).
    pub fn path(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.path.push((name.into(), value.into()));
        self
    }

    /// Adds the query parameter `name`; given twice, it is sent twice (an array).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// The JSON body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends the call with the client's call machinery (credentials, token renewal,
    /// retries that never repeat a side effect, tracing) and gives the answer.
    pub async fn send(&self) -> Result<RawAnswer, Error> {
        let request = self.request()?;
        let client = self.client.api();
        let notes = AttemptSlot::default();
        let (receipt, answer) = run(
            &client.inner,
            self.operation,
            &notes,
            || async {
                crate::generated_glue::decode::<AnyEnvelope, _>(self.attempt(&request, &notes).await?).await
            },
            settle,
            |attempt, answer| (attempt.receipt(), answer),
        )
        .await?;
        let (msg, data) = answer.unwrap_or_default();
        let data = data.unwrap_or_else(|| Value::Object(Default::default()));
        Ok(RawAnswer { data, msg, receipt })
    }

    /// Sends a call of an operation that answers bytes.
    pub async fn download(&self) -> Result<Download, Error> {
        let request = self.request()?;
        let client = self.client.api();
        let notes = AttemptSlot::default();
        run(
            &client.inner,
            self.operation,
            &notes,
            || async { Ok(ResponseValue::stream(self.attempt(&request, &notes).await?)) },
            settle_download,
            |_, download| download,
        )
        .await
    }

    /// Every item of a paged operation, page by page (see the builders' `stream`), as JSON.
    /// Fails with [`Error::InvalidInput`] for an operation that does not page.
    pub fn pages(self) -> Result<impl Stream<Item = Result<Value, Error>> + Send + 'a, Error> {
        let paging = self.operation.paging.ok_or_else(|| {
            Error::invalid_input("operation", format!("{} does not page", self.operation.id))
        })?;
        let items_of = |data: &mut Value, field: &str| match data.get_mut(field).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Value, Error>> + Send + 'a>> = match paging {
            Paging::Token { items, next_token } => Box::pin(crate::pages::pages_by_token(
                self,
                |call: RawCall<'a>, token: Option<String>| async move {
                    let call = match token {
                        Some(token) => call.without_query("page_token").query("page_token", token),
                        None => call,
                    };
                    Ok(call.send().await?.data)
                },
                move |mut data: Value| {
                    let next = data.get(next_token).and_then(Value::as_str).map(str::to_owned);
                    let has_more = data.get("has_more").and_then(Value::as_bool);
                    (items_of(&mut data, items), has_more, next)
                },
            )),
            Paging::Number { items } => {
                let start = self
                    .query
                    .iter()
                    .find(|(name, _)| name == "page")
                    .and_then(|(_, value)| value.parse().ok())
                    .unwrap_or(1);
                Box::pin(crate::pages::pages_by_number(
                    self,
                    start,
                    |call: RawCall<'a>, page: i64| async move {
                        Ok(call
                            .without_query("page")
                            .query("page", page.to_string())
                            .send()
                            .await?
                            .data)
                    },
                    move |mut data: Value| {
                        let total = data.get("total").and_then(Value::as_i64);
                        (items_of(&mut data, items), total)
                    },
                ))
            }
        };
        Ok(stream)
    }

    fn without_query(mut self, name: &str) -> Self {
        self.query.retain(|(n, _)| n != name);
        self
    }

    /// The request, checked: every path parameter set, none unknown.
    fn request(&self) -> Result<reqwest::Request, Error> {
        let op = self.operation;
        let mut path = String::with_capacity(op.path.len());
        let mut rest = op.path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |at| open + at);
            let name = &rest[open + 1..close];
            let value = self
                .path
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    Error::invalid_input("path", format!("{} needs the path parameter {name}", op.id))
                })?;
            path.push_str(&rest[..open]);
            // Encoded as the generated builders encode their path parameters.
            path.push_str(&progenitor_client::encode_path(value));
            rest = &rest[(close + 1).min(rest.len())..];
        }
        path.push_str(rest);
        if let Some((name, _)) = self
            .path
            .iter()
            .find(|(name, _)| !op.path.contains(&format!("{{{name}}}")))
        {
            return Err(Error::invalid_input(
                "path",
                format!("{} has no path parameter {name}", op.id),
            ));
        }
        let client = self.client.api();
        let mut url = client.inner.url(&path);
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes())
            .map_err(|_| Error::invalid_input("operation", format!("{} has no valid method", op.id)))?;
        let mut request = progenitor_client::ClientInfo::client(client)
            .request(method, url)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = &self.body {
            request = request.json(body);
        }
        request
            .build()
            .map_err(|e| Error::invalid_input_because("body", "cannot be sent", e))
    }

    /// One attempt: the request through the generated client's hooks; a success's answer
    /// for the caller to read, the others mapped as the generated operations map theirs.
    async fn attempt(
        &self,
        request: &reqwest::Request,
        notes: &AttemptSlot,
    ) -> Result<reqwest::Response, GeneratedError<ErrorResponse>> {
        let client = self.client.api();
        let request = request
            .try_clone()
            .ok_or_else(|| GeneratedError::InvalidRequest("the body cannot be sent twice".into()))?;
        let response = crate::attempt::exchange(client, request, self.operation, notes).await?;
        match response.status().as_u16() {
            200 => Ok(response),
            400 | 401 | 403 | 429 | 500 => Err(GeneratedError::ErrorResponse(
                crate::generated_glue::decode(response).await?,
            )),
            _ => Err(GeneratedError::UnexpectedResponse(response)),
        }
    }
}
