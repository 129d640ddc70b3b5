//! Avatars: the upload a user asks for, the state of their picture, and
//! where its objects live in the bucket.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::errors::{FieldError, FieldErrors};
use super::request::{FieldValue, Reading};
use super::UserId;

/// The largest upload the presigned form admits (its policy says so).
pub const MAX_AVATAR_BYTES: u64 = 5 * 1024 * 1024;
/// Where uploads land, `uploads/<user>/<upload>`: the processor's trigger
/// filters on it, and a lifecycle rule removes what stays there.
pub const UPLOAD_PREFIX: &str = "uploads/";
/// Where checked images live, `avatars/<user>/<upload>.<ext>`.
pub const AVATAR_PREFIX: &str = "avatars/";

/// The types an upload may declare. The declaration binds the upload's
/// `Content-Type`; the processor still decides by the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AvatarContentType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
}

impl AvatarContentType {
    pub const ALL: [Self; 3] = [Self::Jpeg, Self::Png, Self::Webp];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

const CONTENT_TYPES: &str = "Use image/jpeg, image/png or image/webp.";

impl FieldValue for AvatarContentType {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let parsed = value.as_str().and_then(Self::parse);
        Reading::from_result(
            parsed.ok_or_else(|| FieldError::invalid(CONTENT_TYPES)),
            name,
            errors,
        )
    }
}

/// The size an upload declares, in bytes: 1 to [`MAX_AVATAR_BYTES`], which
/// the presigned form then enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvatarSize(u64);

impl AvatarSize {
    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl FieldValue for AvatarSize {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value.as_u64() {
            Some(size @ 1..=MAX_AVATAR_BYTES) => Ok(Self(size)),
            Some(size) if size > MAX_AVATAR_BYTES => Err(FieldError::invalid(format!(
                "An avatar may be at most 5 MiB ({MAX_AVATAR_BYTES} bytes)."
            ))),
            _ => Err(FieldError::invalid("A size in bytes, at least 1.")),
        };
        Reading::from_result(result, name, errors)
    }
}

crate::field_schema!(AvatarSize => integer()
    .minimum(Some(1))
    .maximum(Some(MAX_AVATAR_BYTES)));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AvatarStatus {
    /// Uploaded (or about to be), not checked yet.
    Processing,
    Ready,
    /// The file was not an image this service accepts (`unsupported_file`).
    Rejected,
}

/// The avatar of one user: the upload it waits for or came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// Random, names the upload's objects; a new upload replaces it.
    pub upload_id: String,
    pub status: AvatarStatus,
    /// The checked image, once ready.
    pub object_key: Option<String>,
    pub updated_at: OffsetDateTime,
}

impl Avatar {
    pub fn waiting(now: OffsetDateTime) -> Self {
        Self {
            upload_id: uuid::Uuid::new_v4().simple().to_string(),
            status: AvatarStatus::Processing,
            object_key: None,
            updated_at: now,
        }
    }
}

/// The key an upload is posted to.
pub fn upload_key(user: UserId, upload_id: &str) -> String {
    format!("{UPLOAD_PREFIX}{user}/{upload_id}")
}

/// The key of the checked image of an upload.
pub fn stored_key(user: UserId, upload_id: &str, extension: &str) -> String {
    format!("{AVATAR_PREFIX}{user}/{upload_id}.{extension}")
}

/// Every prefix that holds a user's objects (for the account's erasure).
pub fn user_prefixes(user: UserId) -> [String; 2] {
    [
        format!("{UPLOAD_PREFIX}{user}/"),
        format!("{AVATAR_PREFIX}{user}/"),
    ]
}

/// The owner and upload id of an upload key; `None` for any other key.
pub fn parse_upload_key(key: &str) -> Option<(UserId, String)> {
    let rest = key.strip_prefix(UPLOAD_PREFIX)?;
    let (user, upload) = rest.split_once('/')?;
    let user = uuid::Uuid::parse_str(user).ok()?;
    let valid = upload.len() == 32 && upload.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| (UserId::from_uuid(user), upload.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_names_the_document_lists_are_the_ones_parsed() {
        for kind in AvatarContentType::ALL {
            assert_eq!(json!(kind), json!(kind.as_str()));
            assert_eq!(AvatarContentType::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn upload_keys_name_their_owner() {
        let user = UserId::from_uuid(uuid::Uuid::new_v4());
        let avatar = Avatar::waiting(OffsetDateTime::UNIX_EPOCH);
        let key = upload_key(user, &avatar.upload_id);
        assert_eq!(parse_upload_key(&key), Some((user, avatar.upload_id)));
        assert_eq!(parse_upload_key("uploads/x/y"), None);
        assert_eq!(parse_upload_key(&format!("avatars/{user}/a.png")), None);
    }
}
