//! `SecretSource` on AWS Secrets Manager (GetSecretValue, current version).

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use secrecy::SecretString;

use crate::ports::secrets::SecretSource;
use crate::ports::StoreError;

/// Error codes worth retrying later: the service, not the request, failed.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
];

#[derive(Debug, Clone)]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManagerSource {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    async fn secret_string(&self, id: &str) -> Result<SecretString, StoreError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|error| secret_error(id, error))?;
        // Moved, not copied, into the redacting wrapper.
        output
            .secret_string
            .map(SecretString::from)
            .ok_or_else(|| StoreError::internal(format!("secret {id:?} has no string value")))
    }
}

#[async_trait]
impl crate::ports::secrets::SecretWriter for SecretsManagerSource {
    async fn put_secret_string(&self, id: &str, value: &SecretString) -> Result<(), StoreError> {
        use secrecy::ExposeSecret;
        self.client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value.expose_secret())
            .send()
            .await
            .map(drop)
            .map_err(|error| {
                // Retried by the schedule; the value is never in the message.
                StoreError::Unavailable(
                    format!(
                        "writing secret {id:?} failed: {}",
                        DisplayErrorContext(&error)
                    )
                    .into(),
                )
            })
    }
}

/// SDK failures → `StoreError`, as the DynamoDB adapter maps them: timeouts,
/// network failures and throttling are `Unavailable`; a missing secret,
/// missing permission and everything else are `Internal`.
fn secret_error<R>(id: &str, error: SdkError<GetSecretValueError, R>) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let service = match &error {
        SdkError::ServiceError(service) => Some(service.err()),
        _ => None,
    };
    let retryable = matches!(
        error,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
    ) || service
        .and_then(|service| service.code())
        .is_some_and(|code| RETRYABLE_CODES.contains(&code));
    let missing = service.is_some_and(GetSecretValueError::is_resource_not_found_exception);
    let described = if missing {
        format!("secret {id:?} does not exist")
    } else {
        format!(
            "reading secret {id:?} failed: {}",
            DisplayErrorContext(&error)
        )
    };
    if retryable {
        StoreError::Unavailable(described.into())
    } else {
        StoreError::Internal(described.into())
    }
}

/// A secret as a health check: it exists and can be described (its value
/// is not read).
pub struct SecretProbe {
    pub name: &'static str,
    pub client: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
}

#[async_trait]
impl crate::ports::HealthProbe for SecretProbe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                StoreError::Unavailable(
                    format!(
                        "describing secret {:?} failed: {}",
                        self.secret_id,
                        DisplayErrorContext(&error)
                    )
                    .into(),
                )
            })
    }
}

/// A Secrets Manager client over the process's shared AWS configuration.
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(crate::app::sdk_config())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::error::ErrorMetadata;
    use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;

    fn service(error: GetSecretValueError) -> SdkError<GetSecretValueError, ()> {
        SdkError::service_error(error, ())
    }

    fn coded(code: &str) -> GetSecretValueError {
        GetSecretValueError::generic(ErrorMetadata::builder().code(code).build())
    }

    fn message(error: &StoreError) -> String {
        std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    #[test]
    fn missing_secret_is_internal_and_named() {
        let missing = GetSecretValueError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Secrets Manager can't find the specified secret.")
                .build(),
        );
        let error = secret_error("prod/jwt", service(missing));
        assert!(matches!(error, StoreError::Internal(_)), "{error:?}");
        assert_eq!(message(&error), "secret \"prod/jwt\" does not exist");
    }

    #[test]
    fn throttling_timeouts_and_network_failures_are_retryable() {
        for error in [
            service(coded("ThrottlingException")),
            service(coded("InternalServiceError")),
            SdkError::timeout_error("timed out"),
        ] {
            let mapped = secret_error("s", error);
            assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
        }
    }

    #[test]
    fn other_failures_are_internal() {
        for code in [
            "AccessDeniedException",
            "DecryptionFailure",
            "InvalidRequestException",
        ] {
            let mapped = secret_error("s", service(coded(code)));
            assert!(
                matches!(mapped, StoreError::Internal(_)),
                "{code}: {mapped:?}"
            );
            assert!(message(&mapped).contains(code), "{}", message(&mapped));
        }
    }
}
