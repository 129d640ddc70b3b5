//! `POST /auth/phone/login`: `{phone_number, code, device_id?,
//! device_info?}`; a phone account signs in with a `login` code and gets
//! the phone sign-up's top-level answer.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{StartupError, Stores};
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::domain::phone_number::{load_numbering_plans, PhoneRegion};
use shared::domain::request::RequestBody;
use shared::domain::SessionPolicy;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::{PhoneSessionFacts, PhoneSessionView};
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::jwt::SessionTokenSettings;
use shared::session_tokens::keyring::KeyRing;
use shared::usecases::phone_login::{PhoneLoggedIn, PhoneLogin, PhoneLoginRequest};

pub struct State {
    pub session_tokens: SessionTokenSettings,
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
            session_tokens: config.session_tokens.clone(),
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

fn body(logged_in: &PhoneLoggedIn) -> PhoneSessionView<'_> {
    let facts = PhoneSessionFacts {
        is_new_account: false,
        is_new_device: logged_in.is_new_device,
        active_devices_count: logged_in.active_devices_count,
    };
    PhoneSessionView::new(
        "Login successful",
        &logged_in.user,
        &logged_in.tokens,
        facts,
    )
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
            token_settings: &state.session_tokens,
            session_policy: state.sessions,
            region: state.region,
        };
        let origin = meta.origin();
        let logged_in = match PhoneLoginRequest::from_fields(&fields) {
            Ok(body) => login.run(body, &origin).await,
            Err(errors) => Err(login.refuse(errors, &origin).await),
        }
        .map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(logged_in.user.id));
        Reply::bare(StatusCode::OK, &body(&logged_in))
    })
    .await
}
