//! What every handler knows about its request: id, source address, start.

use std::net::IpAddr;
use std::time::Instant;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::headers::X_REQUEST_ID;

#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// API Gateway's request id (locally, a fresh one): what the service's
    /// logs, audit records and answers go by.
    pub request_id: String,
    /// The caller's own `x-request-id`, kept beside the service's id and
    /// never instead of it: a client cannot choose or collide with the id
    /// that ties a request to the gateway's logs.
    pub client_request_id: Option<String>,
    /// From API Gateway's request context, never from a client header.
    pub source_ip: Option<IpAddr>,
    pub started: Instant,
}

impl RequestMeta {
    pub fn from_request(request: &Request) -> Self {
        let context = request.request_context_ref();
        let (gateway_id, source_ip) = match context {
            Some(RequestContext::ApiGatewayV2(ctx)) => (
                ctx.request_id.clone(),
                ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
            ),
            _ => (None, None),
        };
        let client_id = request
            .headers()
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_safe_request_id(id))
            .map(str::to_owned);
        Self {
            request_id: gateway_id
                .filter(|id| is_safe_request_id(id))
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            client_request_id: client_id,
            source_ip,
            started: Instant::now(),
        }
    }
}

impl RequestMeta {
    /// Where the request came from, as use cases record it.
    pub fn origin(&self) -> crate::usecases::Origin {
        crate::usecases::Origin {
            request_id: self.request_id.clone(),
            client_request_id: self.client_request_id.clone(),
            source_ip: self.source_ip,
        }
    }
}

/// A caller-supplied id is echoed into logs and headers: only short,
/// plain ids are taken (API Gateway's own ids end in `=`).
fn is_safe_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_plain() {
        assert!(is_safe_request_id("abc-123_x.y"));
        assert!(!is_safe_request_id(""));
        assert!(!is_safe_request_id("a\nb"));
        assert!(!is_safe_request_id(&"a".repeat(129)));
        assert!(!is_safe_request_id("<script>"));
    }
}
