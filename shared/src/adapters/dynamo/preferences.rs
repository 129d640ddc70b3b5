//! Preferences (`USER#id/PREFS`): one item per account, written with the
//! account and replaced whole.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_dynamo::{from_item, to_item};
use time::OffsetDateTime;

use super::errors::{mapping_error, store_error};
use super::keys::{self, Key};
use super::transact::Write;
use super::DynamoStore;
use crate::domain::preferences::Preferences;
use crate::domain::UserId;
use crate::ports::notification_profile::PreferencesStore;
use crate::ports::StoreError;

/// `entity` of a preferences item.
const PREFERENCES_ENTITY: &str = "preferences";

#[derive(Debug, Serialize, Deserialize)]
struct PreferencesItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    preferences: Preferences,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl DynamoStore {
    /// The default preferences of a new account, for its creation write.
    pub(super) fn put_default_preferences(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Write, StoreError> {
        let Key { pk, sk } = keys::preferences(user);
        let item = PreferencesItem {
            pk,
            sk,
            entity: PREFERENCES_ENTITY.into(),
            preferences: Preferences::default(),
            updated_at: at,
        };
        Write::create(&self.table, to_item(item).map_err(mapping_error)?)
    }
}

#[async_trait]
impl PreferencesStore for DynamoStore {
    async fn preferences(&self, user: UserId) -> Result<Option<Preferences>, StoreError> {
        match self.get_item(keys::preferences(user)).await? {
            Some(item) => Ok(Some(
                from_item::<_, PreferencesItem>(item)
                    .map_err(mapping_error)?
                    .preferences,
            )),
            None => Ok(None),
        }
    }

    async fn put_preferences(
        &self,
        user: UserId,
        preferences: &Preferences,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let Key { pk, sk } = keys::preferences(user);
        let item = PreferencesItem {
            pk,
            sk,
            entity: PREFERENCES_ENTITY.into(),
            preferences: preferences.clone(),
            updated_at: at,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(item).map_err(mapping_error)?))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
