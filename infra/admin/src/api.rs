//! Calling the `/admin/` routes: SigV4-signed with the standard AWS
//! credential chain (environment, profile, SSO, instance role…), or, for a
//! local server, `Authorization: Bearer $ADMIN_TOKEN`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::ConfigBuilderExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::AdminError;

/// How the CLI proves it is an operator.
pub enum Credentials {
    /// The local server's admin token.
    Token(String),
    /// IAM: the SDK's credential chain and region, SigV4 for
    /// `execute-api`.
    Iam(Box<aws_config::SdkConfig>),
}

pub struct AdminApi {
    base: String,
    credentials: Credentials,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer of the API: its status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl AdminApi {
    /// From `ADMIN_API_URL` (the API's base URL) and `ADMIN_TOKEN` (local
    /// runs) or else the AWS credential chain.
    pub async fn from_env() -> Result<Self, AdminError> {
        let base = std::env::var("ADMIN_API_URL").map_err(|_| {
            AdminError::Config(
                "set ADMIN_API_URL to the API's base URL (the stack's ApiUrl output, or the \
                 local server's http://127.0.0.1:3000)"
                    .into(),
            )
        })?;
        let credentials = match std::env::var("ADMIN_TOKEN") {
            Ok(token) if !token.trim().is_empty() => Credentials::Token(token.trim().to_owned()),
            _ => Credentials::Iam(Box::new(
                aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
            )),
        };
        Self::new(&base, credentials)
    }

    pub fn new(base: &str, credentials: Credentials) -> Result<Self, AdminError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let no_tls = |e: &dyn std::fmt::Display| AdminError::Config(format!("no TLS: {e}"));
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| no_tls(&e))?
            .with_native_roots()
            .map_err(|e| no_tls(&e))?
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// `method path` (with its query) and an optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, AdminError> {
        let url = format!("{}{path}", self.base);
        let payload = body.map(Value::to_string).unwrap_or_default();
        let mut request = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("accept", "application/json");
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(payload.clone())
            .map_err(|e| AdminError::Input(format!("bad request {method} {url}: {e}")))?;
        match &self.credentials {
            Credentials::Token(token) => {
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| AdminError::Config("ADMIN_TOKEN is not a valid header".into()))?;
                request.headers_mut().insert("authorization", value);
            }
            Credentials::Iam(config) => sign_request(config, &mut request).await?,
        }
        let request = request.map(|body| Full::new(Bytes::from(body)));
        let failed = |e: String| AdminError::Http(format!("{method} {url}: {e}"));
        let response = tokio::time::timeout(CALL_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| failed("timed out".into()))?
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = tokio::time::timeout(CALL_TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| failed("timed out".into()))?
            .map_err(|e| failed(e.to_string()))?
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // API Gateway's own refusals (403 of an unsigned call) are JSON
        // too, without the envelope.
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }
}

/// Signs `request` in place for `execute-api` in the configured region.
async fn sign_request(
    config: &aws_config::SdkConfig,
    request: &mut http::Request<String>,
) -> Result<(), AdminError> {
    let provider = config.credentials_provider().ok_or_else(|| {
        AdminError::Config("no AWS credentials found (and ADMIN_TOKEN is not set)".into())
    })?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| AdminError::Config(format!("AWS credentials: {e}")))?;
    let region = config
        .region()
        .ok_or_else(|| AdminError::Config("no AWS region configured (AWS_REGION)".into()))?
        .to_string();
    let identity = Identity::from(credentials);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AdminError::Config(format!("signing: {e}")))?
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(request.body().as_bytes()),
    )
    .map_err(|e| AdminError::Config(format!("signing: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| AdminError::Config(format!("signing: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::SharedCredentialsProvider;

    #[tokio::test]
    async fn iam_calls_are_sigv4_signed_for_execute_api() {
        let credentials =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let config = aws_config::SdkConfig::builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .region(aws_config::Region::new("eu-west-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let mut request = http::Request::builder()
            .method("POST")
            .uri("https://abc.execute-api.eu-west-1.amazonaws.com/admin/users/x/deactivate")
            .body(String::new())
            .unwrap();
        sign_request(&config, &mut request).await.unwrap();
        let authorization = request.headers()["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/eu-west-1/execute-api/aws4_request"),
            "{authorization}"
        );
        assert!(request.headers().contains_key("x-amz-date"));
    }
}
