//! `POST /auth/signup/`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::StartupError;
use shared::crypto::PasswordHasher;
use shared::domain::{ProfileFields, Quota};
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::UserView;
use shared::http::{respond, ApiError, Reply};
use shared::ports::{AuditLog, Clock, UserStore};
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::signup::SignUp;

pub struct State {
    /// The mobile clients post their phone sign-up here too (see
    /// [`is_phone_sign_up`]).
    pub phone: phone_signup::State,
    pub users: Arc<dyn UserStore>,
    pub audit: Arc<dyn AuditLog>,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub quota: Option<Quota>,
    pub profile_fields: ProfileFields,
    pub signup_credits: u32,
}

impl Endpoint for State {
    /// The phone sign-up issues tokens.
    const NEEDS: Needs = phone_signup::State::NEEDS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let stores = &resources.stores;
        Ok(Self {
            phone: phone_signup::State::build(resources)?,
            users: stores.users_handle(),
            audit: stores.audit_handle(),
            hasher: resources.hasher()?,
            clock: stores.clock.clone(),
            quota: resources.config.signup_ip_quota,
            profile_fields: resources.config.profile_fields,
            signup_credits: resources.config.credits.signup_credits,
        })
    }
}

/// A body with `phone_number` and neither `username` nor `email` is the
/// mobile clients' phone sign-up. This function links the phone sign-up's
/// handler and hands such bodies to it (the phone keys are here already,
/// for the contact numbers); the other functions stay without it.
fn is_phone_sign_up(request: &Request) -> bool {
    let Ok(fields) = json_object(request) else {
        return false;
    };
    fields.contains_key("phone_number")
        && !fields.contains_key("username")
        && !fields.contains_key("email")
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    if is_phone_sign_up(&request) {
        return phone_signup::handle(&state.phone, request).await;
    }
    respond(RouteId::SignUp, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let origin = meta.origin();
        let sign_up = SignUp {
            users: state.users.as_ref(),
            audit: state.audit.as_ref(),
            hasher: &state.hasher,
            clock: state.clock.as_ref(),
            quota: state.quota,
            fields: &state.profile_fields,
            signup_credits: state.signup_credits,
        };
        let user = sign_up
            .run(&fields, &origin)
            .await
            .map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        let view =
            UserView::new(&user, &state.profile_fields).with_message("User created successfully.");
        Reply::new(
            StatusCode::CREATED,
            "User created successfully",
            &json!({ "user": view }),
        )
    })
    .await
}
