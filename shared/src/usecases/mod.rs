//! Use cases: one module per operation, each with its own error type.

pub mod account;
pub mod account_tasks;
pub mod admin;
pub mod avatars;
pub mod checkout;
pub mod cleanup;
pub mod credits;
pub mod current_password;
pub mod devices;
pub mod email_links;
pub mod email_templates;
pub mod key_rotation;
pub mod login;
pub mod login_form;
pub mod new_password;
pub mod notification_profile;
pub mod notify;
pub mod payments;
pub mod phone_code;
pub mod phone_login;
pub mod phone_profile;
pub mod phone_signup;
pub mod phone_signup_form;
pub mod pre_register;
pub mod profile_form;
pub mod refresh;
pub mod relay;
pub mod session_tokens;
pub mod signup;
pub mod signup_form;
pub mod task_runner;
pub mod task_worker;
pub mod tasks;

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{AuditAction, AuditOutcome, AuditRecord};

/// Where a request came from, for audit records.
#[derive(Debug, Clone)]
pub struct Origin {
    pub request_id: String,
    /// The caller's `x-request-id`, recorded beside `request_id`.
    pub client_request_id: Option<String>,
    pub source_ip: Option<IpAddr>,
}

impl Origin {
    /// An audit record of this request; callers add user, subject, reasons.
    pub fn audit(
        &self,
        action: AuditAction,
        outcome: AuditOutcome,
        at: OffsetDateTime,
    ) -> AuditRecord {
        AuditRecord {
            id: Uuid::new_v4(),
            at,
            action,
            outcome,
            user_id: None,
            subject: None,
            source_ip: self.source_ip.map(|ip| ip.to_string()),
            device_id: None,
            request_id: self.request_id.clone(),
            client_request_id: self.client_request_id.clone(),
            reasons: Vec::new(),
            actor: None,
        }
    }
}

/// The `field:code` pairs an audit record keeps of rejected fields.
pub(crate) fn audit_reasons(errors: &crate::domain::FieldErrors) -> Vec<String> {
    errors
        .fields()
        .flat_map(|field| {
            errors
                .codes(field)
                .into_iter()
                .map(move |code| format!("{field}:{}", code.as_str()))
        })
        .collect()
}
