//! The signed-in user's routes: profile, devices, settings, deletion and
//! export.

use serde_json::{json, Value};
use utoipa::openapi::path::Operation;

use super::operation::Op;
use super::response_schemas::*;
use super::schemas::*;
use crate::http::views::PushTokenView;
use crate::usecases::devices::DeviceList;

const TAG: &str = "users";
const TIME: &str = "2026-01-01T00:00:00Z";

fn member_example() -> Value {
    json!({
        "userId": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "username": "alice",
        "email": "alice@example.com", "rank": "Captain", "unitname": "Signals",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "designation": "Officer",
        "phoneNo": "+919876543212", "status": "ACTIVE", "email_verified": true,
        "pending_email": null, "created_at": TIME, "updated_at": TIME, "last_login": TIME
    })
}

/// A user who asked to change the address and has not confirmed it yet.
fn pending_example() -> Value {
    let mut user = member_example();
    user["rank"] = json!("Major");
    user["pending_email"] = json!("alice.new@example.com");
    user
}

fn push_token_example() -> Value {
    json!({
        "id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "platform": "fcm",
        "token": "fcm-registration-token-123", "device_id": "pixel-8-f00d42", "active": true,
        "created_at": TIME, "last_used_at": TIME
    })
}

fn task_queued_example() -> Value {
    json!({"task_id": "3c2b1a09-8f7e-4d6c-5b4a-392817161514", "status": "PENDING"})
}

const PUSH_TOKEN_ID: &str = "The push token's id (another user's token is 404).";

pub fn me() -> Operation {
    Op::new(
        "getMe",
        TAG,
        "The signed-in user",
        "A username account: the sign-up user object with `email_verified`, `pending_email` (an \
         address asked for by `PATCH /users/me` whose link is not confirmed yet, else null), \
         `created_at` and `updated_at`; a phone account: its number, name, country code and \
         profile state.",
    )
    .bearer()
    .data::<MeData>(200, "User retrieved", json!({"user": member_example()}))
    .uses_storage()
    .build()
}

pub fn me_update() -> Operation {
    Op::new(
        "updateMe",
        TAG,
        "Update the profile",
        "Only the fields sent change, under the sign-up rules; a taken username or email is \
         `username_conflict` / `email_conflict`. A new `email` needs `current_password` in the \
         same body and does not apply at once: the user shows it as `pending_email`, a \
         confirmation link (single use, 24 h) goes to the new address and a notice without a \
         link to the current one; the address changes when the link is confirmed with \
         `POST /auth/email/confirm`, and reset links mailed before then stop working.",
    )
    .bearer()
    .body::<ProfileUpdateRequest>(json!({
        "rank": "Major", "email": "alice.new@example.com", "current_password": "Tr1cky-Vole-Lantern"
    }))
    .data::<MeUpdateData>(200, "User updated", json!({"user": pending_example()}))
    .retry_later(
        423,
        "Too many wrong current passwords (`account_locked`), as for the password change.",
    )
    .uses_storage()
    .build()
}

pub fn me_replace() -> Operation {
    Op::new(
        "replaceMe",
        TAG,
        "Replace the profile",
        "The whole profile under the sign-up rules of this deployment (`PROFILE_FIELDS`): \
         every required field must be sent (`required` otherwise), `email` included, and an \
         optional field left out is cleared; fields that are off are ignored. The username's \
         claim moves in the same transaction as the profile. A new `email` follows the rules \
         of `PATCH`: it needs `current_password` and waits as `pending_email` until confirmed. \
         A phone account's `PUT` applies its fields as `PATCH` does.",
    )
    .bearer()
    .body::<ProfileUpdateRequest>(json!({
        "username": "alice", "email": "alice@example.com", "rank": "Major",
        "unitname": "Signals", "designation": "Officer", "mobileNo": "+919876543210",
        "personalNo": "+919876543211", "phoneNo": "+919876543212"
    }))
    .data::<MeUpdateData>(200, "User updated", json!({"user": member_example()}))
    .retry_later(
        423,
        "Too many wrong current passwords (`account_locked`), as for the password change.",
    )
    .uses_storage()
    .build()
}

pub fn devices() -> Operation {
    Op::new(
        "listDevices",
        TAG,
        "Devices and sessions",
        "Each device with platform, model, versions, address, first and last seen, its live \
         sessions and push tokens; sessions started without a device id apart.",
    )
    .bearer()
    .data::<DeviceList>(
        200,
        "Devices retrieved",
        json!({
            "items": [{
                "device_id": "laptop-1", "platform": null, "model": null, "os_version": null,
                "app_version": null, "ip": "203.0.113.10", "first_seen": TIME, "last_seen": TIME,
                "sessions": [{"session_id": "1d2c3b4a-5f6e-4d8c-9b0a-1f2e3d4c5b6a",
                              "created_at": TIME, "last_used_at": TIME, "ip": "203.0.113.10",
                              "current": true}],
                "push_tokens": []
            }],
            "other_sessions": []
        }),
    )
    .uses_storage()
    .build()
}

pub fn device_delete() -> Operation {
    Op::new(
        "deleteDevice",
        TAG,
        "Forget a device",
        "Ends that device's sessions and drops its push tokens, in one transaction.",
    )
    .bearer()
    .path_parameter("id", "The device id (another user's device is 404).")
    .data::<DeviceRemoved>(200, "Device removed", json!({"device_id": "laptop-1"}))
    .error(404, "No such device for this user (`not_found`).")
    .uses_storage()
    .build()
}

fn preferences_example() -> Value {
    let row = |email, push| json!({"email": email, "push": push, "sms": false});
    json!({
        "security": row(true, true), "account": row(true, true),
        "marketing": row(false, false), "reminders": row(false, false)
    })
}

pub fn preferences_get() -> Operation {
    Op::new(
        "getPreferences",
        TAG,
        "Notification preferences",
        "Per category (security, account, marketing, reminders) and channel (email, push, sms).",
    )
    .bearer()
    .data::<NotificationPreferences>(200, "Notification preferences", preferences_example())
    .uses_storage()
    .build()
}

pub fn preferences_update() -> Operation {
    Op::new(
        "updatePreferences",
        TAG,
        "Change notification preferences",
        "A partial update; unknown categories or channels are 400, and security email cannot \
         be turned off.",
    )
    .bearer()
    .body::<PreferencesUpdateRequest>(json!({"marketing": {"email": true}}))
    .data::<NotificationPreferences>(
        200,
        "Notification preferences updated",
        preferences_example(),
    )
    .uses_storage()
    .build()
}

pub fn push_tokens_list() -> Operation {
    Op::new(
        "listPushTokens",
        TAG,
        "The user's push tokens, a page at a time",
        "`page` from 1 (default 1), `limit` 1–100 (default 20); out of range is 400.",
    )
    .bearer()
    .query_number("page", "The page, from 1.", 1, 1_000_000)
    .query_number("limit", "Tokens per page, 1–100 (default 20).", 1, 100)
    .page::<PushTokenPage>(
        "Push tokens",
        json!({"items": [push_token_example()]}),
        json!({"total": 1, "limit": 20, "page": 1, "total_pages": 1,
               "has_next": false, "has_previous": false}),
    )
    .error(400, "`page` or `limit` out of range (`invalid`).")
    .uses_storage()
    .build()
}

pub fn push_token_create() -> Operation {
    Op::new(
        "registerPushToken",
        TAG,
        "Register a push token",
        "201 for a token new to this account (another account's is moved here), 200 when this \
         account already had it (refreshed).",
    )
    .bearer()
    .body::<PushTokenCreateRequest>(json!({
        "platform": "fcm", "token": "fcm-registration-token-123", "device_id": "pixel-8-f00d42"
    }))
    .data::<PushTokenView>(201, "Push token registered", push_token_example())
    .data::<PushTokenView>(200, "Push token refreshed", push_token_example())
    .uses_storage()
    .build()
}

pub fn push_token_get() -> Operation {
    Op::new("getPushToken", TAG, "One push token", "")
        .bearer()
        .path_parameter("id", PUSH_TOKEN_ID)
        .data::<PushTokenView>(200, "Push token", push_token_example())
        .error(404, "No such token for this user (`not_found`).")
        .uses_storage()
        .build()
}

pub fn push_token_update() -> Operation {
    Op::new(
        "updatePushToken",
        TAG,
        "Change a push token",
        "Any of `token`, `active`, `platform`, `device_id`. A new `token` value (the push \
         service rotated it) keeps the token's id and moves the value's claim in one \
         conditional transaction; a token that held the new value, any account's, is removed: \
         one value has one owner.",
    )
    .bearer()
    .path_parameter("id", PUSH_TOKEN_ID)
    .body::<PushTokenUpdateRequest>(json!({"active": false}))
    .data::<PushTokenView>(200, "Push token updated", push_token_example())
    .error(404, "No such token for this user (`not_found`).")
    .uses_storage()
    .build()
}

pub fn push_token_delete() -> Operation {
    Op::new("deletePushToken", TAG, "Drop a push token", "")
        .bearer()
        .path_parameter("id", PUSH_TOKEN_ID)
        .data::<PushTokenDeleted>(
            200,
            "Push token deleted",
            json!({"id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"}),
        )
        .error(404, "No such token for this user (`not_found`).")
        .uses_storage()
        .build()
}

pub fn push_tokens_deactivate() -> Operation {
    Op::new(
        "deactivatePushTokens",
        TAG,
        "Deactivate every push token",
        "Takes no fields.",
    )
    .bearer()
    .bodyless_action()
    .data::<DeactivatedCount>(200, "Push tokens deactivated", json!({"deactivated": 2}))
    .uses_storage()
    .build()
}

pub fn account_delete() -> Operation {
    Op::new(
        "deleteAccount",
        TAG,
        "Delete the account",
        "Confirmed by the password (phone accounts: their number). Deactivates the account and \
         ends every session at once; its data is erased in the background by the task returned.",
    )
    .bearer()
    .body::<AccountDeleteRequest>(json!({"password": "Tr1cky-Vole-Lantern"}))
    .data::<TaskQueued>(202, "Account deletion started", task_queued_example())
    .error(409, "The account changed meanwhile; try again.")
    .retry_later(423, "Too many wrong passwords (`account_locked`).")
    .uses_storage()
    .build()
}

pub fn account_export() -> Operation {
    Op::new(
        "exportAccount",
        TAG,
        "Export the account's data",
        "A background task gathers the data; poll it under `/tasks/{id}`. Takes no fields. The \
         result is handed out once: the first `GET /tasks/{id}` that returns it removes it, and \
         it is gone a day after the task finished (request a new export then).",
    )
    .bearer()
    .bodyless_action()
    .data::<TaskQueued>(202, "Export started", task_queued_example())
    .uses_storage()
    .build()
}
