//! Schemas of the `data` the handlers build with `json!`, and of the bare
//! documents (phone sign-up, JWKS, this document). Documentation only; the
//! views the handlers do serialise (`http::views`, the device list, the
//! token pair) derive their schemas where they are defined.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::TaskStatus;
use crate::http::views::{AccountView, PushTokenView, SignedInView, UserView};
use crate::usecases::session_tokens::TokenPairView;

/// `data` of the username sign-up.
#[derive(Serialize, ToSchema)]
pub struct SignUpData {
    pub user: UserView<'static>,
}

/// `data` of a login: the token pair and the user.
#[derive(Serialize, ToSchema)]
pub struct LoginData {
    #[serde(flatten)]
    pub tokens: TokenPairView<'static>,
    pub user: AccountView<'static>,
}

/// The phone sign-up's user.
#[derive(Serialize, ToSchema)]
pub struct PhoneSignUpUser {
    pub id: String,
    pub phone_number: String,
    pub name: String,
    #[schema(example = "+91")]
    pub country_code: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The phone sign-up's 201: top-level fields, no `data`, as the mobile
/// clients expect.
#[derive(Serialize, ToSchema)]
pub struct PhoneSignUpResponse {
    pub success: bool,
    pub message: String,
    pub user: PhoneSignUpUser,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub needs_profile: bool,
    pub is_new_account: bool,
    pub is_new_device: bool,
    pub active_devices_count: u32,
    /// `null` when no location was given.
    pub location_id: Option<String>,
}

/// `data` of a code request: the same whether or not a code was sent.
#[derive(Serialize, ToSchema)]
pub struct PhoneCodeRequested {
    /// Seconds the code is valid (300).
    pub expires_in: i64,
    /// A hint in seconds for the client's "resend" button; the server
    /// enforces only its limits.
    pub resend_after: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsEndedCount {
    pub sessions_ended: u64,
}

#[derive(Serialize, ToSchema)]
pub struct OtherSessionsEnded {
    pub other_sessions_ended: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsEnded {
    pub sessions_ended: bool,
}

#[derive(Serialize, ToSchema)]
pub struct EmailVerified {
    pub email_verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PreRegistered {
    pub email: String,
}

/// The answer of a request whose outcome is not told (202).
#[derive(Serialize, ToSchema)]
pub struct Empty {}

/// `data` of `GET /users/me`.
#[derive(Serialize, ToSchema)]
pub struct MeData {
    pub user: crate::http::views::MeView<'static>,
}

/// A phone account's location after an update.
#[derive(Serialize, ToSchema)]
pub struct Location {
    pub id: String,
    pub state: Option<String>,
    pub district: Option<String>,
    pub city_village: Option<String>,
}

/// `data` of `PATCH /users/me`; `location` only for phone accounts.
#[derive(Serialize, ToSchema)]
pub struct MeUpdateData {
    pub user: SignedInView<'static>,
    pub location: Option<Location>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceRemoved {
    pub device_id: String,
}

/// A queued task (202).
#[derive(Serialize, ToSchema)]
pub struct TaskQueued {
    pub task_id: String,
    pub status: TaskStatus,
}

#[derive(Serialize, ToSchema)]
pub struct PushTokenDeleted {
    pub id: String,
}

/// How many tokens were active before.
#[derive(Serialize, ToSchema)]
pub struct DeactivatedCount {
    pub deactivated: u64,
}

#[derive(Serialize, ToSchema)]
pub struct PushTokenPage {
    pub items: Vec<PushTokenView>,
}

/// One dependency's state.
#[derive(Serialize, ToSchema)]
pub struct HealthCheck {
    #[schema(example = "table")]
    pub name: String,
    /// `ok`, `unavailable` or `timeout`.
    pub status: String,
    pub latency_ms: f64,
}

/// Where a client finds the rest (paths on this host).
#[derive(Serialize, ToSchema)]
pub struct ServiceLinks {
    #[schema(example = "/docs")]
    pub docs: String,
    #[schema(example = "/openapi.json")]
    pub openapi: String,
    #[schema(example = "/health")]
    pub health: String,
    #[schema(example = "/.well-known/jwks.json")]
    pub jwks: String,
    #[schema(example = "/ui/")]
    pub ui: String,
}

/// `GET /`.
#[derive(Serialize, ToSchema)]
pub struct ServiceIndex {
    #[schema(example = "users-service")]
    pub name: String,
    #[schema(example = "0.1.0")]
    pub version: String,
    pub links: ServiceLinks,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    pub checks: Vec<HealthCheck>,
}

/// A public signing key: a P-256 key (`kty` `EC`, `x` and `y`; RFC 7518)
/// for `ES256`, or an Ed25519 key (`kty` `OKP`, `x`; RFC 8037) for `EdDSA`.
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    /// `EC` or `OKP`.
    #[schema(example = "EC")]
    pub kty: String,
    /// `P-256` or `Ed25519`.
    #[schema(example = "P-256")]
    pub crv: String,
    pub x: String,
    /// `EC` keys only.
    pub y: Option<String>,
    pub kid: String,
    /// `ES256` or `EdDSA`: the only algorithm this key verifies.
    #[schema(example = "ES256")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub key_use: String,
}

/// The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3) that JWT
/// verifiers need: the issuer and where its keys are.
#[derive(Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    /// Equal to the access tokens' `iss`.
    #[schema(example = "https://auth.example.com")]
    pub issuer: String,
    #[schema(example = "https://auth.example.com/.well-known/jwks.json")]
    pub jwks_uri: String,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    /// The algorithms of the published keys (`ES256`, `EdDSA`).
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

/// The bare RFC 7517 key set (no envelope).
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An OpenAPI 3.1 document (this one).
#[derive(Serialize, ToSchema)]
pub struct OpenApiDocument {
    #[schema(example = "3.1.0")]
    pub openapi: String,
    pub info: serde_json::Map<String, serde_json::Value>,
    pub paths: serde_json::Map<String, serde_json::Value>,
    pub components: serde_json::Map<String, serde_json::Value>,
}
