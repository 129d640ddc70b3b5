//! `GET /users/me/credits`: the balance and a page of the ledger.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::errors::{FieldError, FieldErrors};
use shared::domain::LedgerPosition;
use shared::http::pagination::{cursor_limit, query_value, CursorMeta};
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::usecases::credits::{CreditStatement, Credits};

/// Stores, keys and the authentication layer, built once per cold start.
pub type State = shared::serve::SignedInState;

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Credits, request, |_, request| async move {
        let principal = state.auth.authenticate(&request).await?;
        let limit = cursor_limit(&request)?;
        let after = match query_value(&request, "cursor") {
            None => None,
            Some(cursor) => Some(LedgerPosition::from_cursor(&cursor).ok_or_else(|| {
                ApiError::validation(FieldErrors::single(
                    "cursor",
                    FieldError::invalid("Not a cursor this list issued."),
                ))
            })?),
        };
        let credits = Credits {
            store: state.stores.credits(),
            clock: state.stores.clock.as_ref(),
        };
        let page = credits
            .statement(principal.account.id(), limit, after.as_ref())
            .await?;
        let meta = CursorMeta {
            limit,
            next_cursor: page.next.as_ref().map(|p| p.as_str().to_owned()),
        };
        Reply::page(
            StatusCode::OK,
            "Credits",
            &CreditStatement::new(&page),
            &meta,
        )
    })
    .await
}
