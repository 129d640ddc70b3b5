//! `GET /users/me/devices`: devices with their live sessions and push
//! tokens.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::http::routes::RouteId;
use shared::http::{respond, Reply};
use shared::usecases::devices::Devices;

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Devices, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let devices = Devices {
            sessions: state.stores.sessions(),
            push_tokens: state.stores.push_tokens(),
            audit: state.stores.audit(),
            clock: state.stores.clock.as_ref(),
        };
        let list = devices
            .list(principal.account.id(), principal.session.id)
            .await?;
        Reply::new(StatusCode::OK, "Devices retrieved", &list)
    })
    .await
}
