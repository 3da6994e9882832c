//! STUB (replaced by the accounts module on merge).
#![allow(dead_code, missing_docs)]
use crate::error::Error;
use crate::generated;
use crate::secret::Secret;
use std::time::Duration;
pub(crate) struct Accounts;
pub(crate) struct IssuedTokens {
    pub(crate) access_token: Secret,
    pub(crate) expires_in: Duration,
    pub(crate) refresh_token: Option<Secret>,
    pub(crate) refresh_token_expires_in: Option<Duration>,
    pub(crate) scope: String,
}
pub(crate) struct DeviceCode {
    pub(crate) device_code: Secret,
    pub(crate) user_code: String,
    pub(crate) verification_uri: String,
    pub(crate) verification_uri_complete: Option<String>,
    pub(crate) expires_in: Duration,
    pub(crate) interval: Duration,
}
pub(crate) struct PersonInfo {
    pub(crate) open_id: String,
    pub(crate) name: String,
}
impl Accounts {
    pub(crate) fn new(_a: generated::Client, _o: generated::Client, _id: String, _s: Secret) -> Self {
        Accounts
    }
    pub(crate) async fn start_device_authorization(&self, _scope: &str) -> Result<DeviceCode, Error> {
        todo!()
    }
    pub(crate) async fn poll_device(&self, _d: &Secret) -> Result<IssuedTokens, Error> {
        todo!()
    }
    pub(crate) async fn exchange_code(&self, _c: &str, _r: &str, _v: &str) -> Result<IssuedTokens, Error> {
        todo!()
    }
    pub(crate) async fn refresh(&self, _r: &Secret) -> Result<IssuedTokens, Error> {
        todo!()
    }
    pub(crate) async fn user_info(&self, _a: &Secret) -> Result<PersonInfo, Error> {
        todo!()
    }
}
