//! SDK failures → `StoreError`: retryable ones are `Unavailable`.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::ports::StoreError;

const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    // A single-item write to an item a transaction holds: worth retrying.
    "TransactionConflictException",
];

pub fn store_error<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
        _ => false,
    };
    let described = aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string();
    if retryable {
        StoreError::Unavailable(described.into())
    } else {
        StoreError::Internal(described.into())
    }
}

pub fn mapping_error(error: serde_dynamo::Error) -> StoreError {
    StoreError::Internal(Box::new(error))
}

/// The outcome of a conditional single-item write: true when it happened,
/// false when its condition failed.
pub fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if error
                .as_service_error()
                .and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(error) => Err(store_error(error)),
    }
}
