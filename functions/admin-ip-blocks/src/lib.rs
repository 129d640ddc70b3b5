//! `/admin/ip-blocks`: the phone sign-up's IP block list, as the `admin`
//! command's `ip-block list|add|remove` were. A change reaches running
//! functions within the list's refresh interval (60 s by default).
//!
//! A block's `id` is its canonical network with `/` written `_`
//! (`203.0.113.0_24`), so that it fits one path segment.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::domain::errors::FieldErrors;
use shared::domain::form::Form;
use shared::domain::ip_block::IpBlock;
use shared::domain::{AuditAction, AuditOutcome};
use shared::http::admin::Operator;
use shared::http::body::{json_object, no_fields, path_parameter};
use shared::http::routes::{match_route, RouteId, RouteMatch};
use shared::http::{respond, ApiError, Reply};
use shared::usecases::Origin;

/// The admin gate and the stores, built once per cold start.
pub type State = shared::serve::AdminState;

/// The path segment naming a block.
pub fn block_id(network: &ipnet::IpNet) -> String {
    network.to_string().replace('/', "_")
}

fn view(block: &IpBlock) -> Value {
    json!({
        "id": block_id(&block.network),
        "network": block.network.to_string(),
        "reason": block.reason,
        "created_at": block
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "created_by": block.created_by,
    })
}

async fn audit(
    state: &State,
    action: AuditAction,
    network: &ipnet::IpNet,
    operator: &Operator,
    origin: &Origin,
) -> Result<(), ApiError> {
    let mut record = origin.audit(action, AuditOutcome::Success, state.stores.clock.now());
    record.subject = Some(network.to_string());
    record.actor = Some(operator.actor.clone());
    state.stores.audit().record(&record).await?;
    Ok(())
}

/// `GET /admin/ip-blocks`.
pub async fn list(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AdminIpBlocks, request, |_, request| async move {
        state.gate.authorise(&request)?;
        let blocks = state.stores.ip_blocks().list().await?;
        let blocks: Vec<Value> = blocks.iter().map(view).collect();
        Reply::new(StatusCode::OK, "IP blocks", &json!({ "blocks": blocks }))
    })
    .await
}

/// `POST /admin/ip-blocks` `{network, reason}` → 201. Adding a network
/// that is blocked already replaces its reason, time and author.
pub async fn create(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminIpBlockCreate,
        request,
        |meta, request| async move {
            let operator = state.gate.authorise(&request)?;
            let fields = json_object(&request)?;
            let form = Form::new(&fields);
            let mut errors = FieldErrors::new();
            let network = errors.collect("network", form.required_text("network"));
            let reason = errors.collect("reason", form.required_text("reason"));
            let (Some(network), Some(reason)) = (network, reason) else {
                return Err(ApiError::validation(errors));
            };
            // The author is the operator; an ARN longer than the field
            // keeps its end, which names the role and session.
            let author: String = {
                let chars: Vec<char> = operator.actor.chars().collect();
                let start = chars
                    .len()
                    .saturating_sub(shared::domain::ip_block::CREATED_BY_MAX_CHARS);
                chars[start..].iter().collect()
            };
            let now = state.stores.clock.now();
            let block =
                IpBlock::new(network, reason, Some(&author), now).map_err(ApiError::validation)?;
            state.stores.ip_blocks().add(&block).await?;
            audit(
                state,
                AuditAction::AdminIpBlockAdd,
                &block.network,
                &operator,
                &meta.origin(),
            )
            .await?;
            Reply::new(StatusCode::CREATED, "IP block added", &view(&block))
        },
    )
    .await
}

/// `DELETE /admin/ip-blocks/{id}`.
pub async fn delete(state: &State, request: Request) -> Response<Body> {
    respond(
        RouteId::AdminIpBlockDelete,
        request,
        |meta, request| async move {
            let operator = state.gate.authorise(&request)?;
            let network = path_parameter(&request, "id", |id| {
                let network = IpBlock::parse_network(&id.replace('_', "/")).ok()?;
                // Only the canonical spelling names a block.
                (block_id(&network) == id).then_some(network)
            })?;
            no_fields(&request)?;
            if !state.stores.ip_blocks().remove(&network).await? {
                return Err(ApiError::not_found());
            }
            audit(
                state,
                AuditAction::AdminIpBlockRemove,
                &network,
                &operator,
                &meta.origin(),
            )
            .await?;
            Reply::new(
                StatusCode::OK,
                "IP block removed",
                &json!({ "id": block_id(&network), "network": network.to_string() }),
            )
        },
    )
    .await
}

/// The Lambda's entry point: API Gateway sends it every `/admin/ip-blocks`
/// route.
pub async fn handle(state: &State, request: Request) -> Response<Body> {
    match match_route(request.method().as_str(), request.uri().path()) {
        RouteMatch::Found { route, .. } if route.id == RouteId::AdminIpBlockCreate => {
            create(state, request).await
        }
        RouteMatch::Found { route, .. } if route.id == RouteId::AdminIpBlockDelete => {
            delete(state, request).await
        }
        _ => list(state, request).await,
    }
}
