//! `DELETE /users/me/devices/{id}`: ends that device's sessions and forgets it.

use http::StatusCode;
use lambda_http::RequestExt;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::DeviceId;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::devices::Devices;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::DeviceDelete, request, |meta, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        // Another user's device, or none: the same 404.
        let device_id = request
            .path_parameters_ref()
            .and_then(|params| params.first("id"))
            .and_then(|id| DeviceId::parse(id).ok())
            .ok_or_else(ApiError::not_found)?;
        let origin = meta.origin();
        let devices = Devices {
            sessions: state.stores.sessions(),
            push_tokens: state.stores.push_tokens(),
            audit: state.stores.audit(),
            clock: state.stores.clock.as_ref(),
        };
        if !devices
            .remove(principal.account.id(), &device_id, &origin)
            .await?
        {
            return Err(ApiError::not_found());
        }
        Reply::new(
            StatusCode::OK,
            "Device removed",
            &json!({ "device_id": device_id.as_str() }),
        )
    })
    .await
}
