//! `POST /auth/login`: the handler and the state it needs.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::FunctionState;
use shared::http::body::json_object;
use shared::http::views::AccountView;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::login::LogIn;

pub const ROUTE: &str = "POST /auth/login";

/// Stores, keys, the authentication layer and the hasher, built once per
/// cold start.
pub type State = FunctionState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let keys = state.ring.current().await?;
        let origin = meta.origin();
        let log_in = LogIn {
            users: state.stores.users(),
            sessions: state.stores.sessions(),
            audit: state.stores.audit(),
            hasher: &state.hasher,
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            token_settings: &state.config.tokens,
            session_policy: state.config.sessions,
            lockout: state.config.lockout,
            ip_quota: state.config.login_ip_quota,
            allow_unverified: state.config.allow_unverified_login,
        };
        let logged_in = log_in.run(&fields, &origin).await.map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(logged_in.user.id));
        let mut data = serde_json::to_value(logged_in.tokens.view())
            .map_err(|e| ApiError::internal(Box::new(e)))?;
        data["user"] = json!(AccountView::new(&logged_in.user));
        Reply::new(StatusCode::OK, "Login successful", &data)
    })
    .await
}
