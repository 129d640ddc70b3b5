//! The avatar processor: S3 calls it for each object created under
//! `uploads/`; it checks the file by its bytes (`inspect`), stores the
//! clean image under its owner's prefix and records the verdict on the
//! owner's avatar (`ready`, or `rejected`: `unsupported_file`). The upload
//! itself is deleted either way. The only crate that links `image`; the
//! local server runs it in process on its stand-in bucket.

pub mod inspect;

use aws_lambda_events::event::s3::S3Event;
use shared::app::{StartupError, Stores};
use shared::config::Config;
use shared::domain::avatar::{parse_upload_key, stored_key, Avatar, AvatarStatus};
use shared::ports::StoreError;
use shared::usecases::avatars::settle;

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Checked and stored at this key.
    Ready(String),
    /// Not an image this service accepts.
    Rejected,
    /// Not an upload, already gone, or no longer awaited (replaced,
    /// removed): nothing to record.
    Ignored,
}

pub struct State {
    pub stores: Stores,
}

impl State {
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        Ok(Self {
            stores: Stores::from_config(&config).await?,
        })
    }
}

/// Every record of an S3 event; a storage failure fails the invocation,
/// which Lambda retries (the work is idempotent: a settled avatar is not
/// settled twice, and a processed upload is gone).
pub async fn handle(state: &State, event: S3Event) -> Result<(), StoreError> {
    for record in event.records {
        let Some(key) = record.s3.object.key else {
            continue;
        };
        // S3 URL-encodes keys in events; upload keys are made of
        // characters that encoding leaves alone (see `parse_upload_key`),
        // so any key it would change is not an upload anyway.
        let outcome = process_upload(&state.stores, &key).await?;
        tracing::info!(?outcome, "avatar upload processed");
    }
    Ok(())
}

/// Checks the upload at `key` and records the verdict.
pub async fn process_upload(stores: &Stores, key: &str) -> Result<Outcome, StoreError> {
    let Some((user, upload_id)) = parse_upload_key(key) else {
        tracing::warn!("an object outside the upload keys reached the processor");
        return Ok(Outcome::Ignored);
    };
    let objects = stores.objects.as_ref();
    let awaited = stores.avatars().avatar(user).await?.is_some_and(|avatar| {
        avatar.upload_id == upload_id && avatar.status == AvatarStatus::Processing
    });
    if !awaited {
        objects.delete(key).await?;
        return Ok(Outcome::Ignored);
    }
    let Some(bytes) = objects.get(key).await? else {
        return Ok(Outcome::Ignored);
    };
    // Decoding is CPU work: off the async threads (the local server
    // shares them with every request).
    let verdict = tokio::task::spawn_blocking(move || inspect::clean(&bytes))
        .await
        .map_err(|error| StoreError::internal(error.to_string()))?;
    let now = stores.clock.now();
    let (avatar, outcome) = match verdict {
        Ok(image) => {
            let stored = stored_key(user, &upload_id, image.format.extension());
            objects
                .put(&stored, image.bytes, image.format.content_type())
                .await?;
            let avatar = Avatar {
                upload_id,
                status: AvatarStatus::Ready,
                object_key: Some(stored.clone()),
                updated_at: now,
            };
            (avatar, Outcome::Ready(stored))
        }
        Err(rejection) => {
            tracing::info!(%rejection, "avatar upload rejected");
            let avatar = Avatar {
                upload_id,
                status: AvatarStatus::Rejected,
                object_key: None,
                updated_at: now,
            };
            (avatar, Outcome::Rejected)
        }
    };
    let settled = settle(stores.avatars(), objects, user, &avatar).await?;
    objects.delete(key).await?;
    Ok(if settled { outcome } else { Outcome::Ignored })
}
