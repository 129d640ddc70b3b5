//! Every handler runs inside `respond`: request id, span, error mapping,
//! security headers and one log line per request.

use std::future::Future;

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use super::error::ApiError;
use super::headers::apply_security_headers;
use super::meta::RequestMeta;
use super::reply::Reply;
use super::routes::RouteId;
use crate::telemetry::error_chain;

pub async fn respond<F, Fut>(route: RouteId, request: Request, handler: F) -> Response<Body>
where
    F: FnOnce(RequestMeta, Request) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    respond_as(route.label(), request, handler).await
}

/// `respond` under a label that names no route of the table (`$default`,
/// the local server's own answers).
async fn respond_as<F, Fut>(route: &'static str, request: Request, handler: F) -> Response<Body>
where
    F: FnOnce(RequestMeta, Request) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let meta = RequestMeta::from_request(&request);
    let span = tracing::info_span!(
        "request",
        request_id = %meta.request_id,
        client_request_id = tracing::field::Empty,
        route,
        source_ip = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    if let Some(ip) = meta.source_ip {
        span.record("source_ip", tracing::field::display(ip));
    }
    if let Some(id) = &meta.client_request_id {
        span.record("client_request_id", id.as_str());
    }
    let method = request.method().clone();
    async move {
        let mut codes = Vec::new();
        let (status, body, extra_headers) = match handler(meta.clone(), request).await {
            Ok(reply) => (reply.status, reply.body, reply.headers),
            Err(error) => {
                if error.status.is_server_error() {
                    log_cause(&error);
                }
                for field in error.errors.fields() {
                    codes.extend(error.errors.codes(field));
                }
                let body = error.body(&meta.request_id);
                (error.status, body, error.headers)
            }
        };
        // Text, not binary: API Gateway would otherwise get it base64-encoded.
        // Only a compressed body (the pages' files) is binary.
        let body = match String::from_utf8(body) {
            Ok(text) => Body::Text(text),
            Err(binary) => Body::Binary(binary.into_bytes()),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        apply_security_headers(headers, &meta.request_id);
        for (name, value) in extra_headers {
            headers.insert(name, value);
        }
        let latency_ms = meta.started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            method = %method,
            status = status.as_u16(),
            latency_ms,
            "request completed"
        );
        crate::metrics::record_request(route, status.as_u16(), &codes, latency_ms);
        response
    }
    .instrument(span)
    .await
}

/// The cause chain of a server fault, for the log only.
fn log_cause(error: &ApiError) {
    let cause = error
        .cause
        .as_deref()
        .map(|e| error_chain(e))
        .unwrap_or_default();
    tracing::error!(status = error.status.as_u16(), cause = %cause, "request failed");
}

/// A response that is an error before any handler runs: an unknown route
/// (404), a known path with another method (405), a body too large to read.
pub async fn respond_error(
    route: &'static str,
    request: Request,
    error: ApiError,
) -> Response<Body> {
    respond_as(route, request, |_, _| async move { Err::<Reply, _>(error) }).await
}
