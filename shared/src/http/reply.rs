//! Successful responses in the common envelope.

use http::header::{HeaderName, HeaderValue};
use http::StatusCode;
use serde::Serialize;

use super::error::ApiError;

/// A success, already serialised: `{success: true, message, data, meta?}`.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// Set after the security headers, so they may override one.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Envelope<'a, D: Serialize, M: Serialize> {
    success: bool,
    message: &'a str,
    data: &'a D,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<&'a M>,
}

impl Reply {
    pub fn new(status: StatusCode, message: &str, data: &impl Serialize) -> Result<Self, ApiError> {
        Self::build(status, message, data, None::<&()>)
    }

    /// A page of a list, with its pagination `meta`.
    pub fn page(
        status: StatusCode,
        message: &str,
        data: &impl Serialize,
        meta: &impl Serialize,
    ) -> Result<Self, ApiError> {
        Self::build(status, message, data, Some(meta))
    }

    fn build<D: Serialize, M: Serialize>(
        status: StatusCode,
        message: &str,
        data: &D,
        meta: Option<&M>,
    ) -> Result<Self, ApiError> {
        let envelope = Envelope {
            success: true,
            message,
            data,
            meta,
        };
        Self::bare(status, &envelope)
    }

    /// A body without the envelope, for documents whose format is fixed by
    /// a standard (the JWKS).
    pub fn bare(status: StatusCode, body: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(body).map_err(|e| ApiError::internal(Box::new(e)))?;
        Ok(Self {
            status,
            body,
            headers: Vec::new(),
        })
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}
