//! Use cases: one module per operation, each with its own error type.

pub mod signup;
pub mod signup_form;

use std::net::IpAddr;

/// Where a request came from, for audit records.
#[derive(Debug, Clone)]
pub struct Origin {
    pub request_id: String,
    pub source_ip: Option<IpAddr>,
}
