//! The operations read from the spec (`OperationMeta`): token, idempotence, paging, details.

/// An operation of the spec, as the generated code describes it.
pub(crate) struct OperationMeta {
    pub(crate) id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) tag: String,
    pub(crate) summary: String,
    /// `Tenant`, `User`, `TenantOrUser` or `None`.
    pub(crate) token: &'static str,
    /// Whether it is a helpdesk operation: its security takes `helpdeskToken`. The others
    /// (the tenant token endpoint, logging a person in) are the client's own business.
    pub(crate) helpdesk: bool,
    pub(crate) idempotent: bool,
    pub(crate) binary: bool,
    pub(crate) paging: Option<PagingMeta>,
    /// The first example of the `200` answer, as JSON text.
    pub(crate) example: Option<String>,
    /// The query parameters: name, required, array.
    pub(crate) query: Vec<(String, bool, bool)>,
    /// Whether a request body is required.
    pub(crate) body_required: bool,
}

/// How a paged operation pages: the array of items in `data`, and the field of `data` with
/// the next page's token (token paging) or `None` (page numbers with `total`).
pub(crate) struct PagingMeta {
    pub(crate) items: String,
    pub(crate) next_token: Option<String>,
}

/// Each operation of the spec: its id, method, path, tag, the token it takes, whether
/// sending it twice is harmless, whether it answers bytes, and how it pages.
///
/// The token comes from the operation's `security`: `userAccessToken`, `tenantAccessToken`
/// or either. An operation is safe to send again if it is a GET or says
/// `x-idempotent: true`. Paging is read from the parameters and the `data` schema: a
/// `page_token` query with `has_more` and `page_token` or `next_page_token` in `data`, or
/// `page` and `page_size` queries with `total`; the items are `data`'s one array.
pub(crate) fn operations(spec: &openapiv3::OpenAPI) -> Result<Vec<OperationMeta>, String> {
    use openapiv3::{ReferenceOr, SchemaKind, Type};

    let schema_named = |reference: &str| -> Option<&openapiv3::Schema> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        match spec.components.as_ref()?.schemas.get(name)? {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { .. } => None,
        }
    };
    let resolve = |schema: &ReferenceOr<Box<openapiv3::Schema>>| -> Option<openapiv3::Schema> {
        match schema {
            ReferenceOr::Item(s) => Some((**s).clone()),
            ReferenceOr::Reference { reference } => schema_named(reference).cloned(),
        }
    };
    let properties = |schema: &openapiv3::Schema| -> Vec<(String, openapiv3::Schema)> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => object
                .properties
                .iter()
                .filter_map(|(name, s)| Some((name.clone(), resolve(s)?)))
                .collect(),
            _ => Vec::new(),
        }
    };

    let mut operations = Vec::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else { continue };
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .clone()
                .ok_or_else(|| format!("{method} {path} has no operationId"))?;
            let schemes: Vec<Vec<String>> = op
                .security
                .as_ref()
                .or(spec.security.as_ref())
                .map(|alternatives| alternatives.iter().map(|a| a.keys().cloned().collect()).collect())
                .unwrap_or_default();
            let takes = |scheme: &str| schemes.iter().any(|alt| alt.iter().any(|s| s == scheme));
            let token = match (takes("tenantAccessToken"), takes("userAccessToken")) {
                (true, true) => "TenantOrUser",
                (false, true) => "User",
                (true, false) => "Tenant",
                (false, false) => "None",
            };
            let helpdesk = takes("helpdeskToken");
            let idempotent =
                method == "get" || op.extensions.get("x-idempotent").and_then(|v| v.as_bool()) == Some(true);
            let success = match op.responses.responses.get(&openapiv3::StatusCode::Code(200)) {
                Some(ReferenceOr::Item(r)) => Some(r.clone()),
                Some(ReferenceOr::Reference { reference }) => reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|name| spec.components.as_ref()?.responses.get(name))
                    .and_then(|r| match r {
                        ReferenceOr::Item(r) => Some(r.clone()),
                        ReferenceOr::Reference { .. } => None,
                    }),
                None => None,
            };
            let binary = success
                .as_ref()
                .is_some_and(|r| r.content.keys().any(|c| c == "application/octet-stream"));
            // The `data` schema of the success envelope, for paging.
            let data = success
                .as_ref()
                .and_then(|r| r.content.get("application/json"))
                .and_then(|media| media.schema.as_ref())
                .and_then(|s| match s {
                    ReferenceOr::Reference { reference } => schema_named(reference).cloned(),
                    ReferenceOr::Item(s) => Some(s.clone()),
                })
                .and_then(|envelope| {
                    properties(&envelope)
                        .into_iter()
                        .find(|(n, _)| n == "data")
                        .map(|(_, s)| s)
                });
            let data_fields = data.as_ref().map(properties).unwrap_or_default();
            let has = |name: &str| data_fields.iter().any(|(n, _)| n == name);
            let arrays: Vec<&String> = data_fields
                .iter()
                .filter(|(_, s)| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
                .map(|(n, _)| n)
                .collect();
            let queries: Vec<&str> = op
                .parameters
                .iter()
                .filter_map(|p| match p {
                    ReferenceOr::Item(openapiv3::Parameter::Query { parameter_data, .. }) => {
                        Some(parameter_data.name.as_str())
                    }
                    _ => None,
                })
                .collect();
            let query = |name: &str| queries.contains(&name);
            let paging = match arrays.as_slice() {
                [items]
                    if query("page_token")
                        && has("has_more")
                        && (has("page_token") || has("next_page_token")) =>
                {
                    let next = if has("next_page_token") {
                        "next_page_token"
                    } else {
                        "page_token"
                    };
                    Some(PagingMeta {
                        items: (*items).clone(),
                        next_token: Some(next.into()),
                    })
                }
                [items] if query("page") && query("page_size") && has("total") => Some(PagingMeta {
                    items: (*items).clone(),
                    next_token: None,
                }),
                _ => None,
            };
            let example = success
                .as_ref()
                .and_then(|r| r.content.get("application/json"))
                .and_then(|media| {
                    let first = media.examples.values().next().and_then(|e| match e {
                        ReferenceOr::Item(example) => example.value.clone(),
                        ReferenceOr::Reference { .. } => None,
                    });
                    first.or_else(|| media.example.clone())
                })
                .map(|value| value.to_string());
            let query = op
                .parameters
                .iter()
                .filter_map(|p| match p {
                    ReferenceOr::Item(openapiv3::Parameter::Query { parameter_data, .. }) => {
                        let array = match &parameter_data.format {
                            openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
                                matches!(schema.schema_kind, SchemaKind::Type(Type::Array(_)))
                            }
                            _ => false,
                        };
                        Some((parameter_data.name.clone(), parameter_data.required, array))
                    }
                    _ => None,
                })
                .collect();
            let body_required = match &op.request_body {
                Some(ReferenceOr::Item(body)) => body.required,
                Some(ReferenceOr::Reference { reference }) => reference
                    .strip_prefix("#/components/requestBodies/")
                    .and_then(|name| spec.components.as_ref()?.request_bodies.get(name))
                    .is_some_and(|body| matches!(body, ReferenceOr::Item(b) if b.required)),
                None => false,
            };
            operations.push(OperationMeta {
                example,
                query,
                body_required,
                id,
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                tag: op.tags.first().cloned().unwrap_or_default(),
                summary: op.summary.clone().unwrap_or_default(),
                token,
                helpdesk,
                idempotent,
                binary,
                paging,
            });
        }
    }
    operations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(operations)
}
