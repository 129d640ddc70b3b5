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
pub mod serve;
pub mod telemetry;
pub mod tokens;
pub mod usecases;
