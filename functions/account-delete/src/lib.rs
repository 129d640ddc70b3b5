//! `DELETE /users/me`: `{"password": …}` (phone accounts: `{"phone_number":
//! …}`). The account is deactivated and every session ended at once; a
//! background task deletes its data. 202 with the task.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::StartupError;
use shared::crypto::PasswordHasher;
use shared::domain::LockoutPolicy;
use shared::http::body::json_request;
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::serve::{AccountTaskingState, Endpoint, Needs, Resources};
use shared::usecases::account_tasks::DeleteAccount;

/// The tasking state, the hasher and the lockout policy (the password
/// confirms the deletion), built once per cold start.
pub struct State {
    pub tasking: AccountTaskingState,
    pub hasher: PasswordHasher,
    pub lockout: LockoutPolicy,
}

impl Endpoint for State {
    const NEEDS: Needs = AccountTaskingState::NEEDS;

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self {
            tasking: AccountTaskingState::build(resources)?,
            hasher: resources.hasher()?,
            lockout: resources.config.lockout,
        })
    }
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AccountDelete,
        request,
        |meta, request| async move {
            let principal = state.tasking.auth.authenticate(&request).await?;
            let body = json_request(&request)?;
            let delete = DeleteAccount {
                data: state.tasking.stores.account_data(),
                sessions: state.tasking.stores.sessions(),
                hasher: &state.hasher,
                clock: state.tasking.stores.clock.as_ref(),
                lockout: state.lockout,
            };
            let task = delete
                .run(
                    &principal.open_account().await?,
                    &body,
                    state.tasking.queue.as_ref(),
                    &meta.origin(),
                )
                .await
                .map_err(ApiError::from)?;
            Reply::new(
                StatusCode::ACCEPTED,
                "Account deletion started",
                &json!({ "task_id": task.id.to_string(), "status": task.status.as_str() }),
            )
        },
    )
    .await
}
