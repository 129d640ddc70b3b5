//! The scheduled signing-key rotation (EventBridge, off unless the
//! deployment turns it on): `usecases::key_rotation` against the signing-key
//! secret. Safe to run twice: a run that finds nothing due writes nothing.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use shared::app::StartupError;
use shared::config::{Config, ConfigError, SigningKeysSource};
use shared::ports::secrets::{SecretSource, SecretWriter};
use shared::ports::{Clock, SystemClock};
use shared::usecases::key_rotation::{rotate, RotationError, RotationPolicy, RotationReport};

pub struct State<S> {
    pub secrets: Arc<S>,
    pub secret_id: String,
    pub clock: Arc<dyn Clock>,
    pub policy: RotationPolicy,
}

impl State<shared::adapters::secretsmanager::SecretsManagerSource> {
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let SigningKeysSource::SecretsManager { secret_id, .. } = config.signing_keys else {
            return Err(ConfigError {
                variable: "SIGNING_KEYS_SECRET_ID",
                problem: "the key rotation works on the signing-key secret".into(),
            }
            .into());
        };
        let client = shared::adapters::secretsmanager::secrets_client().await;
        Ok(Self {
            secrets: Arc::new(shared::adapters::secretsmanager::SecretsManagerSource::new(
                client,
            )),
            secret_id,
            clock: Arc::new(SystemClock),
            policy: config.key_rotation,
        })
    }
}

/// The schedule's event carries nothing the job needs; any event runs it.
pub async fn handle<S: SecretSource + SecretWriter>(
    state: &State<S>,
    _event: EventBridgeEvent,
) -> Result<RotationReport, RotationError> {
    let report = rotate(
        state.secrets.as_ref(),
        state.secrets.as_ref(),
        &state.secret_id,
        state.clock.as_ref(),
        &state.policy,
    )
    .await?;
    tracing::info!(added = ?report.added, removed = ?report.removed, "key rotation ran");
    Ok(report)
}
