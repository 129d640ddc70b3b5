//! One-time SMS codes in memory, with the table's semantics: the code only
//! as its keyed hash, guesses counted one by one under the lock.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::one_time::charge;
use super::sessions::insert_session;
use super::MemoryStore;
use crate::domain::{NotificationEvent, PhoneCodeKey, PhoneCodeRecord, RateWindow};
use crate::ports::one_time::IssueError;
use crate::ports::phone_codes::{PhoneCodes, SpendCodeError};
use crate::ports::sessions::NewSession;
use crate::ports::StoreError;

#[async_trait]
impl PhoneCodes for MemoryStore {
    async fn issue_phone_code(
        &self,
        code: Option<&PhoneCodeRecord>,
        events: &[NotificationEvent],
        windows: &[RateWindow],
    ) -> Result<(), IssueError> {
        let mut tables = self.lock();
        charge(&mut tables, windows)?;
        if let Some(code) = code {
            tables.phone_codes.insert(code.key.clone(), code.clone());
        }
        tables.outbox.extend_from_slice(events);
        Ok(())
    }

    async fn attempt_phone_code(
        &self,
        key: &PhoneCodeKey,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Option<PhoneCodeRecord>, StoreError> {
        let mut tables = self.lock();
        let Some(code) = tables
            .phone_codes
            .get_mut(key)
            .filter(|code| code.attempts < max_attempts && code.expires_at > now)
        else {
            return Ok(None);
        };
        code.attempts += 1;
        Ok(Some(code.clone()))
    }

    async fn spend_phone_code(&self, code: &PhoneCodeRecord) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        let stored = tables
            .phone_codes
            .get(&code.key)
            .is_some_and(|stored| stored.code_hash == code.code_hash);
        if stored {
            tables.phone_codes.remove(&code.key);
        }
        Ok(stored)
    }

    async fn start_phone_session(
        &self,
        code: &PhoneCodeRecord,
        new: &NewSession,
    ) -> Result<(), SpendCodeError> {
        let mut tables = self.lock();
        let stored = tables
            .phone_codes
            .get(&code.key)
            .is_some_and(|stored| stored.code_hash == code.code_hash);
        if !stored {
            return Err(SpendCodeError::Spent);
        }
        let user_id = new.session.user_id;
        if !tables.phone_users.contains_key(&user_id) {
            return Err(SpendCodeError::Spent);
        }
        insert_session(&mut tables, new)?;
        if let Some(user) = tables.phone_users.get_mut(&user_id) {
            user.last_login = Some(new.session.created_at);
        }
        tables.phone_codes.remove(&code.key);
        Ok(())
    }
}
