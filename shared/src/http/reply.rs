//! Successful responses in the common envelope.

use http::StatusCode;
use serde::Serialize;

use super::error::ApiError;

/// A success, already serialised: `{success: true, message, data, meta?}`.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
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
        let body = serde_json::to_vec(&envelope).map_err(|e| ApiError::internal(Box::new(e)))?;
        Ok(Self { status, body })
    }
}
