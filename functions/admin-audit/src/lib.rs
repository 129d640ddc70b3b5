//! `GET /admin/audit?user_id=&since=<RFC 3339>&limit=&cursor=`: the audit
//! log for operators, newest first. Each record names its `actor`: the
//! operator's ARN (`local-admin` locally) or the user's own id.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::errors::{FieldError, FieldErrors};
use shared::domain::UserId;
use shared::http::pagination::{cursor_limit, query_value, CursorMeta};
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::ports::directory::ListingPosition;
use shared::usecases::admin::{Admin, AuditView, AUDIT_DEFAULT_DAYS, AUDIT_MAX_DAYS};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The admin gate and the stores, built once per cold start.
pub type State = shared::serve::AdminState;

fn invalid(field: &str, message: &'static str) -> ApiError {
    ApiError::validation(FieldErrors::single(field, FieldError::invalid(message)))
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::AdminAudit, request, |_, request| async move {
        state.gate.authorise(&request)?;
        let limit = cursor_limit(&request)?;
        let now = state.stores.clock.now();
        let user = match query_value(&request, "user_id") {
            None => None,
            Some(id) => Some(
                id.trim()
                    .parse()
                    .map(UserId::from_uuid)
                    .map_err(|_| invalid("user_id", "Not a user id."))?,
            ),
        };
        let earliest = now - Duration::days(AUDIT_MAX_DAYS);
        let since = match query_value(&request, "since") {
            None => now - Duration::days(AUDIT_DEFAULT_DAYS),
            Some(text) => OffsetDateTime::parse(text.trim(), &Rfc3339)
                .map_err(|_| invalid("since", "Not an RFC 3339 time."))?,
        };
        if since < earliest {
            return Err(invalid("since", "At most 31 days back."));
        }
        let after = match query_value(&request, "cursor") {
            None => None,
            Some(cursor) => Some(
                ListingPosition::from_cursor(&cursor)
                    .ok_or_else(|| invalid("cursor", "Not a cursor this list issued."))?,
            ),
        };
        let admin = Admin {
            directory: state.stores.directory(),
            users: state.stores.users(),
            phone_users: state.stores.phone_users(),
            sessions: state.stores.sessions(),
            audit: state.stores.audit(),
            clock: state.stores.clock.as_ref(),
        };
        let page = admin.audit_page(user, since, after.as_ref(), limit).await?;
        let records: Vec<AuditView> = page.records.iter().map(AuditView::new).collect();
        let meta = CursorMeta {
            limit,
            next_cursor: page.next.as_ref().map(ListingPosition::to_cursor),
        };
        Reply::page(
            StatusCode::OK,
            "Audit records",
            &json!({ "records": records }),
            &meta,
        )
    })
    .await
}
