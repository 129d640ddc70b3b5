//! API Gateway's `$default` route: whatever no route matched gets the
//! documented envelope, 405 for a known path with another method, else 404.

use lambda_http::{Body, Request, Response};
use shared::http::routes::{match_route, RouteMatch};
use shared::http::{respond_error, ApiError};

pub const ROUTE: &str = "$default";

pub async fn handle(request: Request) -> Response<Body> {
    let error = match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::MethodNotAllowed { allowed } => ApiError::method_not_allowed(&allowed),
        // A matched route reaching `$default` means the gateway lacks it:
        // to the client that is still an unknown route.
        RouteMatch::Found { .. } | RouteMatch::NotFound => ApiError::not_found(),
    };
    respond_error(ROUTE, request, error).await
}
