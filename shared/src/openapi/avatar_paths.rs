//! The avatar routes: an upload form, the avatar's state, its removal.

use serde::Serialize;
use serde_json::json;
use utoipa::openapi::path::Operation;
use utoipa::ToSchema;

use super::operation::Op;
use crate::usecases::avatars::{AvatarView, UploadView};

const TAG: &str = "users";

pub use crate::usecases::avatars::AvatarUploadRequest;

/// `DELETE /users/me/avatar`'s answer.
#[derive(Serialize, ToSchema)]
pub struct AvatarRemoved {
    pub status: String,
}

pub fn avatar_upload() -> Operation {
    Op::new(
        "startAvatarUpload",
        TAG,
        "A form to upload an avatar",
        "An S3 presigned POST: send every field of `upload.fields`, then the file as `file` (last), \
         as `multipart/form-data` to `upload.url` within `expires_in` seconds. Its policy binds the \
         object key, the declared `content_type` and a size of at most `size` bytes; S3 refuses \
         anything else. The file is then checked by its bytes (not its name or declared type): \
         a PNG, JPEG or WebP that decodes in full, at most 8192 pixels a side and 16 megapixels, \
         is re-encoded without its metadata (scaled to 1024 pixels a side at most) and becomes \
         the avatar; anything else ends as `rejected` with `unsupported_file`. A new form \
         replaces the current avatar. In local runs the URL is the local server's.",
    )
    .bearer()
    .body::<AvatarUploadRequest>(json!({"content_type": "image/png", "size": 48213}))
    .data::<UploadView>(
        201,
        "Upload the file with this form",
        json!({
            "upload": {
                "url": "https://users-avatars.s3.us-east-1.amazonaws.com",
                "fields": {
                    "key": "uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b/0c5e0d7a3b0e4a8f9d6c1b2a3f4e5d6c",
                    "Content-Type": "image/png",
                    "x-amz-algorithm": "AWS4-HMAC-SHA256",
                    "x-amz-credential": "AKIA…/20260101/us-east-1/s3/aws4_request",
                    "x-amz-date": "20260101T000000Z",
                    "policy": "eyJleHBpcmF0aW9uIjoi…",
                    "x-amz-signature": "3f1c…"
                },
                "expires_in": 600
            },
            "max_bytes": 48213
        }),
    )
    .uses_storage()
    .build()
}

pub fn avatar_get() -> Operation {
    Op::new(
        "getAvatar",
        TAG,
        "The avatar's state",
        "`none`, `processing` (uploaded or awaited, not checked yet; a form unused for 25 minutes \
         reads as `none` again), `ready` with `url` (a link \
         valid 15 minutes; `GET /users/me` shows it as `avatar_url`) or `rejected` with `error: \
         unsupported_file`.",
    )
    .bearer()
    .data::<AvatarView>(
        200,
        "Avatar",
        json!({"status": "ready", "url": "https://users-avatars.s3.us-east-1.amazonaws.com/avatars/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b/0c5e0d7a3b0e4a8f9d6c1b2a3f4e5d6c.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&…"}),
    )
    .uses_storage()
    .build()
}

pub fn avatar_delete() -> Operation {
    Op::new(
        "deleteAvatar",
        TAG,
        "Remove the avatar",
        "Removes the avatar and its files; 200 also when there was none.",
    )
    .bearer()
    .bodyless_action()
    .data::<AvatarRemoved>(200, "Avatar removed", json!({"status": "none"}))
    .uses_storage()
    .build()
}
