//! The OpenAPI 3.1 document of the service, built from the route table and
//! the request and response types. Every route of `ROUTES` must have an
//! operation here (the `match` below is exhaustive), so the document
//! cannot fall behind the routes that template.yaml and the local server
//! follow.

pub(crate) mod admin_paths;
pub(crate) mod auth_paths;
pub(crate) mod avatar_paths;
pub(crate) mod credit_paths;
mod operation;
mod profile;
pub use profile::{deployment_document, document_json};
pub mod response_schemas;
pub mod schemas;
pub(crate) mod service_paths;
pub use service_paths::DOCS_ASSETS;
pub use service_paths::UI_PAGES;
pub(crate) mod user_paths;

use utoipa::openapi::path::Paths;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::OpenApi;

use crate::http::routes::ROUTES;
use operation::{http_method, ADMIN, BEARER};
use response_schemas::*;
use schemas::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "users-service",
        description = "User accounts and authentication. Every JSON answer uses one envelope: \
            `{success: true, message, data, meta?}` or `{success: false, message, errors, \
            request_id}`, where `errors` maps a field name (as the client sent it, or \
            `non_field_errors`, or `system`) to a list of `{message, code}`. Every route \
            also answers with a trailing slash."
    ),
    components(schemas(
        ErrorEnvelope,
        crate::domain::errors::ErrorCode,
        crate::domain::errors::FieldError,
        SignUpRequest,
        SignUpData,
        PhoneSignUpRequest,
        PhoneSignUpResponse,
        PhoneCodeRequest,
        PhoneCodeRequested,
        PhoneLoginRequest,
        LoginRequest,
        LoginData,
        RefreshRequest,
        crate::usecases::session_tokens::TokenPairView,
        LogoutRequest,
        SessionsEndedCount,
        PasswordChangeRequest,
        OtherSessionsEnded,
        Jwks,
        OpenIdConfiguration,
        EmailConfirmRequest,
        EmailVerified,
        EmailRequest,
        Empty,
        PasswordResetConfirmRequest,
        SessionsEnded,
        PreRegistered,
        MeData,
        ProfileUpdateRequest,
        MeUpdateData,
        crate::usecases::devices::DeviceList,
        DeviceRemoved,
        NotificationPreferences,
        PreferencesUpdateRequest,
        PushTokenPage,
        crate::http::pagination::PageMeta,
        PushTokenCreateRequest,
        avatar_paths::AvatarUploadRequest,
        crate::usecases::avatars::UploadView,
        crate::usecases::avatars::UploadFormView,
        crate::usecases::avatars::AvatarView,
        avatar_paths::AvatarRemoved,
        crate::http::views::PushTokenView,
        PushTokenUpdateRequest,
        PushTokenDeleted,
        DeactivatedCount,
        AccountDeleteRequest,
        TaskQueued,
        TaskCreateRequest,
        crate::http::views::TaskView,
        Health,
        ServiceIndex,
        ServiceLinks,
        OpenApiDocument,
        crate::http::pagination::CursorMeta,
        crate::usecases::admin::AuditView,
        crate::domain::AuditAction,
        crate::domain::AuditOutcome,
        admin_paths::AdminUserList,
        admin_paths::AdminDevice,
        admin_paths::AdminSession,
        admin_paths::AdminUserDetail,
        admin_paths::AdminUserData,
        admin_paths::AdminSessionsEnded,
        admin_paths::AdminDeletion,
        admin_paths::AdminUnlocked,
        crate::usecases::admin::LockView,
        admin_paths::AdminAuditPage,
        admin_paths::IpBlockView,
        admin_paths::IpBlockList,
        admin_paths::IpBlockCreateRequest,
        admin_paths::IpBlockRemoved,
        crate::usecases::credits::CreditEntryView,
        crate::usecases::credits::CreditStatement,
        crate::usecases::credits::AdminCreditEntry,
        credit_paths::AdminCreditRequest,
        credit_paths::StripeEvent,
        credit_paths::StripeEventReceived,
        crate::usecases::checkout::CheckoutStarted,
        credit_paths::CheckoutRequest,
    ))
)]
struct Components;

/// The whole document, as `GET /openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = Components::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    if let Some(components) = document.components.as_mut() {
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from login, phone sign-up or refresh (15 minutes).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Operators only. On AWS: IAM, a SigV4-signed request from a principal \
                         allowed execute-api:Invoke on /admin/* (the template's operators' \
                         policy); the bearer scheme here stands for it. Locally: \
                         `Authorization: Bearer <admin token>`, printed by the local server \
                         on start (or ADMIN_TOKEN).",
                    ))
                    .build(),
            ),
        );
    }
    document.tags = Some(
        [
            ("auth", "Sign-up, sessions and mailed links"),
            ("users", "The signed-in user"),
            ("tasks", "Background tasks"),
            ("credits", "Credit balance, ledger and payments"),
            ("operations", "Health and documentation"),
            ("pages", "The service's own pages, for people"),
            (
                "admin",
                "Operators only: accounts, the audit log, the IP block list",
            ),
        ]
        .into_iter()
        .map(|(name, description)| {
            TagBuilder::new()
                .name(name)
                .description(Some(description))
                .build()
        })
        .collect(),
    );
    let mut paths = Paths::new();
    for route in ROUTES {
        paths.add_path_operation(
            route.path,
            vec![http_method(route.method)],
            route.id.operation(),
        );
    }
    document.paths = paths;
    document
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn document_json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => {
                            refs.insert(target.clone());
                        }
                        _ => collect_refs(inner, refs),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
            _ => {}
        }
    }

    #[test]
    fn is_openapi_3_1_and_every_reference_resolves() {
        let document = document_json();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        let mut refs = BTreeSet::new();
        collect_refs(&document, &mut refs);
        assert!(refs.len() > 20, "{refs:?}");
        for target in refs {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{target} is referenced but not defined"
            );
        }
    }

    #[test]
    fn every_request_body_has_an_example_and_every_error_the_envelope() {
        let document = document_json();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let body = &operation["requestBody"]["content"]["application/json"];
                if !operation["requestBody"].is_null() {
                    assert!(body["example"].is_object(), "{method} {path}: no example");
                }
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorEnvelope",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn error_codes_are_those_of_the_contract() {
        let document = document_json();
        let codes = document["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap();
        for code in ["required", "email_conflict", "token_reused", "unavailable"] {
            assert!(codes.iter().any(|c| c == code), "{code} missing");
        }
        assert_eq!(codes.len(), 34);
    }
}
