//! `POST /auth/token/refresh`: the handler and the state it needs.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::FunctionState;
use shared::domain::errors::{FieldError, FieldErrors};
use shared::domain::form::Form;
use shared::http::body::json_object;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::refresh::Refresh;

pub const ROUTE: &str = "POST /auth/token/refresh";

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = FunctionState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(ROUTE, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let form = Form::new(&fields);
        let token = match fields.get("refresh_token") {
            None | Some(serde_json::Value::Null) => None,
            Some(_) => Some(form.required_secret("refresh_token").map_err(
                |error: FieldError| {
                    ApiError::validation(FieldErrors::single("refresh_token", error))
                },
            )?),
        };
        let keys = state.ring.current().await?;
        let origin = meta.origin();
        let refresh = Refresh {
            sessions: state.stores.sessions(),
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            token_settings: &state.config.tokens,
            policy: state.config.sessions,
        };
        let pair = refresh.run(token, &origin).await.map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Token refreshed", &pair.view())
    })
    .await
}
