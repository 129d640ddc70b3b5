//! `POST /auth/phone/otp`: `{phone_number, purpose?}`; texts a six-digit
//! code (through the outbox) when the purpose fits the number: `login` to
//! a number with an account, `signup` to one without. Always 202 with the
//! same body and the same reads and writes, so the answer reveals nothing.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::{StartupError, Stores};
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::domain::phone_number::{load_numbering_plans, PhoneRegion};
use shared::domain::SmsCountries;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Resources};
use shared::usecases::phone_code::{PhoneCodeRequests, SmsSettings};

pub struct State {
    pub stores: Stores,
    pub phone_keys: Arc<PhoneKeyRing>,
    pub region: PhoneRegion,
    pub countries: SmsCountries,
    pub settings: SmsSettings,
}

impl Endpoint for State {
    fn build(resources: &Resources) -> Result<Self, StartupError> {
        let (stores, config) = (&resources.stores, &resources.config);
        // See phone-signup: the numbering plans load beside the runtime.
        std::thread::spawn(load_numbering_plans);
        Ok(Self {
            stores: stores.clone(),
            phone_keys: stores
                .phone_keys()
                .ok_or(StartupError::NotProvided("the phone keys"))?,
            region: config.phone_region()?,
            countries: config.sms_countries()?,
            settings: config.sms.clone(),
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::PhoneOtp, request, |meta, request| async move {
        let body = json_request(&request)?;
        let keys = state.phone_keys.current().await.map_err(ApiError::from)?;
        let requests = PhoneCodeRequests {
            phone_users: state.stores.phone_users(),
            codes: state.stores.phone_codes(),
            clock: state.stores.clock.as_ref(),
            keys: &keys,
            settings: &state.settings,
            countries: &state.countries,
            region: state.region,
        };
        let answer = requests
            .run(body, &meta.origin())
            .await
            .map_err(ApiError::from)?;
        Reply::new(
            StatusCode::ACCEPTED,
            "If the number can receive it, a code is on its way",
            &answer,
        )
    })
    .await
}
