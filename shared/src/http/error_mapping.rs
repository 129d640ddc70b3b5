//! The one place where use-case errors become HTTP errors.

use crate::crypto::password_hasher::HashError;
use crate::ports::StoreError;
use http::header::{HeaderValue, RETRY_AFTER};
use http::StatusCode;

use crate::domain::errors::{ErrorCode, FieldErrors};
use crate::session_tokens::jwt::TokenError;
use crate::session_tokens::refresh::RefreshTokenError;
use crate::usecases::account::AccountError;
use crate::usecases::login::LogInError;
use crate::usecases::phone_signup::{phone_conflict_error, PhoneSignUpError};
use crate::usecases::refresh::RefreshError;
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

impl From<crate::usecases::admin::AdminError> for ApiError {
    fn from(error: crate::usecases::admin::AdminError) -> Self {
        use crate::usecases::admin::AdminError;
        match error {
            AdminError::NotFound => ApiError::not_found(),
            AdminError::BeingDeleted => ApiError::general(
                StatusCode::CONFLICT,
                ErrorCode::AccountInactive,
                "The account is being deleted",
                "The account is being deleted; its status no longer changes.",
            ),
            AdminError::NotMember => ApiError::general(
                StatusCode::CONFLICT,
                ErrorCode::Forbidden,
                "Not available for phone accounts",
                "Phone accounts have no email address.",
            ),
            AdminError::Stale => ApiError::general(
                StatusCode::CONFLICT,
                ErrorCode::ValidationError,
                "The account changed meanwhile",
                "The account changed while this ran; try again.",
            ),
            AdminError::Store(error) => error.into(),
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
            SignUpError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        ApiError::internal(Box::new(error))
    }
}

impl From<RefreshTokenError> for ApiError {
    fn from(error: RefreshTokenError) -> Self {
        ApiError::internal(Box::new(error))
    }
}

fn locked(retry_after: time::Duration) -> ApiError {
    ApiError::general(
        StatusCode::LOCKED,
        ErrorCode::AccountLocked,
        "Account temporarily locked",
        "Too many failed attempts; retry later.",
    )
    .with_header(
        RETRY_AFTER,
        HeaderValue::from(retry_after.whole_seconds().max(1)),
    )
}

fn credentials_rejected() -> ApiError {
    ApiError::general(
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
        "Invalid credentials",
        "Unable to log in with the provided credentials.",
    )
}

impl From<LogInError> for ApiError {
    fn from(error: LogInError) -> Self {
        match error {
            LogInError::InvalidCredentials => credentials_rejected(),
            LogInError::Inactive => ApiError::general(
                StatusCode::FORBIDDEN,
                ErrorCode::AccountInactive,
                "Account inactive",
                "This account is inactive.",
            ),
            LogInError::EmailNotVerified => ApiError::general(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "Email not confirmed",
                "Confirm your email address before logging in.",
            ),
            LogInError::Locked { retry_after } => locked(retry_after),
            LogInError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            LogInError::Store(error) => error.into(),
            LogInError::Hashing(error) => error.into(),
            LogInError::Token(error) => error.into(),
            LogInError::Refresh(error) => error.into(),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(error: RefreshError) -> Self {
        let refresh_token_error = |code, message: &'static str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                message,
                FieldErrors::single(
                    "refresh_token",
                    crate::domain::errors::FieldError::new(code, message),
                ),
            )
        };
        match error {
            RefreshError::Invalid => {
                refresh_token_error(ErrorCode::TokenInvalid, "Token is invalid")
            }
            RefreshError::Expired => {
                refresh_token_error(ErrorCode::TokenExpired, "Token has expired")
            }
            RefreshError::Reused => refresh_token_error(
                ErrorCode::TokenReused,
                "Token was already used; the session has been ended",
            ),
            RefreshError::Store(error) => error.into(),
            RefreshError::Token(error) => error.into(),
            RefreshError::Refresh(error) => error.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Rejected(errors) => ApiError::validation(errors),
            AccountError::Locked { retry_after } => locked(retry_after),
            AccountError::Gone => ApiError::general(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenInvalid,
                "Token is invalid",
                "The account no longer exists.",
            ),
            AccountError::Store(error) => error.into(),
            AccountError::Hashing(error) => error.into(),
        }
    }
}

/// The signing keys could not be read: retry shortly.
impl From<crate::session_tokens::keyring::KeyRingError> for ApiError {
    fn from(error: crate::session_tokens::keyring::KeyRingError) -> Self {
        ApiError::unavailable(Box::new(error))
    }
}

impl From<PhoneSignUpError> for ApiError {
    fn from(error: PhoneSignUpError) -> Self {
        match error {
            PhoneSignUpError::Rejected(errors) => ApiError::validation(errors),
            PhoneSignUpError::PhoneTaken => {
                let mut error = ApiError::new(
                    StatusCode::CONFLICT,
                    "User with this phone number already exists. Please sign in instead.",
                    phone_conflict_error(),
                );
                error
                    .extra
                    .insert("user_exists".into(), serde_json::Value::Bool(true));
                error
            }
            PhoneSignUpError::Blocked => ApiError::general(
                StatusCode::FORBIDDEN,
                ErrorCode::IpBlocked,
                "Access denied from this location.",
                "Requests from this network are not accepted.",
            ),
            PhoneSignUpError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            PhoneSignUpError::Store(error) => error.into(),
            PhoneSignUpError::Token(error) => error.into(),
            PhoneSignUpError::Refresh(error) => error.into(),
            PhoneSignUpError::OtpInvalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid or expired code",
                crate::usecases::phone_login::otp_invalid_error(),
            ),
        }
    }
}

impl From<crate::crypto::phone_crypto::PhoneKeysLoadError> for ApiError {
    fn from(error: crate::crypto::phone_crypto::PhoneKeysLoadError) -> Self {
        use crate::crypto::phone_crypto::PhoneKeysLoadError;
        match error {
            // Secrets Manager down: retryable.
            PhoneKeysLoadError::Source(error) => error.into(),
            invalid => ApiError::internal(Box::new(invalid)),
        }
    }
}

impl From<crate::usecases::phone_code::PhoneCodeError> for ApiError {
    fn from(error: crate::usecases::phone_code::PhoneCodeError) -> Self {
        use crate::usecases::phone_code::PhoneCodeError;
        match error {
            PhoneCodeError::Rejected(errors) => ApiError::validation(errors),
            PhoneCodeError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            PhoneCodeError::Store(error) => error.into(),
            PhoneCodeError::Keys(error) => error.into(),
            PhoneCodeError::Crypto(error) => ApiError::internal(Box::new(error)),
            PhoneCodeError::Randomness => {
                ApiError::internal("no randomness for a one-time code".into())
            }
        }
    }
}

impl From<crate::usecases::phone_login::PhoneLoginError> for ApiError {
    fn from(error: crate::usecases::phone_login::PhoneLoginError) -> Self {
        use crate::usecases::phone_login::{otp_invalid_error, PhoneLoginError};
        match error {
            PhoneLoginError::Rejected(errors) => ApiError::validation(errors),
            PhoneLoginError::OtpInvalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid or expired code",
                otp_invalid_error(),
            ),
            PhoneLoginError::Store(error) => error.into(),
            PhoneLoginError::Keys(error) => error.into(),
            PhoneLoginError::Token(error) => error.into(),
            PhoneLoginError::Refresh(error) => error.into(),
        }
    }
}

impl From<crate::usecases::tasks::TaskError> for ApiError {
    fn from(error: crate::usecases::tasks::TaskError) -> Self {
        use crate::usecases::tasks::TaskError;
        match error {
            TaskError::Rejected(errors) => ApiError::validation(errors),
            TaskError::NotFound => ApiError::not_found(),
            TaskError::TooManyOpen => {
                ApiError::rate_limited(crate::usecases::tasks::OPEN_TASKS_RETRY_AFTER)
            }
            TaskError::InsufficientCredits => insufficient_credits(),
            TaskError::NotRevocable(_) => ApiError::general(
                StatusCode::CONFLICT,
                ErrorCode::Invalid,
                "Task cannot be revoked",
                "The task has already started or finished.",
            ),
            TaskError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::email_links::EmailLinkError> for ApiError {
    fn from(error: crate::usecases::email_links::EmailLinkError) -> Self {
        use crate::domain::errors::FieldError;
        use crate::usecases::email_links::{EmailLinkError, TOKEN};
        let token_error = |code, message: &'static str| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                message,
                FieldErrors::single(TOKEN, FieldError::new(code, message)),
            )
        };
        match error {
            EmailLinkError::Rejected(errors) => ApiError::validation(errors),
            EmailLinkError::TokenInvalid => {
                token_error(ErrorCode::TokenInvalid, "Token is invalid")
            }
            EmailLinkError::TokenExpired => {
                token_error(ErrorCode::TokenExpired, "Token has expired")
            }
            EmailLinkError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                "Email already registered",
                FieldErrors::single(
                    crate::usecases::email_links::EMAIL,
                    FieldError::new(
                        ErrorCode::EmailConflict,
                        "Another account registered this address before the change was \
                         confirmed; nothing was changed.",
                    ),
                ),
            ),
            EmailLinkError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            EmailLinkError::Store(error) => error.into(),
            EmailLinkError::Hashing(error) => error.into(),
        }
    }
}

impl From<crate::usecases::notification_profile::NotificationProfileError> for ApiError {
    fn from(error: crate::usecases::notification_profile::NotificationProfileError) -> Self {
        use crate::usecases::notification_profile::NotificationProfileError;
        match error {
            NotificationProfileError::Rejected(errors) => ApiError::validation(errors),
            NotificationProfileError::NotFound => ApiError::not_found(),
            NotificationProfileError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::account_tasks::DeleteAccountError> for ApiError {
    fn from(error: crate::usecases::account_tasks::DeleteAccountError) -> Self {
        use crate::usecases::account_tasks::DeleteAccountError;
        match error {
            DeleteAccountError::Rejected(errors) => ApiError::validation(errors),
            DeleteAccountError::Locked { retry_after } => locked(retry_after),
            DeleteAccountError::Stale => ApiError::general(
                StatusCode::CONFLICT,
                ErrorCode::Invalid,
                "Account changed",
                "The account changed meanwhile; try again.",
            ),
            DeleteAccountError::Store(error) => error.into(),
            DeleteAccountError::Hashing(error) => error.into(),
        }
    }
}

/// 402 `insufficient_credits`: the balance does not cover the cost.
pub fn insufficient_credits() -> ApiError {
    ApiError::general(
        StatusCode::PAYMENT_REQUIRED,
        ErrorCode::InsufficientCredits,
        "Insufficient credits",
        "The credit balance does not cover this.",
    )
}

impl From<crate::usecases::credits::CreditError> for ApiError {
    fn from(error: crate::usecases::credits::CreditError) -> Self {
        use crate::usecases::credits::CreditError;
        match error {
            CreditError::Rejected(errors) => ApiError::validation(errors),
            CreditError::NotFound => ApiError::not_found(),
            CreditError::Insufficient => insufficient_credits(),
            CreditError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::payments::WebhookError> for ApiError {
    fn from(error: crate::usecases::payments::WebhookError) -> Self {
        use crate::usecases::payments::WebhookError;
        match error {
            // Which check failed is logged, never answered.
            WebhookError::Signature(_) => ApiError::general(
                StatusCode::BAD_REQUEST,
                ErrorCode::SignatureInvalid,
                "Invalid signature",
                "The Stripe-Signature header does not verify this body.",
            ),
            WebhookError::Malformed => ApiError::general(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidJson,
                "Malformed event",
                "The body is not a Stripe event.",
            ),
            WebhookError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::avatars::AvatarError> for ApiError {
    fn from(error: crate::usecases::avatars::AvatarError) -> Self {
        use crate::usecases::avatars::AvatarError;
        match error {
            AvatarError::Rejected(errors) => ApiError::validation(errors),
            // Credentials that cannot be read now (the role's refresh) are
            // worth a retry.
            AvatarError::Signing(error) => ApiError::unavailable(Box::new(error)),
            AvatarError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::checkout::CheckoutError> for ApiError {
    fn from(error: crate::usecases::checkout::CheckoutError) -> Self {
        use crate::ports::payments::GatewayError;
        use crate::usecases::checkout::CheckoutError;
        match error {
            CheckoutError::Rejected(errors) => ApiError::validation(errors),
            // Stripe down or not set up yet: try again later.
            CheckoutError::Gateway(
                error @ (GatewayError::Unavailable(_) | GatewayError::NotConfigured),
            ) => ApiError::unavailable(Box::new(error)),
            CheckoutError::Gateway(GatewayError::Secret(error)) => error.into(),
            CheckoutError::Gateway(error @ GatewayError::Refused { .. }) => {
                ApiError::internal(Box::new(error))
            }
            CheckoutError::Store(error) => error.into(),
        }
    }
}
