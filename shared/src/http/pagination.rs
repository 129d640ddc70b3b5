//! `?page=N&limit=M` lists: parsing the query and the `meta` of docs/API.md.

use lambda_http::{Request, RequestExt};
use serde::Serialize;

use super::error::ApiError;
use crate::domain::errors::{FieldError, FieldErrors};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// The first value of query parameter `name`. API Gateway hands the query
/// over parsed; a request built from a URI (the local server, tests) has
/// it in the URI only.
pub fn query_value(request: &Request, name: &str) -> Option<String> {
    if let Some(query) = request.query_string_parameters_ref() {
        return query.first(name).map(str::to_owned);
    }
    request
        .uri()
        .query()
        .and_then(|q| {
            q.parse::<lambda_http::aws_lambda_events::query_map::QueryMap>()
                .ok()
        })
        .and_then(|q| q.first(name).map(str::to_owned))
}

/// `meta` of a list read by cursor: pass `next_cursor` back as `cursor`
/// for the next page; null on the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CursorMeta {
    pub limit: usize,
    pub next_cursor: Option<String>,
}

/// `limit` 1–100 (default 20) of a cursor-paged list; 400 otherwise.
pub fn cursor_limit(request: &Request) -> Result<usize, ApiError> {
    match query_value(request, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::validation(FieldErrors::single(
                "limit",
                FieldError::invalid(format!("Must be a whole number from 1 to {MAX_LIMIT}.")),
            ))),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// From 1.
    pub page: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageMeta {
    pub total: usize,
    pub limit: usize,
    pub page: usize,
    pub total_pages: usize,
    pub has_next: bool,
    pub has_previous: bool,
}

impl PageRequest {
    /// `page` ≥ 1 (default 1), `limit` 1–100 (default 20); anything else
    /// is a 400 naming the parameter.
    pub fn from_request(request: &Request) -> Result<Self, ApiError> {
        let value = |name: &str| query_value(request, name);
        let mut errors = FieldErrors::new();
        let mut number = |name: &str, default: usize, max: usize| -> usize {
            match value(name) {
                None => default,
                Some(text) => match text.trim().parse::<usize>() {
                    Ok(n) if (1..=max).contains(&n) => n,
                    _ => {
                        errors.add(
                            name,
                            FieldError::invalid(format!("Must be a whole number from 1 to {max}.")),
                        );
                        default
                    }
                },
            }
        };
        let page = number("page", 1, 1_000_000);
        let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
        if errors.is_empty() {
            Ok(Self { page, limit })
        } else {
            Err(ApiError::validation(errors))
        }
    }

    /// This page of `items`, and its meta.
    pub fn slice<T: Clone>(&self, items: &[T]) -> (Vec<T>, PageMeta) {
        let total = items.len();
        let total_pages = total.div_ceil(self.limit);
        let start = (self.page - 1).saturating_mul(self.limit).min(total);
        let end = (start + self.limit).min(total);
        let meta = PageMeta {
            total,
            limit: self.limit,
            page: self.page,
            total_pages,
            has_next: self.page < total_pages,
            has_previous: self.page > 1,
        };
        (items[start..end].to_vec(), meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_middle_last_and_beyond() {
        let items: Vec<u32> = (0..45).collect();
        let page = |page| PageRequest { page, limit: 20 }.slice(&items);
        let (first, meta) = page(1);
        assert_eq!(
            (
                first.len(),
                meta.total_pages,
                meta.has_next,
                meta.has_previous
            ),
            (20, 3, true, false)
        );
        let (middle, meta) = page(2);
        assert_eq!(
            (middle[0], meta.has_next, meta.has_previous),
            (20, true, true)
        );
        let (last, meta) = page(3);
        assert_eq!(
            (last.len(), meta.has_next, meta.has_previous),
            (5, false, true)
        );
        let (beyond, meta) = page(4);
        assert_eq!((beyond.len(), meta.has_next), (0, false));
        let (empty, meta) = PageRequest { page: 1, limit: 20 }.slice::<u32>(&[]);
        assert_eq!(
            (empty.len(), meta.total_pages, meta.has_next),
            (0, 0, false)
        );
    }
}
