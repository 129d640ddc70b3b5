//! `PATCH /users/me` (merge) and `PUT /users/me` (replace): a username
//! account's profile fields under the sign-up rules (username uniqueness kept in the same transaction), or a phone
//! account's name and location. A new email needs `current_password` and
//! waits as `pending_email` until the link mailed to it is confirmed.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::{StartupError, Stores};
use shared::crypto::PasswordHasher;
use shared::domain::Account as SignedIn;
use shared::domain::{LockoutPolicy, ProfileFields};
use shared::http::auth::Authenticator;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::{AccountView, PhoneAccountView};
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::account::UpdateProfile;
use shared::usecases::phone_profile::PhoneProfile;
use shared::usecases::profile_form::Mode;

/// Stores, keys, the authentication layer and the hasher (an email change
/// checks the current password), built once per cold start.
pub struct State {
    pub auth: Authenticator,
    pub stores: Stores,
    pub hasher: PasswordHasher,
    pub lockout: LockoutPolicy,
    pub profile_fields: ProfileFields,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            hasher: resources.hasher()?,
            lockout: resources.config.lockout,
            profile_fields: resources.config.profile_fields,
        })
    }
}

/// `PATCH /users/me`: the fields the body names.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    update(state, request, RouteId::MeUpdate, Mode::Merge).await
}

/// `PUT /users/me`: the whole profile; an optional field left out is
/// cleared, a required one must be there (as at sign-up), the email too.
/// A phone account's profile has no required parts: `PUT` applies its
/// fields as `PATCH` does.
pub async fn replace(state: &State, request: Request) -> Response<Body> {
    update(state, request, RouteId::MeReplace, Mode::Replace).await
}

async fn update(state: &State, request: Request, route: RouteId, mode: Mode) -> Response<Body> {
    respond(route, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = meta.origin();
        match &principal.open_account().await? {
            SignedIn::Member(member) => {
                let update = UpdateProfile {
                    users: state.stores.users(),
                    sessions: state.stores.sessions(),
                    hasher: &state.hasher,
                    clock: state.stores.clock.as_ref(),
                    lockout: state.lockout,
                    fields: &state.profile_fields,
                    mode,
                };
                let user = update
                    .run(member, &fields, &origin)
                    .await
                    .map_err(ApiError::from)?;
                Reply::new(
                    StatusCode::OK,
                    "User updated",
                    &json!({ "user": AccountView::new(&user, &state.profile_fields) }),
                )
            }
            SignedIn::Phone(phone_user) => {
                let profile = PhoneProfile {
                    phone_users: state.stores.phone_users(),
                    clock: state.stores.clock.as_ref(),
                };
                let (user, location) = profile
                    .update(phone_user, &fields, &origin)
                    .await
                    .map_err(ApiError::from)?;
                let location = location.map(|l| {
                    json!({
                        "id": l.id.to_string(),
                        "state": l.state.as_ref().map(|t| t.as_str()),
                        "district": l.district.as_ref().map(|t| t.as_str()),
                        "city_village": l.city_village.as_ref().map(|t| t.as_str()),
                    })
                });
                Reply::new(
                    StatusCode::OK,
                    "User updated",
                    &json!({ "user": PhoneAccountView::new(&user), "location": location }),
                )
            }
        }
    })
    .await
}
