#[allow(unused_imports)]
pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue};
#[allow(unused_imports)]
use progenitor_client::{encode_path, ClientHooks, OperationInfo, RequestBuilderExt};
/// Types used as operation parameters and responses.
#[allow(clippy::all)]
pub mod types {
    ///Further details that the platform adds to some error answers.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        Default,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct ErrorDetail {
        ///Identifies the request in the platform's logs, as the `X-Tt-Logid` header does.
        #[serde(skip_serializing_if = "::std::option::Option::is_none")]
        pub log_id: ::std::option::Option<::std::string::String>,
        ///A link to the platform's troubleshooting page for this error.
        #[serde(skip_serializing_if = "::std::option::Option::is_none")]
        pub troubleshooter: ::std::option::Option<::std::string::String>,
    }
    ///The answer envelope of a failed request.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct ErrorResponse {
        ///The platform's error code (never 0 here).
        pub code: i64,
        #[serde(skip_serializing_if = "::std::option::Option::is_none")]
        pub error: ::std::option::Option<ErrorDetail>,
        ///A description of the error.
        pub msg: ::std::string::String,
    }
    ///A helpdesk event, named by its type and subtype.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct Event {
        ///The event subtype (事件子类型).
        pub subtype: EventSubtype,
        ///The event type (事件类型).
        #[serde(rename = "type")]
        pub type_: EventType,
    }
    ///The event subtype (事件子类型).
    #[derive(
        ::serde::Serialize,
        Clone,
        Debug,
        Eq,
        Hash,
        Ord,
        PartialEq,
        PartialOrd,
        schemars::JsonSchema
    )]
    #[serde(transparent)]
    pub struct EventSubtype(::std::string::String);
    impl ::std::ops::Deref for EventSubtype {
        type Target = ::std::string::String;
        fn deref(&self) -> &::std::string::String {
            &self.0
        }
    }
    impl ::std::convert::From<EventSubtype> for ::std::string::String {
        fn from(value: EventSubtype) -> Self {
            value.0
        }
    }
    impl ::std::str::FromStr for EventSubtype {
        type Err = self::error::ConversionError;
        fn from_str(
            value: &str,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            if value.chars().count() < 1usize {
                return Err("shorter than 1 characters".into());
            }
            Ok(Self(value.to_string()))
        }
    }
    impl ::std::convert::TryFrom<&str> for EventSubtype {
        type Error = self::error::ConversionError;
        fn try_from(
            value: &str,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            value.parse()
        }
    }
    impl ::std::convert::TryFrom<::std::string::String> for EventSubtype {
        type Error = self::error::ConversionError;
        fn try_from(
            value: ::std::string::String,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            value.parse()
        }
    }
    impl<'de> ::serde::Deserialize<'de> for EventSubtype {
        fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
        where
            D: ::serde::Deserializer<'de>,
        {
            ::std::string::String::deserialize(deserializer)?
                .parse()
                .map_err(|e: self::error::ConversionError| {
                    <D::Error as ::serde::de::Error>::custom(e.to_string())
                })
        }
    }
    ///The event type (事件类型).
    #[derive(
        ::serde::Serialize,
        Clone,
        Debug,
        Eq,
        Hash,
        Ord,
        PartialEq,
        PartialOrd,
        schemars::JsonSchema
    )]
    #[serde(transparent)]
    pub struct EventType(::std::string::String);
    impl ::std::ops::Deref for EventType {
        type Target = ::std::string::String;
        fn deref(&self) -> &::std::string::String {
            &self.0
        }
    }
    impl ::std::convert::From<EventType> for ::std::string::String {
        fn from(value: EventType) -> Self {
            value.0
        }
    }
    impl ::std::str::FromStr for EventType {
        type Err = self::error::ConversionError;
        fn from_str(
            value: &str,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            if value.chars().count() < 1usize {
                return Err("shorter than 1 characters".into());
            }
            Ok(Self(value.to_string()))
        }
    }
    impl ::std::convert::TryFrom<&str> for EventType {
        type Error = self::error::ConversionError;
        fn try_from(
            value: &str,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            value.parse()
        }
    }
    impl ::std::convert::TryFrom<::std::string::String> for EventType {
        type Error = self::error::ConversionError;
        fn try_from(
            value: ::std::string::String,
        ) -> ::std::result::Result<Self, self::error::ConversionError> {
            value.parse()
        }
    }
    impl<'de> ::serde::Deserialize<'de> for EventType {
        fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
        where
            D: ::serde::Deserializer<'de>,
        {
            ::std::string::String::deserialize(deserializer)?
                .parse()
                .map_err(|e: self::error::ConversionError| {
                    <D::Error as ::serde::de::Error>::custom(e.to_string())
                })
        }
    }
    ///The body of a subscribe or unsubscribe request.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct EventsRequest {
        ///The events to subscribe to or unsubscribe from; at least one.
        pub events: ::std::vec::Vec<Event>,
    }
    ///The answer envelope of a subscribe or unsubscribe request.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct EventsResponse {
        ///The platform's result code; 0 is success, anything else a failure (错误码，非 0 表示失败).
        pub code: i64,
        ///Empty on success; these operations return no data.
        #[serde(default, skip_serializing_if = "::serde_json::Map::is_empty")]
        pub data: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        ///A description of the result (错误描述).
        pub msg: ::std::string::String,
    }
    ///The credentials of a custom app.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct TenantAccessTokenRequest {
        ///The app id, such as `cli_slkdjalasdkjasd`.
        pub app_id: ::std::string::String,
        ///The app secret.
        pub app_secret: ::std::string::String,
    }
    ///The answer to a tenant access token request.
    #[derive(
        ::serde::Deserialize,
        ::serde::Serialize,
        Clone,
        Debug,
        PartialEq,
        schemars::JsonSchema
    )]
    pub struct TenantAccessTokenResponse {
        ///The platform's result code; 0 is success.
        pub code: i64,
        ///The seconds of life the token has left; present when `code` is 0.
        #[serde(skip_serializing_if = "::std::option::Option::is_none")]
        pub expire: ::std::option::Option<i64>,
        ///A description of the result.
        pub msg: ::std::string::String,
        ///The tenant access token; present when `code` is 0.
        #[serde(skip_serializing_if = "::std::option::Option::is_none")]
        pub tenant_access_token: ::std::option::Option<::std::string::String>,
    }
    /// Error types.
    pub mod error {
        /// Error from a `TryFrom` or `FromStr` implementation.
        pub struct ConversionError(::std::borrow::Cow<'static, str>);
        impl ::std::error::Error for ConversionError {}
        impl ::std::fmt::Display for ConversionError {
            fn fmt(
                &self,
                f: &mut ::std::fmt::Formatter<'_>,
            ) -> Result<(), ::std::fmt::Error> {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }
        impl ::std::fmt::Debug for ConversionError {
            fn fmt(
                &self,
                f: &mut ::std::fmt::Formatter<'_>,
            ) -> Result<(), ::std::fmt::Error> {
                ::std::fmt::Debug::fmt(&self.0, f)
            }
        }
        impl From<&'static str> for ConversionError {
            fn from(value: &'static str) -> Self {
                Self(value.into())
            }
        }
        impl From<String> for ConversionError {
            fn from(value: String) -> Self {
                Self(value.into())
            }
        }
    }
}
#[derive(Clone, Debug)]
/**Client for Feishu / Lark helpdesk event subscription

Subscribe to and unsubscribe from helpdesk (服务台) events on the Feishu / Lark
Open Platform.

Every helpdesk request carries two credentials, both required:

* `Authorization: Bearer <tenant_access_token>`: the app's tenant access token
  (security scheme `tenantAccessToken`).
* `X-Lark-Helpdesk-Authorization: base64(helpdesk_id:helpdesk_token)`: the helpdesk
  id and helpdesk token joined by a colon and encoded with standard base64 (with
  padding). There is no `Bearer` prefix on this header (security scheme `helpdeskToken`).

The request body is JSON and is sent as `Content-Type: application/json; charset=utf-8`.

Every answer is the envelope `{code, msg, data}`. A `code` of 0 means success; any
other value is a failure, and the platform may report a failure with HTTP 200 as well
as with the 4xx/5xx statuses listed on each operation. The response header
`X-Tt-Logid` identifies the request in the platform's logs.


Version: 1.1.0*/
pub struct Client {
    pub(crate) baseurl: String,
    pub(crate) client: reqwest::Client,
    pub(crate) inner: crate::hooks::HookState,
}
impl Client {
    /// Create a new client.
    ///
    /// `baseurl` is the base URL provided to the internal
    /// `reqwest::Client`, and should include a scheme and hostname,
    /// as well as port and a path stem if applicable.
    pub fn new(baseurl: &str, inner: crate::hooks::HookState) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        let client = {
            let dur = ::std::time::Duration::from_secs(15u64);
            reqwest::ClientBuilder::new().connect_timeout(dur).timeout(dur)
        };
        #[cfg(target_arch = "wasm32")]
        let client = reqwest::ClientBuilder::new();
        Self::new_with_client(baseurl, client.build().unwrap(), inner)
    }
    /// Construct a new client with an existing `reqwest::Client`,
    /// allowing more control over its configuration.
    ///
    /// `baseurl` is the base URL provided to the internal
    /// `reqwest::Client`, and should include a scheme and hostname,
    /// as well as port and a path stem if applicable.
    pub fn new_with_client(
        baseurl: &str,
        client: reqwest::Client,
        inner: crate::hooks::HookState,
    ) -> Self {
        Self {
            baseurl: baseurl.to_string(),
            client,
            inner,
        }
    }
}
impl ClientInfo<crate::hooks::HookState> for Client {
    fn api_version() -> &'static str {
        "1.1.0"
    }
    fn baseurl(&self) -> &str {
        self.baseurl.as_str()
    }
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn inner(&self) -> &crate::hooks::HookState {
        &self.inner
    }
}
const _: () = {
    #[allow(dead_code)]
    fn assert_client_hooks()
    where
        Client: ClientHooks<crate::hooks::HookState>,
    {}
};
#[allow(clippy::all)]
impl Client {
    /**Obtain a tenant access token for a custom app

Returns the tenant access token of a custom app (自建应用), at the top level of the
answer, with the seconds of life it has left. This operation needs no token.


Sends a `POST` request to `/open-apis/auth/v3/tenant_access_token/internal`

Arguments:
- `body`: The app's credentials.
*/
    pub async fn get_tenant_access_token<'a>(
        &'a self,
        body: &'a types::TenantAccessTokenRequest,
    ) -> Result<
        ResponseValue<types::TenantAccessTokenResponse>,
        Error<types::ErrorResponse>,
    > {
        let url = self.inner.url("/open-apis/auth/v3/tenant_access_token/internal");
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize);
        #[allow(unused_mut)]
        let mut request = self
            .client
            .post(url)
            .header(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            )
            .json(&body)
            .headers(header_map)
            .build()?;
        let info = OperationInfo {
            operation_id: "get_tenant_access_token",
        };
        self.pre(&mut request, &info).await?;
        let result = self.exec(request, &info).await;
        self.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200u16 => ResponseValue::from_response(response).await,
            400u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            429u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            500u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
    /**Subscribe to helpdesk events

Subscribes the app to the listed helpdesk events. Requests and answers have the
same shape as `unsubscribe_events`. Available to custom apps (自建应用) with the
permission `helpdesk:all:readonly`; the platform applies a special rate limit.


Sends a `POST` request to `/open-apis/helpdesk/v1/events/subscribe`

Arguments:
- `body`: The events to subscribe to or unsubscribe from.
*/
    pub async fn subscribe_events<'a>(
        &'a self,
        body: &'a types::EventsRequest,
    ) -> Result<ResponseValue<types::EventsResponse>, Error<types::ErrorResponse>> {
        let url = self.inner.url("/open-apis/helpdesk/v1/events/subscribe");
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize);
        #[allow(unused_mut)]
        let mut request = self
            .client
            .post(url)
            .header(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            )
            .json(&body)
            .headers(header_map)
            .build()?;
        let info = OperationInfo {
            operation_id: "subscribe_events",
        };
        self.pre(&mut request, &info).await?;
        let result = self.exec(request, &info).await;
        self.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200u16 => ResponseValue::from_response(response).await,
            400u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            401u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            403u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            429u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            500u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
    /**Unsubscribe from helpdesk events

取消订阅服务台事件. Unsubscribes the app from the listed helpdesk events.
Available to custom apps (自建应用) with the permission `helpdesk:all:readonly`;
the platform applies a special rate limit.


Sends a `POST` request to `/open-apis/helpdesk/v1/events/unsubscribe`

Arguments:
- `body`: The events to subscribe to or unsubscribe from.
*/
    pub async fn unsubscribe_events<'a>(
        &'a self,
        body: &'a types::EventsRequest,
    ) -> Result<ResponseValue<types::EventsResponse>, Error<types::ErrorResponse>> {
        let url = self.inner.url("/open-apis/helpdesk/v1/events/unsubscribe");
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize);
        #[allow(unused_mut)]
        let mut request = self
            .client
            .post(url)
            .header(
                ::reqwest::header::ACCEPT,
                ::reqwest::header::HeaderValue::from_static("application/json"),
            )
            .json(&body)
            .headers(header_map)
            .build()?;
        let info = OperationInfo {
            operation_id: "unsubscribe_events",
        };
        self.pre(&mut request, &info).await?;
        let result = self.exec(request, &info).await;
        self.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200u16 => ResponseValue::from_response(response).await,
            400u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            401u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            403u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            429u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            500u16 => {
                Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
            }
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
}
/// Items consumers will typically use such as the Client.
pub mod prelude {
    #[allow(unused_imports)]
    pub use super::Client;
}
