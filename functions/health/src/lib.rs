//! `GET /health`: the table, both queues and the secrets, each checked
//! with a short timeout; 503 names the one that failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::adapters::secretsmanager::{secrets_client, SecretProbe};
use shared::app::{StartupError, Stores};
use shared::background::Queues;
use shared::config::{PhoneKeysSource, SigningKeysSource};
use shared::domain::errors::{ErrorCode, FieldError, FieldErrors};
use shared::http::routes::RouteId;
use shared::http::{respond, ApiError, Reply};
use shared::ports::HealthProbe;
use shared::serve::{Endpoint, Needs, Resources};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub struct State {
    pub probes: Vec<Arc<dyn HealthProbe>>,
}

impl State {
    /// The table and both queues.
    pub fn new(stores: &Stores, queues: &Queues) -> Self {
        let mut probes = vec![stores.table_probe_handle()];
        probes.extend(queues.probes());
        Self { probes }
    }
}

impl Endpoint for State {
    const NEEDS: Needs = Needs {
        queues: true,
        ..Needs::STORES
    };

    fn build(resources: &Resources) -> Result<Self, StartupError> {
        Ok(Self::new(&resources.stores, resources.queues()?))
    }

    /// The table, both queues and, where they live in Secrets Manager,
    /// the signing and phone keys.
    async fn from_env() -> Result<Self, StartupError> {
        let resources = Resources::from_env::<Self>().await?;
        let config = &resources.config;
        let mut state = Self::build(&resources)?;
        let mut secrets = Vec::new();
        if let SigningKeysSource::SecretsManager { secret_id, .. } = &config.signing_keys {
            secrets.push(("signing_keys", secret_id.clone()));
        }
        if let PhoneKeysSource::SecretsManager { secret_id } = &config.phone_keys {
            secrets.push(("phone_keys", secret_id.clone()));
        }
        if !secrets.is_empty() {
            let client = secrets_client().await;
            for (name, secret_id) in secrets {
                state.probes.push(Arc::new(SecretProbe {
                    name,
                    client: client.clone(),
                    secret_id,
                }));
            }
        }
        Ok(state)
    }
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    status: &'static str,
    latency_ms: f64,
}

pub async fn handle(state: &State, request: Request) -> Response<Body> {
    respond(RouteId::Health, request, |_, _| async move {
        // Concurrently: the slowest check bounds the response time.
        let checks = join_all(state.probes.iter().map(|probe| run_check(probe.as_ref()))).await;
        let failed: Vec<&Check> = checks.iter().filter(|c| c.status != "ok").collect();
        if failed.is_empty() {
            return Reply::new(
                StatusCode::OK,
                "Healthy",
                &serde_json::json!({ "status": "ok", "checks": checks }),
            );
        }
        let mut errors = FieldErrors::new();
        for check in &failed {
            errors.add(
                check.name,
                FieldError::new(
                    ErrorCode::Unavailable,
                    format!("{} is {}", check.name, check.status),
                ),
            );
        }
        let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Unhealthy", errors);
        error.extra.insert(
            "checks".into(),
            serde_json::to_value(&checks).unwrap_or_default(),
        );
        Err(error)
    })
    .await
}

async fn run_check(probe: &dyn HealthProbe) -> Check {
    let started = Instant::now();
    let status = match tokio::time::timeout(CHECK_TIMEOUT, probe.check()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(dependency = probe.name(), error = %error, "health check failed");
            "unavailable"
        }
        Err(_) => {
            tracing::warn!(dependency = probe.name(), "health check timed out");
            "timeout"
        }
    };
    Check {
        name: probe.name(),
        status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}
