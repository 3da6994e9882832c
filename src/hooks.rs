//! progenitor's hooks, for the operations that do not go through the call machinery: the
//! token endpoint's and the accounts host's (`crate::accounts`), on clients without
//! credentials. They prepare and bound each request as [`exchange`](crate::attempt::exchange)
//! does every other attempt's.

use progenitor_client::{ClientHooks, Error as GeneratedError, OperationInfo};

use crate::attempt::{authorization, bounded, fetched, prepare, Authorization};
use crate::generated;

/// For the operations progenitor's own `send` runs (the token endpoint's, the accounts'):
/// the same request and answer handling, without notes; the answer keeps its headers for
/// the caller.
impl ClientHooks<crate::client_state::ClientState> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), GeneratedError<E>> {
        let operation = info.operation_id;
        let value = match authorization(self, operation, generated::find_operation(operation), None)? {
            Authorization::Ready(value) => value,
            Authorization::Fetch(supplier) => Some(fetched(supplier, None).await?),
        };
        prepare(self, request, value);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let binary = generated::find_operation(info.operation_id).is_some_and(|op| op.binary);
        Ok(bounded(self.client.execute(request).await?, binary))
    }
}
