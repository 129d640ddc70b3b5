//! The HTTP layer: request bodies in, the envelope out, one mapping from
//! typed errors to statuses, security headers and request ids.

pub mod admin;
pub mod auth;
pub mod base_url;
pub mod body;
#[cfg(feature = "compress")]
pub mod compress;
pub mod error;
pub mod error_mapping;
pub mod headers;
pub mod meta;
pub mod pagination;
pub mod pipeline;
pub mod reply;
pub mod routes;
pub mod views;

pub use error::ApiError;
pub use meta::RequestMeta;
pub use pipeline::{respond, respond_error};
pub use reply::Reply;
