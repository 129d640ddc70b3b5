//! The one place where use-case errors become HTTP errors.

use crate::crypto::password_hasher::HashError;
use crate::ports::StoreError;
use crate::usecases::signup::SignUpError;

use super::error::ApiError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => ApiError::unavailable(Box::new(error)),
            StoreError::Internal(_) => ApiError::internal(Box::new(error)),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        ApiError::internal(Box::new(error))
    }
}

impl From<SignUpError> for ApiError {
    fn from(error: SignUpError) -> Self {
        match error {
            SignUpError::Rejected(errors) => ApiError::validation(errors),
            SignUpError::Store(error) => error.into(),
            SignUpError::Hashing(error) => error.into(),
        }
    }
}
