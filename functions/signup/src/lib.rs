//! `POST /auth/signup/`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::StartupError;
use shared::crypto::PasswordHasher;
use shared::domain::Quota;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::UserView;
use shared::http::{respond, ApiError, Reply};
use shared::ports::{AuditLog, Clock, UserStore};
use shared::serve::{Endpoint, Resources};
use shared::usecases::signup::SignUp;

pub struct State {
    pub users: Arc<dyn UserStore>,
    pub audit: Arc<dyn AuditLog>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub quota: Option<Quota>,
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let stores = &resources.stores;
        Ok(Self {
            users: stores.users_handle(),
            audit: stores.audit_handle(),
            hasher: resources.hasher()?,
            clock: stores.clock.clone(),
            quota: resources.config.signup_ip_quota,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::SignUp, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let origin = meta.origin();
        let sign_up = SignUp {
            users: state.users.as_ref(),
            audit: state.audit.as_ref(),
            hasher: &state.hasher,
            clock: state.clock.as_ref(),
            quota: state.quota,
        };
        let user = sign_up
            .run(&fields, &origin)
            .await
            .map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        let view = UserView::new(&user).with_message("User created successfully.");
        Reply::new(
            StatusCode::CREATED,
            "User created successfully",
            &json!({ "user": view }),
        )
    })
    .await
}
