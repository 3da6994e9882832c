//! The WebSocket handshake: a queued refusal, the path, the ticket and the connection limit
//! checked, and a refusal answered as the platform does (`Handshake-*` headers).

use std::collections::HashMap;

use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};

use super::endpoint::WS_PATH;
use super::faults::HandshakeRefusal;
use super::state::{live_connections, Inner};
use super::MockLongConnection;

impl Inner {
    /// The refusal of the handshake `request`, or `None` when it is let in. Its ticket is used up whatever the outcome;
    /// a queued refusal comes first, then the path, the ticket (known, unused, with its access
    /// key and device id) and the connection limit.
    pub(super) fn refusal(&self, request: &Request) -> Option<ErrorResponse> {
        let mut state = self.state();
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let ticket = query
            .get("ticket")
            .and_then(|ticket| state.tickets.remove(ticket));
        let valid = ticket.is_some_and(|ticket| {
            query.get("access_key") == Some(&ticket.access_key)
                && query.get("device_id") == Some(&ticket.device_id)
        });
        let refusal = if let Some(refusal) = state.refusals.pop_front() {
            Some(refusal_answer(refusal))
        } else if request.uri().path() != WS_PATH {
            Some(http_answer(404, None))
        } else if !valid {
            Some(refusal_answer(HandshakeRefusal::AuthFailed))
        } else if live_connections(&state).len() >= MockLongConnection::MAX_CONNECTIONS {
            Some(refusal_answer(HandshakeRefusal::TooManyConnections))
        } else {
            None
        };
        if refusal.is_some() {
            state.refused += 1;
            drop(state);
            self.changed.notify_waiters();
        }
        refusal
    }
}

/// The answer to a handshake refused with `refusal`.
fn refusal_answer(refusal: HandshakeRefusal) -> ErrorResponse {
    match refusal {
        HandshakeRefusal::Banned => http_answer(403, Some((None, "forbidden"))),
        HandshakeRefusal::TooManyConnections => http_answer(
            514,
            Some((
                Some(MockLongConnection::TOO_MANY_CONNECTIONS),
                "the number of connections exceeded the limit",
            )),
        ),
        HandshakeRefusal::AuthFailed => {
            http_answer(514, Some((Some(MockLongConnection::AUTH_FAILED), "auth failed")))
        }
        HandshakeRefusal::ServerError => http_answer(500, None),
    }
}

/// An answer with `status` instead of the upgrade, and the handshake headers when given (the
/// auth code, the message).
fn http_answer(status: u16, handshake: Option<(Option<u32>, &str)>) -> ErrorResponse {
    let message = handshake.map_or("refused", |(_, message)| message);
    let mut answer = http::Response::new(Some(message.to_owned()));
    *answer.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = answer.headers_mut();
    headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(message.len()),
    );
    if let Some((auth_code, message)) = handshake {
        headers.insert("handshake-status", http::HeaderValue::from(status));
        if let Ok(message) = http::HeaderValue::from_str(message) {
            headers.insert("handshake-msg", message);
        }
        if let Some(code) = auth_code {
            headers.insert("handshake-autherrcode", http::HeaderValue::from(code));
        }
    }
    answer
}
