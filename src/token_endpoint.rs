//! The platform's token endpoint (`POST /open-apis/auth/v3/tenant_access_token/internal`),
//! as the token manager's [`TokenEndpoint`]: one request through a generated client that
//! carries no credentials, and the mapping of its answer to a token or an error.

use std::time::Duration;

use progenitor_client::{Error as GeneratedError, ResponseValue};
use tokio::time::Instant;

use crate::attempt::{unexpected_or_transport, Attempt, ErrorAnswer};
use crate::error::{Attempts, Error};
use crate::generated::{self, types, ClientAuthExt as _};
use crate::secret::Secret;
use crate::token_cache::{BoxFuture, CachedToken};
use crate::token_manager::TokenEndpoint;

/// Obtains tenant access tokens with a generated client of its own, whose requests carry no
/// credentials (the operation needs none).
pub(crate) struct PlatformTokenEndpoint {
    client: generated::Client,
}

impl PlatformTokenEndpoint {
    /// The endpoint, reached through `client`, whose state carries no credentials.
    pub(crate) fn new(client: generated::Client) -> Self {
        Self { client }
    }

    async fn request(&self, app_id: &str, app_secret: &Secret) -> Result<CachedToken, Error> {
        let body = types::TenantAccessTokenRequest {
            app_id: app_id.to_owned(),
            app_secret: app_secret.expose().to_owned(),
        };
        let result = self.client.get_tenant_access_token().body(body).send().await;
        // Outside the call machinery the answer keeps its headers: the notes come from it.
        let notes = match &result {
            Ok(value) => Attempt::of_answer(value.status(), value.headers()),
            Err(GeneratedError::ErrorResponse(value)) => Attempt::of_answer(value.status(), value.headers()),
            Err(GeneratedError::UnexpectedResponse(response)) => {
                Attempt::of_answer(response.status(), response.headers())
            }
            Err(_) => Attempt::default(),
        };
        let refused = |answer: ErrorAnswer| Error::TokenRefused {
            attempts: Attempts::ONE,
            app_id: app_id.to_owned(),
            code: answer.code,
            msg: answer.msg,
            http_status: answer.http_status,
            log_id: answer.log_id,
        };
        match result {
            Ok(value) => issued(value, &notes).map_err(refused),
            Err(GeneratedError::ErrorResponse(value)) => Err(refused(ErrorAnswer::new(value, &notes))),
            Err(other) => Err(unexpected_or_transport(other, notes).await),
        }
    }
}

impl TokenEndpoint for PlatformTokenEndpoint {
    fn fetch<'a>(
        &'a self,
        app_id: &'a str,
        app_secret: &'a Secret,
    ) -> BoxFuture<'a, Result<CachedToken, Error>> {
        Box::pin(self.request(app_id, app_secret))
    }
}

/// The token in a 2xx answer, or the answer as a refusal: a non-zero code, a missing field,
/// or a token that cannot be sent in a header.
fn issued(
    value: ResponseValue<types::TenantAccessTokenResponse>,
    notes: &Attempt,
) -> Result<CachedToken, ErrorAnswer> {
    let http_status = value.status().as_u16();
    let answer = value.into_inner();
    let refusal = |code, msg: &str| ErrorAnswer {
        code,
        msg: msg.to_owned(),
        http_status,
        log_id: notes.log_id(),
    };
    match (answer.code, answer.tenant_access_token, answer.expire) {
        (0, Some(token), Some(expire)) => {
            let lifetime = Duration::from_secs(expire.max(0).unsigned_abs());
            CachedToken::new(token, Instant::now() + lifetime)
                .map_err(|_| refusal(0, "the issued token cannot be sent in an HTTP header"))
        }
        (0, _, _) => Err(refusal(0, "the answer lacks tenant_access_token or expire")),
        (code, _, _) => Err(refusal(code, &answer.msg)),
    }
}
