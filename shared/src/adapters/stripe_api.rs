//! The Stripe HTTP API, called directly: two form-encoded POSTs
//! (`/v1/customers`, `/v1/checkout/sessions`) over hyper and rustls, the
//! stack the AWS SDK already links. Not a Stripe crate: async-stripe
//! generates types for the whole API (a large compile, and megabytes of a
//! function whose budget is 8 MiB) for the two calls made here.
//!
//! Nothing of the key, the request or Stripe's answer is logged: an error
//! keeps only the status and Stripe's `error.type`/`error.code`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::ConfigBuilderExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::ports::payments::{
    CheckoutSession, CustomerRequest, GatewayError, PaymentGateway, SessionRequest,
};
use crate::usecases::payments::StripeKeyRing;

/// One call's limit: two calls fit in the functions' 10 s with room for
/// the table's reads and writes.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct StripeApi {
    /// `STRIPE_API_BASE`, without a trailing slash.
    base: String,
    keys: Arc<StripeKeyRing>,
    /// Built on the first call, not at cold start (the OS root store takes
    /// milliseconds to load).
    client: tokio::sync::OnceCell<HttpsClient>,
}

impl StripeApi {
    pub fn new(base: impl Into<String>, keys: Arc<StripeKeyRing>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            keys,
            client: tokio::sync::OnceCell::new(),
        }
    }

    async fn client(&self) -> Result<&HttpsClient, GatewayError> {
        self.client
            .get_or_try_init(|| async {
                let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let no_tls = |e: &dyn std::fmt::Display| {
                    GatewayError::Unavailable(format!("no TLS configuration: {e}"))
                };
                let tls = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| no_tls(&e))?
                    .with_native_roots()
                    .map_err(|e| no_tls(&e))?
                    .with_no_client_auth();
                // http too: localstripe and the tests' stubs on loopback.
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls)
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).build(connector))
            })
            .await
    }

    /// POSTs `form` to `path`; the answer's JSON on 2xx.
    async fn post(
        &self,
        path: &str,
        form: &[(&'static str, String)],
        idempotency_key: Option<&str>,
    ) -> Result<Value, GatewayError> {
        let keys = self.keys.keys().await?;
        let key = keys.api_key.as_ref().ok_or(GatewayError::NotConfigured)?;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(name, value)| (*name, value.as_str())))
            .finish();
        let mut authorization =
            http::HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                .map_err(|_| GatewayError::NotConfigured)?;
        authorization.set_sensitive(true);
        let mut request = http::Request::post(format!("{}{path}", self.base))
            .header(http::header::AUTHORIZATION, authorization)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| GatewayError::Unavailable("bad request URL".into()))?;
        let client = self.client().await?;
        let exchange = async {
            let response = client
                .request(request)
                .await
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?
                .to_bytes();
            Ok::<_, GatewayError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| GatewayError::Unavailable("timed out".into()))??;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        if status == 429 || status >= 500 {
            return Err(GatewayError::Unavailable(format!("status {status}")));
        }
        let error = &answer["error"];
        let code = [&error["type"], &error["code"]]
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("/");
        Err(GatewayError::Refused { status, code })
    }
}

fn text(answer: &Value, field: &str) -> Result<String, GatewayError> {
    answer[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| GatewayError::Refused {
            status: 200,
            code: format!("no {field} in the answer"),
        })
}

#[async_trait]
impl PaymentGateway for StripeApi {
    async fn create_customer(&self, request: &CustomerRequest) -> Result<String, GatewayError> {
        let answer = self
            .post(
                "/v1/customers",
                &request.form(),
                Some(&request.idempotency_key),
            )
            .await?;
        text(&answer, "id")
    }

    async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        let answer = self
            .post("/v1/checkout/sessions", &request.form(), None)
            .await?;
        Ok(CheckoutSession {
            id: text(&answer, "id")?,
            url: text(&answer, "url")?,
        })
    }
}
