//! Every request body the API reads, each declared once with
//! [`request_body!`](crate::request_body): the handlers parse them, the use
//! cases take them, and the OpenAPI document describes them.

pub mod account;
pub mod avatar;
pub mod billing;
pub mod credits;
pub mod email;
pub mod login;
pub mod passwords;
pub mod phone;
pub mod preferences;
pub mod push_tokens;
pub mod sessions;
pub mod tasks;
