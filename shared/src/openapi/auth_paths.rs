//! The sign-up, session and mailed-link routes.

use serde_json::json;
use utoipa::openapi::path::Operation;

use super::operation::Op;
use super::response_schemas::*;
use super::schemas::*;
use crate::usecases::session_tokens::TokenPairView;

const TAG: &str = "auth";
const PASSWORD: &str = "Tr1cky-Vole-Lantern";
const NEW_PASSWORD: &str = "Quiet-Heron-Marmalade-7";

fn user_example() -> serde_json::Value {
    json!({
        "userId": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "username": "alice",
        "email": "alice@example.com", "rank": "Captain", "unitname": "Signals",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "designation": "Officer",
        "phoneNo": "+919876543212", "status": "ACTIVE"
    })
}

fn tokens_example() -> serde_json::Value {
    json!({
        "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMDEtMDEifQ.eyJzdWIiOiIuLi4ifQ.c2ln",
        "refresh_token": "rt_3q2-7wEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "token_type": "Bearer", "expires_in": 900
    })
}

pub fn sign_up() -> Operation {
    let mut user = user_example();
    user["message"] = json!("User created successfully.");
    Op::new(
        "signUp",
        TAG,
        "Sign up with username, email and profile",
        "Creates the user, its profile and its uniqueness claims atomically. A rejected \
         sign-up lists every failing field at once; a taken username is `username_conflict`, \
         a taken email `email_conflict`, a mismatch `password_mismatch` under \
         `confirm_password`. At most 5 sign-ups per source address per hour. A body with \
         `phone_number` and neither `username` nor `email` is the mobile clients' phone \
         sign-up and gets the answers of `POST /auth/phone/signup`.",
    )
    .body::<SignUpRequest>(json!({
        "username": "alice", "email": "alice@example.com",
        "password": PASSWORD, "confirm_password": PASSWORD,
        "rank": "Captain", "unitname": "Signals", "designation": "Officer",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "phoneNo": "+919876543212"
    }))
    .data::<SignUpData>(201, "User created successfully", json!({ "user": user }))
    .retry_later(429, "Too many sign-ups from this address (`rate_limited`).")
    .uses_storage()
    .build()
}

pub fn phone_sign_up() -> Operation {
    Op::new(
        "phoneSignUp",
        TAG,
        "Sign up with a phone number",
        "The mobile clients' sign-up: a name and an E.164 number (10 digits without `+` take \
         the configured default country). Answers 201 with tokens at the top level, not \
         under `data`. Where the deployment verifies numbers (`PHONE_SIGNUP_VERIFY`), `code` \
         from a `signup` code of `POST /auth/phone/otp` is required.",
    )
    .body::<PhoneSignUpRequest>(json!({
        "name": "Asha Menon", "phone_number": "9876543210",
        "state": "Kerala", "district": "Ernakulam", "city_village": "Kochi",
        "device_id": "pixel-8-f00d42",
        "device_info": {"platform": "android", "model": "Pixel 8", "app_version": "2.3.1"}
    }))
    .bare::<PhoneSignUpResponse>(
        201,
        "User registered successfully",
        json!({
            "success": true, "message": "User registered successfully",
            "user": {"id": "0b5e1c8d-2f3a-4b6c-9d7e-1a2b3c4d5e6f", "phone_number": "+919876543210",
                     "name": "Asha Menon", "country_code": "+91", "created_at": "2026-01-01T00:00:00Z"},
            "access_token": tokens_example()["access_token"],
            "refresh_token": tokens_example()["refresh_token"],
            "token_type": "Bearer", "expires_in": 900, "needs_profile": false,
            "is_new_account": true, "is_new_device": true, "active_devices_count": 1,
            "location_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
        }),
    )
    .error(
        401,
        "Verified sign-up: the `signup` code is wrong, spent or expired (`otp_invalid`).",
    )
    .error(403, "The source address is blocked (`ip_blocked`).")
    .error(
        409,
        "The number has an account (`phone_conflict`, with `user_exists: true`).",
    )
    .retry_later(429, "Too many sign-ups from this address (`rate_limited`).")
    .uses_storage()
    .build()
}

pub fn phone_otp() -> Operation {
    Op::new(
        "requestPhoneCode",
        TAG,
        "Text a one-time code to a phone number",
        "A six-digit code, valid 5 minutes, dead after 5 wrong tries or one use. A `login` \
         code is sent only to a number with an account, a `signup` code only to one without; \
         the answer is the same either way. Numbers outside the configured countries \
         (`SMS_COUNTRIES`, `IN` by default) get 400 `invalid` under `phone_number`.",
    )
    .body::<PhoneCodeRequest>(json!({"phone_number": "9876543210", "purpose": "login"}))
    .data::<PhoneCodeRequested>(
        202,
        "If the number can receive it, a code is on its way",
        json!({"expires_in": 300, "resend_after": 60}),
    )
    .retry_later(
        429,
        "Too many codes for this number (3 per 15 minutes) or from this source (10 per hour), \
         or the day's ceiling is reached (`rate_limited`).",
    )
    .uses_storage()
    .build()
}

pub fn phone_login() -> Operation {
    Op::new(
        "phoneLogin",
        TAG,
        "Sign in with a texted code",
        "The number and the six digits of a `login` code from `POST /auth/phone/otp`. Answers \
         200 with the phone sign-up's top-level shape (`is_new_account: false`). A wrong, \
         spent or expired code, or a number without an account, is 401 `otp_invalid` under \
         `code`, all alike.",
    )
    .body::<PhoneLoginRequest>(json!({
        "phone_number": "9876543210", "code": "123456", "device_id": "pixel-8-f00d42",
        "device_info": {"platform": "android", "model": "Pixel 8", "app_version": "2.3.1"}
    }))
    .bare::<PhoneSignUpResponse>(
        200,
        "Login successful",
        json!({
            "success": true, "message": "Login successful",
            "user": {"id": "0b5e1c8d-2f3a-4b6c-9d7e-1a2b3c4d5e6f", "phone_number": "+919876543210",
                     "name": "Asha Menon", "country_code": "+91", "created_at": "2026-01-01T00:00:00Z"},
            "access_token": tokens_example()["access_token"],
            "refresh_token": tokens_example()["refresh_token"],
            "token_type": "Bearer", "expires_in": 900, "needs_profile": false,
            "is_new_account": false, "is_new_device": false, "active_devices_count": 1,
            "location_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
        }),
    )
    .error(
        401,
        "Wrong, spent or expired code, or no account (`otp_invalid`).",
    )
    .uses_storage()
    .build()
}

pub fn login() -> Operation {
    let mut data = tokens_example();
    data["user"] = user_example();
    data["user"]["email_verified"] = json!(true);
    data["user"]["created_at"] = json!("2026-01-01T00:00:00Z");
    data["user"]["updated_at"] = json!("2026-01-01T00:00:00Z");
    Op::new(
        "login",
        TAG,
        "Log in",
        "`login`, `username` or `email` (case-insensitive) and the password. A wrong user and \
         a wrong password give the same 401. Repeated failures lock the identifier with \
         growing delays.",
    )
    .body::<LoginRequest>(json!({"login": "alice", "password": PASSWORD, "device_id": "laptop-1"}))
    .data::<LoginData>(200, "Login successful", data)
    .error(401, "Wrong user or password (`invalid_credentials`).")
    .error(
        403,
        "The account is inactive (`account_inactive`) or its email is unconfirmed (`forbidden`).",
    )
    .retry_later(
        423,
        "Too many failures for this identifier (`account_locked`).",
    )
    .retry_later(429, "Too many failures from this address (`rate_limited`).")
    .uses_storage()
    .build()
}

pub fn token_refresh() -> Operation {
    Op::new(
        "refreshToken",
        TAG,
        "Exchange a refresh token for a new pair",
        "The old refresh token is spent. A retry with it within 10 s returns the same new \
         refresh token; reuse after that ends the whole session (`token_reused`).",
    )
    .body::<RefreshRequest>(json!({"refresh_token": tokens_example()["refresh_token"]}))
    .data::<TokenPairView>(200, "Token refreshed", tokens_example())
    .error(
        401,
        "The refresh token is unknown, expired or reused (`token_invalid`, `token_expired`, \
         `token_reused` under `refresh_token`).",
    )
    .uses_storage()
    .build()
}

pub fn logout() -> Operation {
    Op::new(
        "logout",
        TAG,
        "End this session, or every session",
        "Access tokens of ended sessions stop working at once.",
    )
    .bearer()
    .optional_body::<LogoutRequest>(json!({"all": true}))
    .data::<SessionsEndedCount>(200, "Logged out", json!({"sessions_ended": 1}))
    .uses_storage()
    .build()
}

pub fn password_change() -> Operation {
    Op::new(
        "changePassword",
        TAG,
        "Change the password",
        "Checks the current password (wrong guesses lock like logins), applies the sign-up \
         rules to the new one and ends every other session.",
    )
    .bearer()
    .body::<PasswordChangeRequest>(json!({
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD
    }))
    .data::<OtherSessionsEnded>(
        200,
        "Password changed",
        json!({"other_sessions_ended": true}),
    )
    .error(403, "A phone account has no password (`forbidden`).")
    .retry_later(423, "Too many wrong current passwords (`account_locked`).")
    .uses_storage()
    .build()
}

pub fn jwks() -> Operation {
    Op::new(
        "jwks",
        TAG,
        "The public signing keys",
        "The bare RFC 7517 key set (no envelope), for API Gateway authorizers and JWT \
         libraries; cacheable for five minutes.",
    )
    .bare::<Jwks>(
        200,
        "The key set",
        json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                         "kid": "2026-12-03-9f86d081", "alg": "ES256", "use": "sig"}]}),
    )
    .uses_storage()
    .build()
}

pub fn openid_configuration() -> Operation {
    Op::new(
        "openidConfiguration",
        TAG,
        "The OpenID discovery document",
        "Bare JSON (no envelope), cacheable for five minutes: the issuer (equal to the access \
         tokens' `iss`) and the JWKS address, so API Gateway JWT authorizers, load balancers \
         and JWT libraries verify this service's tokens with configuration alone.",
    )
    .bare::<OpenIdConfiguration>(
        200,
        "The provider metadata",
        json!({"issuer": "https://auth.example.com",
               "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
               "response_types_supported": ["token"], "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["ES256"],
               "claims_supported": ["sub", "sid", "iat", "nbf", "exp", "iss", "aud", "jti"]}),
    )
    .uses_storage()
    .build()
}

pub fn email_confirm() -> Operation {
    Op::new(
        "confirmEmail",
        TAG,
        "Confirm the email address",
        "The token of the confirmation email (single use, 24 h) marks the address verified. \
         The token of an email change (`ce_…`, mailed to the new address by `PATCH /users/me`) \
         makes that address the account's, verified; if another account registered it \
         meanwhile, 409 `email_conflict` and nothing changes.",
    )
    .body::<EmailConfirmRequest>(json!({"token": "ec_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"}))
    .data::<EmailVerified>(200, "Email confirmed", json!({"email_verified": true}))
    .error(
        409,
        "An email change whose new address another account registered before the link was \
         used (`email_conflict` under `email`); nothing changed.",
    )
    .uses_storage()
    .build()
}

pub fn email_confirm_resend() -> Operation {
    Op::new(
        "resendEmailConfirmation",
        TAG,
        "Send a new confirmation link",
        "Always 202, whether or not the address has an unconfirmed account.",
    )
    .body::<EmailRequest>(json!({"email": "alice@example.com"}))
    .data::<Empty>(
        202,
        "If the address has an unconfirmed account, a new link is on its way",
        json!({}),
    )
    .retry_later(
        429,
        "Too many requests for this address or from this source (`rate_limited`).",
    )
    .uses_storage()
    .build()
}

pub fn password_reset() -> Operation {
    Op::new(
        "requestPasswordReset",
        TAG,
        "Mail a password reset link",
        "Always 202 with the same body, whether or not the address has an account.",
    )
    .body::<EmailRequest>(json!({"email": "alice@example.com"}))
    .data::<Empty>(
        202,
        "If the address has an account, a reset link is on its way",
        json!({}),
    )
    .retry_later(
        429,
        "Too many requests for this address or from this source (`rate_limited`).",
    )
    .uses_storage()
    .build()
}

pub fn password_reset_confirm() -> Operation {
    Op::new(
        "confirmPasswordReset",
        TAG,
        "Set a new password with a reset token",
        "The token is single use and valid one hour; every session of the user ends.",
    )
    .body::<PasswordResetConfirmRequest>(json!({
        "token": "pr_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0",
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD
    }))
    .data::<SessionsEnded>(200, "Password reset", json!({"sessions_ended": true}))
    .uses_storage()
    .build()
}

pub fn pre_register() -> Operation {
    Op::new(
        "preRegister",
        TAG,
        "Collect an email before sign-up",
        "Idempotent; a later sign-up with the address marks it converted.",
    )
    .body::<EmailRequest>(json!({"email": "bob@example.com"}))
    .data::<PreRegistered>(
        200,
        "Email pre-registered",
        json!({"email": "bob@example.com"}),
    )
    .retry_later(
        429,
        "Too many requests for this address or from this source (`rate_limited`).",
    )
    .uses_storage()
    .build()
}
