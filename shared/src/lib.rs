//! The domain crate of the user service. Dependencies point one way:
//! `domain` ← `ports` ← `usecases` ← `adapters` / `http` ← functions.

pub mod adapters;
pub mod app;
pub mod background;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod metrics;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod ports;
pub mod requests;
pub mod sdk_config;
pub mod serve;
pub mod session_tokens;
pub mod telemetry;
pub mod usecases;

/// The service's name and version, as `GET /` and the OpenAPI document
/// give them.
pub const SERVICE_NAME: &str = "users-service";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
