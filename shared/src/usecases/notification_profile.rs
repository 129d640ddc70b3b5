//! The signed-in user's notification preferences and push tokens.

pub use crate::requests::preferences::PreferencesUpdateRequest;
pub use crate::requests::push_tokens::PushTokenCreateRequest;

use crate::domain::errors::FieldErrors;
use crate::domain::preferences::Preferences;
use crate::domain::push_token::{PushToken, PushTokenChange, PushTokenId};
use crate::domain::UserId;
use crate::ports::notification_profile::{PreferencesStore, PushTokenStore, ValueChange};
use crate::ports::{Clock, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum NotificationProfileError {
    #[error("request rejected")]
    Rejected(FieldErrors),
    /// Unknown, or another user's.
    #[error("no such push token")]
    NotFound,
    #[error("storage failed")]
    Store(#[from] StoreError),
}

pub struct NotificationProfile<'a> {
    pub preferences: &'a dyn PreferencesStore,
    pub push_tokens: &'a dyn PushTokenStore,
    pub clock: &'a dyn Clock,
}

impl NotificationProfile<'_> {
    /// The stored preferences, or the defaults.
    pub async fn preferences(&self, user: UserId) -> Result<Preferences, NotificationProfileError> {
        Ok(self
            .preferences
            .preferences(user)
            .await?
            .unwrap_or_default())
    }

    /// Applies the switches in `fields` (see `Preferences::apply`).
    #[tracing::instrument(name = "update_preferences", skip_all)]
    pub async fn update_preferences(
        &self,
        user: UserId,
        request: &PreferencesUpdateRequest,
    ) -> Result<Preferences, NotificationProfileError> {
        let current = self.preferences(user).await?;
        let updated = current.apply(request.switches());
        if updated != current {
            self.preferences
                .put_preferences(user, &updated, self.clock.now())
                .await?;
        }
        Ok(updated)
    }

    /// Registers a token; true when it is new to this account.
    #[tracing::instrument(name = "register_push_token", skip_all)]
    pub async fn register_push_token(
        &self,
        user: UserId,
        new: PushTokenCreateRequest,
    ) -> Result<(PushToken, bool), NotificationProfileError> {
        let now = self.clock.now();
        let token = PushToken {
            id: PushTokenId::new_random(),
            user_id: user,
            platform: new.platform,
            token: new.token,
            device_id: new.device_id,
            active: true,
            created_at: now,
            last_used_at: now,
        };
        let stored = self.push_tokens.register_push_token(&token).await?;
        Ok((stored.clone(), stored.id == token.id))
    }

    pub async fn push_tokens(
        &self,
        user: UserId,
    ) -> Result<Vec<PushToken>, NotificationProfileError> {
        Ok(self.push_tokens.push_tokens(user).await?)
    }

    pub async fn push_token(
        &self,
        user: UserId,
        id: PushTokenId,
    ) -> Result<PushToken, NotificationProfileError> {
        self.push_tokens
            .push_token(user, id)
            .await?
            .ok_or(NotificationProfileError::NotFound)
    }

    pub async fn update_push_token(
        &self,
        user: UserId,
        id: PushTokenId,
        change: PushTokenChange,
    ) -> Result<PushToken, NotificationProfileError> {
        for _ in 0..3 {
            let current = self.push_token(user, id).await?;
            let updated = change.apply(&current);
            if updated == current {
                return Ok(updated);
            }
            if updated.token == current.token {
                if !self.push_tokens.update_push_token(&updated).await? {
                    return Err(NotificationProfileError::NotFound);
                }
                return Ok(updated);
            }
            match self
                .push_tokens
                .change_push_token_value(&current, &updated)
                .await?
            {
                ValueChange::Done => return Ok(updated),
                ValueChange::Gone => return Err(NotificationProfileError::NotFound),
                ValueChange::Stale => {}
            }
        }
        Err(StoreError::Unavailable("the push token kept changing".into()).into())
    }

    pub async fn delete_push_token(
        &self,
        user: UserId,
        id: PushTokenId,
    ) -> Result<(), NotificationProfileError> {
        if self.push_tokens.delete_push_token(user, id).await? {
            Ok(())
        } else {
            Err(NotificationProfileError::NotFound)
        }
    }

    pub async fn deactivate_push_tokens(
        &self,
        user: UserId,
    ) -> Result<usize, NotificationProfileError> {
        Ok(self.push_tokens.deactivate_push_tokens(user).await?)
    }
}

/// Push tokens tied to a device go when that device's session ends
/// (logout); with `all`, every device-tied token goes. A failure is
/// logged: the sessions are ended already, and the clean-up job prunes
/// tokens that stay unused.
pub async fn drop_tokens_of_ended_sessions(
    push_tokens: &dyn PushTokenStore,
    user: UserId,
    device: Option<&crate::domain::DeviceId>,
    all: bool,
) {
    let result = if all {
        match push_tokens.push_tokens(user).await {
            Ok(tokens) => {
                let mut devices: Vec<crate::domain::DeviceId> =
                    tokens.into_iter().filter_map(|t| t.device_id).collect();
                devices.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                devices.dedup();
                let mut dropped = Ok(0);
                for device in &devices {
                    dropped = push_tokens.drop_device_push_tokens(user, device).await;
                    if dropped.is_err() {
                        break;
                    }
                }
                dropped
            }
            Err(error) => Err(error),
        }
    } else if let Some(device) = device {
        push_tokens.drop_device_push_tokens(user, device).await
    } else {
        Ok(0)
    };
    if let Err(error) = result {
        tracing::warn!(error = %error, "could not drop the push tokens of ended sessions");
    }
}
