//! `POST /auth/phone/login`: `{phone_number, code, device_id?,
//! device_info?}`; a phone account signs in with a `login` code and gets
//! the phone sign-up's top-level answer.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::app::{StartupError, Stores};
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::domain::phone_number::{load_numbering_plans, PhoneRegion};
use shared::domain::SessionPolicy;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::tokens::jwt::TokenSettings;
use shared::tokens::keyring::KeyRing;
use shared::usecases::phone_login::{PhoneLoggedIn, PhoneLogin};

pub struct State {
    pub tokens: TokenSettings,
    pub sessions: SessionPolicy,
    pub stores: Stores,
    pub ring: Arc<KeyRing>,
    pub phone_keys: Arc<PhoneKeyRing>,
    pub region: PhoneRegion,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let (stores, config) = (&resources.stores, &resources.config);
        std::thread::spawn(load_numbering_plans);
        Ok(Self {
            tokens: config.tokens.clone(),
            sessions: config.sessions,
            stores: stores.clone(),
            ring: resources.signing_keys()?,
            phone_keys: stores
                .phone_keys()
                .ok_or(StartupError::NotProvided("the phone keys"))?,
            region: config.phone_region()?,
        })
    }
}

/// The 200 body: the phone sign-up's top-level shape.
#[derive(Serialize)]
struct LoggedInBody<'a> {
    success: bool,
    message: &'static str,
    user: PhoneUserBody<'a>,
    access_token: &'a str,
    refresh_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    needs_profile: bool,
    is_new_account: bool,
    is_new_device: bool,
    active_devices_count: u32,
    location_id: Option<String>,
}

#[derive(Serialize)]
struct PhoneUserBody<'a> {
    id: String,
    phone_number: &'a str,
    name: &'a str,
    country_code: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
}

fn body(logged_in: &PhoneLoggedIn) -> LoggedInBody<'_> {
    let user = &logged_in.user;
    let tokens = logged_in.tokens.view();
    LoggedInBody {
        success: true,
        message: "Login successful",
        user: PhoneUserBody {
            id: user.id.to_string(),
            phone_number: user.phone.as_e164(),
            name: user.name.as_str(),
            country_code: user.phone.country_code(),
            created_at: user.created_at,
        },
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
        needs_profile: user.needs_profile,
        is_new_account: false,
        is_new_device: logged_in.is_new_device,
        active_devices_count: logged_in.active_devices_count,
        location_id: user.location_id.map(|id| id.to_string()),
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PhoneLogin, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let signing_keys = state.ring.current().await?;
        let phone_keys = state.phone_keys.current().await.map_err(ApiError::from)?;
        let login = PhoneLogin {
            phone_users: state.stores.phone_users(),
            codes: state.stores.phone_codes(),
            audit: state.stores.audit(),
            clock: state.stores.clock.as_ref(),
            phone_keys: &phone_keys,
            signing_keys: &signing_keys,
            token_settings: &state.tokens,
            session_policy: state.sessions,
            region: state.region,
        };
        let logged_in = login
            .run(&fields, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(logged_in.user.id));
        Reply::bare(StatusCode::OK, &body(&logged_in))
    })
    .await
}
