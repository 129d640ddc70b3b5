//! Presigned S3 requests for the avatar bucket: the browser form of an
//! upload (a POST policy) and short-lived download links.
//!
//! Built on `aws-sigv4`, the SDK's own signing crate, rather than on
//! `aws-sdk-s3`'s presigner: the S3 SDK has no presigned POST at all (only
//! presigned requests), and the functions that only hand out links (`GET
//! /users/me`) then need no S3 client linked. The POST policy is signed as
//! S3 documents it: the base64 policy is the string to sign, under the
//! SigV4 signing key of the day, region and service `s3`.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// How long an upload form stays valid.
pub const UPLOAD_FORM_TTL: Duration = Duration::from_secs(600);
/// How long an `avatar_url` stays valid.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(900);

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no credentials to sign with: {0}")]
    Credentials(String),
    #[error("the request could not be signed: {0}")]
    Signing(String),
}

/// An S3 presigned POST: the form's action and its fields (in order: the
/// file goes last).
#[derive(Debug, Clone)]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub expires_in: Duration,
}

/// Signs requests to one bucket.
#[derive(Clone, Debug)]
pub struct BucketSigner {
    /// Path-style `{endpoint}/{bucket}` for a custom endpoint (moto, the
    /// local server), else the virtual-hosted AWS address.
    base_url: String,
    region: String,
    credentials: SharedCredentialsProvider,
}

fn amz_date(at: SystemTime) -> String {
    let at = OffsetDateTime::from(at);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn iso8601(at: SystemTime) -> String {
    let at = OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Where the forms post and the links point for `bucket` on `endpoint`
/// (None: AWS itself) in `region`: path-style below a custom endpoint,
/// else the bucket's virtual-hosted regional address. The pages' CSP
/// admits this address's origin, so both must come from here.
pub fn bucket_base_url(bucket: &str, endpoint: Option<&str>, region: &str) -> String {
    match endpoint {
        Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

impl BucketSigner {
    /// For `bucket` on `endpoint` (None: AWS itself) in `region`.
    pub fn new(
        bucket: &str,
        endpoint: Option<&str>,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        Self::at(
            bucket_base_url(bucket, endpoint, region),
            region,
            credentials,
        )
    }

    /// Requests to `base_url` itself (the local server's bucket).
    pub fn at(
        base_url: impl Into<String>,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            credentials,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn credentials(&self) -> Result<Credentials, SignError> {
        self.credentials
            .provide_credentials()
            .await
            .map_err(|error| SignError::Credentials(error.to_string()))
    }

    fn credential_scope(&self, credentials: &Credentials, at: SystemTime) -> String {
        format!(
            "{}/{}/{}/s3/aws4_request",
            credentials.access_key_id(),
            &amz_date(at)[..8],
            self.region
        )
    }

    /// A form that uploads one file to `key`, of `content_type`, of at
    /// most `max_bytes`: S3 refuses any other key, type or size.
    pub async fn presigned_post(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        now: SystemTime,
    ) -> Result<PresignedPost, SignError> {
        let credentials = self.credentials().await?;
        let mut fields = vec![
            ("key".to_owned(), key.to_owned()),
            ("Content-Type".to_owned(), content_type.to_owned()),
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            (
                "x-amz-credential".to_owned(),
                self.credential_scope(&credentials, now),
            ),
            ("x-amz-date".to_owned(), amz_date(now)),
        ];
        if let Some(token) = credentials.session_token() {
            fields.push(("x-amz-security-token".to_owned(), token.to_owned()));
        }
        let mut conditions: Vec<Value> = fields
            .iter()
            .map(|(name, value)| json!({ name: value }))
            .collect();
        conditions.push(json!(["content-length-range", 1, max_bytes]));
        let policy = json!({
            "expiration": iso8601(now + UPLOAD_FORM_TTL),
            "conditions": conditions,
        });
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        let signature = self.policy_signature(&credentials, &policy, now);
        fields.push(("policy".to_owned(), policy));
        fields.push(("x-amz-signature".to_owned(), signature));
        Ok(PresignedPost {
            url: self.base_url.clone(),
            fields,
            expires_in: UPLOAD_FORM_TTL,
        })
    }

    fn policy_signature(&self, credentials: &Credentials, policy: &str, at: SystemTime) -> String {
        let key = v4::generate_signing_key(credentials.secret_access_key(), at, &self.region, "s3");
        v4::calculate_signature(key, policy.as_bytes())
    }

    /// A link that reads `key` until `now + ttl`.
    pub async fn presigned_get(
        &self,
        key: &str,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<String, SignError> {
        let credentials = self.credentials().await?;
        self.sign_get(&credentials, key, now, ttl)
    }

    fn sign_get(
        &self,
        credentials: &Credentials,
        key: &str,
        at: SystemTime,
        ttl: Duration,
    ) -> Result<String, SignError> {
        let url = format!("{}/{key}", self.base_url);
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(ttl);
        // S3 signs the path as sent, encoded once.
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let identity = credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(at)
            .settings(settings)
            .build()
            .map_err(|error| SignError::Signing(error.to_string()))?
            .into();
        let request = SignableRequest::new(
            "GET",
            &url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|error| SignError::Signing(error.to_string()))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|error| SignError::Signing(error.to_string()))?
            .into_parts();
        let mut request = http::Request::get(&url)
            .body(())
            .map_err(|error| SignError::Signing(error.to_string()))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request.uri().to_string())
    }

    /// Whether `fields` (a received form, its file `file_len` bytes long)
    /// are a form this signer issued and its policy admits, at `now`: what
    /// S3 checks, for the local server's stand-in bucket. The key, or why
    /// not.
    pub async fn check_post(
        &self,
        fields: &[(String, String)],
        file_len: u64,
        now: SystemTime,
    ) -> Result<String, String> {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let policy_text = field("policy").ok_or("no policy")?;
        let signature = field("x-amz-signature").ok_or("no signature")?;
        let credential = field("x-amz-credential").ok_or("no credential")?;
        let credentials = self.credentials().await.map_err(|e| e.to_string())?;
        let date = field("x-amz-date").ok_or("no date")?;
        let signed_at = time::PrimitiveDateTime::parse(
            date,
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .map_err(|_| "bad date")?
        .assume_utc();
        if credential != self.credential_scope(&credentials, signed_at.into()) {
            return Err("unknown credential".into());
        }
        let expected = self.policy_signature(&credentials, policy_text, signed_at.into());
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            signature.as_bytes(),
        )) {
            return Err("signature mismatch".into());
        }
        let policy: Value = base64::engine::general_purpose::STANDARD
            .decode(policy_text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or("unreadable policy")?;
        let expires = policy["expiration"].as_str().ok_or("no expiration")?;
        let expires =
            OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
                .map_err(|_| "bad expiration")?;
        if OffsetDateTime::from(now) > expires {
            return Err("the form has expired".into());
        }
        for condition in policy["conditions"].as_array().ok_or("no conditions")? {
            match condition {
                Value::Object(exact) => {
                    for (name, value) in exact {
                        if field(name) != value.as_str() {
                            return Err(format!("{name} does not match the policy"));
                        }
                    }
                }
                Value::Array(rule) if rule.first() == Some(&json!("content-length-range")) => {
                    let low = rule.get(1).and_then(Value::as_u64).unwrap_or(0);
                    let high = rule.get(2).and_then(Value::as_u64).unwrap_or(0);
                    if !(low..=high).contains(&file_len) {
                        return Err(
                            "EntityTooLarge: the file is outside the policy's size range".into(),
                        );
                    }
                }
                _ => return Err("unknown policy condition".into()),
            }
        }
        field("key")
            .map(str::to_owned)
            .ok_or_else(|| "no key".into())
    }

    /// The key a presigned link of this signer reads, if `path_and_query`
    /// (below `base_url`) is one and has not expired at `now`.
    pub async fn check_get(&self, key: &str, query: &str, now: SystemTime) -> Option<String> {
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_owned())
        };
        let signed_at = time::PrimitiveDateTime::parse(
            &param("X-Amz-Date")?,
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .ok()?
        .assume_utc();
        let ttl = Duration::from_secs(param("X-Amz-Expires")?.parse().ok()?);
        if OffsetDateTime::from(now) > signed_at + ttl {
            return None;
        }
        let credentials = self.credentials().await.ok()?;
        let expected = self
            .sign_get(&credentials, key, signed_at.into(), ttl)
            .ok()?;
        let expected = expected.split_once('?')?.1.to_owned();
        let same = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), query.as_bytes());
        bool::from(same).then(|| key.to_owned())
    }
}

/// Credentials made up for this process: the local server signs and checks
/// its own forms and links with them.
pub fn local_credentials() -> SharedCredentialsProvider {
    let mut secret = [0u8; 32];
    let _ = getrandom::fill(&mut secret);
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    SharedCredentialsProvider::new(Credentials::new(
        "LOCALAVATARS",
        secret,
        None,
        None,
        "local",
    ))
}
