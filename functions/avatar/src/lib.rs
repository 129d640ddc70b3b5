//! `/users/me/avatar`: `POST` hands out an S3 presigned POST for one
//! upload, `GET` tells the avatar's state (with a short-lived link when
//! ready), `DELETE` removes it and its files. The upload is checked by the
//! `avatar-processor` function, which S3 triggers.

use std::sync::Arc;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::adapters::bucket_signer::BucketSigner;
use shared::app::{StartupError, Stores};
use shared::http::auth::Authenticator;
use shared::http::body::{json_request, no_fields};
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond, ApiError, Reply};
use shared::serve::{Endpoint, Needs, Resources};
use shared::usecases::avatars::Avatars;

pub struct State {
    pub auth: Authenticator,
    pub stores: Stores,
    pub signer: Arc<BucketSigner>,
}

impl Endpoint for State {
    const NEEDS: Needs = Needs::KEYS_AND_AVATAR_LINKS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            auth: resources.authenticator()?,
            stores: resources.stores.clone(),
            signer: resources.bucket_signer()?,
        })
    }
}

impl State {
    fn avatars(&self) -> Avatars<'_> {
        Avatars {
            store: self.stores.avatars(),
            objects: self.stores.objects.as_ref(),
            signer: &self.signer,
            clock: self.stores.clock.as_ref(),
        }
    }
}

pub async fn upload(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AvatarUpload, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let body = json_request(&request)?;
        let form = state
            .avatars()
            .start_upload(principal.account.id(), body)
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::CREATED, "Upload the file with this form", &form)
    })
    .await
}

pub async fn show(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AvatarGet, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let view = state
            .avatars()
            .view(principal.account.id())
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Avatar", &view)
    })
    .await
}

pub async fn remove(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AvatarDelete, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        no_fields(&request)?;
        state
            .avatars()
            .remove(principal.account.id())
            .await
            .map_err(ApiError::from)?;
        Reply::new(StatusCode::OK, "Avatar removed", &json!({"status": "none"}))
    })
    .await
}

/// The Lambda serves the three routes: each request goes to its own.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    let route = match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::Found { route, .. } => Some(route.id),
        _ => None,
    };
    match route {
        Some(RouteId::AvatarUpload) => upload(state, request).await,
        Some(RouteId::AvatarDelete) => remove(state, request).await,
        _ => show(state, request).await,
    }
}
