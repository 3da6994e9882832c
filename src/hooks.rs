//! The hooks of the generated client: on each request, the two credentials and the content
//! type (and the timeout, for a caller-supplied `reqwest::Client`); on each answer, the body
//! limit, and a note of its status, log id and rate-limit reset for the wrapper.

use progenitor_client::{ClientHooks, Error as GeneratedError, OperationInfo};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use crate::attempt::note;
use crate::body_limit::{MAX_BODY_BYTES, MAX_DOWNLOAD_BYTES};
use crate::client_state::{ClientState, TokenSource};
use crate::credentials::HELPDESK_HEADER;
use crate::error::Error;
use crate::generated;
use crate::operation::TokenKind;

/// The content type the platform asks for; the generated code sends it without charset.
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

impl ClientHooks<ClientState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), GeneratedError<E>> {
        let state = &self.inner;
        if let Some(credentials) = &state.credentials {
            let token = generated::find_operation(info.operation_id).map_or(TokenKind::Tenant, |op| op.token);
            let authorization = match (token, &credentials.user) {
                (TokenKind::User | TokenKind::TenantOrUser, Some(user)) => user.clone(),
                (TokenKind::User, None) => {
                    // Refused before sending: the platform would refuse a tenant token.
                    let operation = info.operation_id;
                    note(|notes| notes.token_error = Some(Box::new(Error::UserTokenRequired { operation })));
                    return Err(GeneratedError::Custom(format!(
                        "{operation} needs a user access token"
                    )));
                }
                _ => match &credentials.tenant {
                    TokenSource::Fixed(value) => value.clone(),
                    TokenSource::App(manager) => {
                        // A fresh token is found without awaiting; the fetch is boxed, so that
                        // its large future does not weigh on every call's future.
                        let token = match manager.fresh() {
                            Some(token) => Ok(token),
                            None => Box::pin(manager.token()).await,
                        };
                        match token {
                            Ok(token) => {
                                let value = token.header().clone();
                                note(|notes| notes.token_used = Some(token));
                                value
                            }
                            Err(err) => {
                                let message = format!("no tenant access token for app {}", manager.app_id());
                                note(|notes| notes.token_error = Some(Box::new(err)));
                                return Err(GeneratedError::Custom(message));
                            }
                        }
                    }
                },
            };
            let headers = request.headers_mut();
            headers.reserve(2);
            headers.insert(AUTHORIZATION, authorization);
            headers.insert(HELPDESK_HEADER, credentials.helpdesk.clone());
        }
        if request.body().is_some() {
            request.headers_mut().insert(CONTENT_TYPE, JSON_UTF8);
        }
        if state.timeout_per_request {
            *request.timeout_mut() = Some(state.timeout);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let binary = generated::find_operation(info.operation_id).is_some_and(|op| op.binary);
        let max = if binary {
            MAX_DOWNLOAD_BYTES
        } else {
            MAX_BODY_BYTES
        };
        let mut response = crate::body_limit::limit(self.client.execute(request).await?, max);
        let noted = note(|notes| notes.answer(response.status(), response.headers()));
        if noted && !binary {
            // The wrapper has taken what it needs; progenitor would copy every header into
            // the `ResponseValue`, which the wrapper drops unread. Outside a wrapped call
            // the headers stay for the caller, and a download keeps them for its content
            // type and length.
            drop(std::mem::take(response.headers_mut()));
        }
        Ok(response)
    }
}
