//! Avatars: handing out an upload form, reading and removing the picture,
//! and recording the processor's verdict (the check itself is the
//! `avatar-processor` crate's, the only one that decodes images).

pub use crate::requests::avatar::AvatarUploadRequest;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::adapters::bucket_signer::{
    BucketSigner, PresignedPost, SignError, DOWNLOAD_URL_TTL, UPLOAD_FORM_TTL,
};
use crate::domain::avatar::{upload_key, user_prefixes, Avatar, AvatarStatus, AVATAR_PREFIX};
use crate::domain::errors::{ErrorCode, FieldErrors};
use crate::domain::UserId;
use crate::ports::avatars::{AvatarStore, ObjectStore};
use crate::ports::{Clock, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("invalid avatar request")]
    Rejected(FieldErrors),
    #[error(transparent)]
    Signing(#[from] SignError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long an avatar may wait for its file: the upload form's life, then
/// time for S3's event delivery and the processor's retries. An avatar
/// still `processing` after that never got a file (the form was not used,
/// or its processing was lost), so it reads as `none` and the user can
/// simply upload again.
pub const ABANDONED_AFTER: std::time::Duration =
    std::time::Duration::from_secs(UPLOAD_FORM_TTL.as_secs() + 15 * 60);

/// The avatar operations of one request.
pub struct Avatars<'a> {
    pub store: &'a dyn AvatarStore,
    pub objects: &'a dyn ObjectStore,
    pub signer: &'a BucketSigner,
    pub clock: &'a dyn Clock,
}

/// `POST /users/me/avatar`'s answer.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadView {
    pub upload: UploadFormView,
    /// The largest file the form admits: the size declared.
    pub max_bytes: u64,
}

/// An S3 presigned POST: send `fields` as `multipart/form-data` fields,
/// then the file as the field `file` (last), to `url`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadFormView {
    pub url: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: Map<String, Value>,
    /// Seconds until the form expires.
    pub expires_in: u64,
}

impl UploadView {
    fn new(post: PresignedPost, max_bytes: u64) -> Self {
        Self {
            upload: UploadFormView {
                url: post.url,
                fields: post
                    .fields
                    .into_iter()
                    .map(|(name, value)| (name, Value::String(value)))
                    .collect(),
                expires_in: post.expires_in.as_secs(),
            },
            max_bytes,
        }
    }
}

/// `GET /users/me/avatar`'s answer.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvatarView {
    /// `none`, `processing`, `ready` or `rejected`.
    pub status: &'static str,
    /// A link to the image, valid 15 minutes (ready only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `unsupported_file` (rejected only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
}

impl Avatars<'_> {
    /// A form for one upload; the upload replaces the current avatar,
    /// whose files go at once.
    pub async fn start_upload(
        &self,
        user: UserId,
        request: AvatarUploadRequest,
    ) -> Result<UploadView, AvatarError> {
        let now = self.clock.now();
        let avatar = Avatar::waiting(now);
        let key = upload_key(user, &avatar.upload_id);
        let post = self
            .signer
            .presigned_post(
                &key,
                request.content_type.as_str(),
                request.size.bytes(),
                now.into(),
            )
            .await?;
        if let Some(previous) = self.store.replace_avatar(user, &avatar).await? {
            self.discard(user, &previous).await?;
        }
        Ok(UploadView::new(post, request.size.bytes()))
    }

    async fn discard(&self, user: UserId, avatar: &Avatar) -> Result<(), StoreError> {
        self.objects
            .delete(&upload_key(user, &avatar.upload_id))
            .await?;
        if let Some(key) = &avatar.object_key {
            self.objects.delete(key).await?;
        }
        Ok(())
    }

    /// The link to a ready avatar (`avatar_url`), else `None`.
    pub async fn url(&self, avatar: Option<&Avatar>) -> Result<Option<String>, AvatarError> {
        match avatar {
            Some(Avatar {
                status: AvatarStatus::Ready,
                object_key: Some(key),
                ..
            }) => Ok(Some(
                self.signer
                    .presigned_get(key, self.clock.now().into(), DOWNLOAD_URL_TTL)
                    .await?,
            )),
            _ => Ok(None),
        }
    }

    pub async fn view(&self, user: UserId) -> Result<AvatarView, AvatarError> {
        let avatar = self
            .store
            .avatar(user)
            .await?
            .filter(|avatar| !self.abandoned(avatar));
        Ok(AvatarView {
            status: match avatar.as_ref().map(|a| a.status) {
                None => "none",
                Some(AvatarStatus::Processing) => "processing",
                Some(AvatarStatus::Ready) => "ready",
                Some(AvatarStatus::Rejected) => "rejected",
            },
            url: self.url(avatar.as_ref()).await?,
            error: avatar
                .filter(|a| a.status == AvatarStatus::Rejected)
                .map(|_| ErrorCode::UnsupportedFile),
        })
    }

    fn abandoned(&self, avatar: &Avatar) -> bool {
        avatar.status == AvatarStatus::Processing
            && self.clock.now() - avatar.updated_at > ABANDONED_AFTER
    }

    /// Removes the avatar and every file of the user's.
    pub async fn remove(&self, user: UserId) -> Result<(), AvatarError> {
        self.store.remove_avatar(user).await?;
        for prefix in user_prefixes(user) {
            self.objects.delete_prefix(&prefix).await?;
        }
        Ok(())
    }
}

/// The processor's side: the verdict on one upload, recorded only if the
/// user still waits for it; returns whether it was.
pub async fn settle(
    store: &dyn AvatarStore,
    objects: &dyn ObjectStore,
    user: UserId,
    avatar: &Avatar,
) -> Result<bool, StoreError> {
    let settled = store.settle_avatar(user, avatar).await?;
    match (&avatar.object_key, settled) {
        // A newer upload or a removal came first: this image is no one's.
        (Some(key), false) => objects.delete(key).await?,
        // The user's older images go (a replaced avatar's, normally gone
        // already when the new form was handed out).
        (Some(key), true) => {
            for old in objects.list(&format!("{AVATAR_PREFIX}{user}/")).await? {
                if &old != key {
                    objects.delete(&old).await?;
                }
            }
        }
        (None, _) => {}
    }
    Ok(settled)
}
