//! `PATCH /users/me`: a username account's profile fields under the sign-up
//! rules (username and email uniqueness kept in the same transaction), or
//! a phone account's name and location.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::Account as SignedIn;
use shared::http::body::json_object;
use shared::http::routes::RouteId;
use shared::http::views::{AccountView, PhoneAccountView};
use shared::http::{respond, ApiError, Reply};
use shared::usecases::account::Account;
use shared::usecases::phone_profile::PhoneProfile;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::MeUpdate, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let fields = json_object(&request)?;
        let origin = meta.origin();
        match &principal.account {
            SignedIn::Member(member) => {
                let account = Account {
                    users: state.stores.users(),
                    sessions: state.stores.sessions(),
                    audit: state.stores.audit(),
                    clock: state.stores.clock.as_ref(),
                };
                let user = account
                    .update_profile(member, &fields, &origin)
                    .await
                    .map_err(ApiError::from)?;
                Reply::new(
                    StatusCode::OK,
                    "User updated",
                    &json!({ "user": AccountView::new(&user) }),
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
