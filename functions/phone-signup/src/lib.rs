//! `POST /auth/phone/signup`: the handler and the state it needs.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{StartupError, Stores};
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::domain::phone_number::{load_numbering_plans, PhoneRegion};
use shared::domain::{Quota, SessionPolicy};
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::{PhoneSessionFacts, PhoneSessionView};
use shared::http::{respond, ApiError, Reply};
use shared::ports::ip_blocks::BlockListCache;
use shared::serve::{Endpoint, Needs, Resources};
use shared::session_tokens::jwt::SessionTokenSettings;
use shared::session_tokens::keyring::KeyRing;
use shared::usecases::phone_signup::{PhoneSignUp, PhoneSignedUp, SignUpCodeCheck};

pub struct State {
    pub session_tokens: SessionTokenSettings,
    pub sessions: SessionPolicy,
    pub quota: Option<Quota>,
    pub signup_credits: u32,
    pub stores: Stores,
    pub ring: Arc<KeyRing>,
    pub region: PhoneRegion,
    /// Read on first use, refreshed every `IP_BLOCKS_REFRESH_SECONDS`.
    pub blocks: BlockListCache,
    /// `PHONE_SIGNUP_VERIFY`: sign-ups need a `signup` code.
    pub verify: bool,
    pub phone_keys: Option<Arc<PhoneKeyRing>>,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let (stores, config) = (&resources.stores, &resources.config);
        // The numbering plans take about 80 ms to load (thousands of
        // regexes checked). A thread loads them while the runtime starts and
        // asks for the first event, so init does not wait for them; a
        // request arriving sooner waits only for the rest of the load.
        std::thread::spawn(load_numbering_plans);
        Ok(Self {
            session_tokens: config.session_tokens.clone(),
            sessions: config.sessions,
            quota: config.signup_ip_quota,
            signup_credits: config.credits.signup_credits,
            stores: stores.clone(),
            ring: resources.signing_keys()?,
            region: config.phone_region()?,
            blocks: BlockListCache::new(stores.ip_blocks_handle(), config.ip_blocks_refresh),
            verify: config.phone_signup_verify,
            phone_keys: stores.phone_keys(),
        })
    }
}

fn body(signed_up: &PhoneSignedUp) -> PhoneSessionView<'_> {
    let facts = PhoneSessionFacts {
        is_new_account: true,
        is_new_device: signed_up.is_new_device,
        active_devices_count: signed_up.active_devices_count,
    };
    PhoneSessionView::new(
        "User registered successfully",
        &signed_up.user,
        &signed_up.tokens,
        facts,
    )
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PhoneSignUp, request, |meta, request| async move {
        let fields = json_object(&request)?;
        let keys = state.ring.current().await?;
        let phone_keys = match (&state.phone_keys, state.verify) {
            (Some(ring), true) => Some(ring.current().await.map_err(ApiError::from)?),
            (None, true) => {
                return Err(ApiError::internal(
                    "PHONE_SIGNUP_VERIFY needs the phone keys".into(),
                ))
            }
            (_, false) => None,
        };
        let origin = meta.origin();
        let sign_up = PhoneSignUp {
            phone_users: state.stores.phone_users(),
            audit: state.stores.audit(),
            blocks: &state.blocks,
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            token_settings: &state.session_tokens,
            session_policy: state.sessions,
            region: state.region,
            quota: state.quota,
            signup_credits: state.signup_credits,
            verification: phone_keys.as_deref().map(|keys| SignUpCodeCheck {
                codes: state.stores.phone_codes(),
                keys,
            }),
        };
        let signed_up = sign_up
            .run(&fields, &origin)
            .await
            .map_err(ApiError::from)?;
        tracing::Span::current().record("user_id", tracing::field::display(signed_up.user.id));
        Reply::bare(StatusCode::CREATED, &body(&signed_up))
    })
    .await
}
