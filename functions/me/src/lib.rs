//! `GET /users/me`: the signed-in user (one read: user, session and
//! avatar), with `avatar_url`, a short-lived link, when it has one.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::adapters::bucket_signer::BucketSigner;
use shared::app::{StartupError, Stores};
use shared::domain::ProfileFields;
use shared::http::auth::Authenticator;
use shared::http::routes::RouteId;
use shared::http::views::{MeView, SignedInView};
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::avatars::Avatars;

/// Stores, keys, the authentication layer and the avatar links' signer,
/// built once per cold start.
pub struct State {
    pub auth: Authenticator,
    pub stores: Stores,
    pub signer: Arc<BucketSigner>,
    /// `PROFILE_FIELDS`: which fields the user object shows.
    pub profile_fields: ProfileFields,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS_AND_AVATAR_LINKS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            signer: resources.bucket_signer()?,
            profile_fields: resources.config.profile_fields,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Me, request, |_, request| async move {
        let (principal, avatar) = state
            .auth
            .authenticate_with_avatar(&request, state.stores.avatars())
            .await?;
        let avatars = Avatars {
            store: state.stores.avatars(),
            objects: state.stores.objects.as_ref(),
            signer: &state.signer,
            clock: state.stores.clock.as_ref(),
        };
        let avatar_url = avatars.url(avatar.as_ref()).await.map_err(ApiError::from)?;
        let account = principal.open_account().await?;
        let user = MeView {
            account: SignedInView::new(&account, &state.profile_fields),
            avatar_url,
        };
        Reply::new(StatusCode::OK, "User retrieved", &json!({ "user": user }))
    })
    .await
}
