//! The account as authentication reads it: in clear what authorisation
//! checks, the rest (contact and phone numbers) still sealed as stored
//! until a route that shows or changes the profile opens it. Most
//! authenticated routes never decrypt a number nor read the phone keys.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Account, UserId, UserStatus};

/// Which of the two account shapes an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A username (or email-only) account: password and profile.
    Member,
    /// A phone sign-up account.
    Phone,
}

/// Turns an account's stored form into the domain account: where an
/// adapter decrypts the numbers it holds.
#[async_trait]
pub trait OpenAccount: Send + Sync {
    async fn open(&self) -> Result<Account, StoreError>;
}

/// An account read by authentication, not decrypted yet.
#[derive(Clone)]
pub struct StoredAccount {
    id: UserId,
    kind: AccountKind,
    status: UserStatus,
    sealed: Arc<dyn OpenAccount>,
}

impl StoredAccount {
    /// An account whose stored form `sealed` opens; `id`, `kind` and
    /// `status` are read from that form without opening it.
    pub fn sealed(
        id: UserId,
        kind: AccountKind,
        status: UserStatus,
        sealed: Arc<dyn OpenAccount>,
    ) -> Self {
        Self {
            id,
            kind,
            status,
            sealed,
        }
    }

    /// An account an adapter holds in clear (the in-memory twin).
    pub fn open_already(account: Account) -> Self {
        let kind = match account {
            Account::Member(_) => AccountKind::Member,
            Account::Phone(_) => AccountKind::Phone,
        };
        Self {
            id: account.id(),
            kind,
            status: account.status(),
            sealed: Arc::new(account),
        }
    }

    pub fn id(&self) -> UserId {
        self.id
    }

    pub fn kind(&self) -> AccountKind {
        self.kind
    }

    pub fn status(&self) -> UserStatus {
        self.status
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    /// The whole account, its numbers decrypted (the phone keys read if
    /// this instance has not yet): for the routes that need them.
    pub async fn open(&self) -> Result<Account, StoreError> {
        self.sealed.open().await
    }
}

impl fmt::Debug for StoredAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredAccount")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl OpenAccount for Account {
    async fn open(&self) -> Result<Account, StoreError> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PhoneNumber, PhoneUser, ProfileText};
    use time::OffsetDateTime;

    #[tokio::test]
    async fn an_account_held_in_clear_opens_to_itself() {
        let now = OffsetDateTime::now_utc();
        let account = Account::Phone(PhoneUser {
            id: UserId::new_random(),
            phone: PhoneNumber::from_e164("+919876543210").unwrap(),
            name: ProfileText::from_stored("A".into()),
            status: UserStatus::Inactive,
            location_id: None,
            needs_profile: true,
            created_at: now,
            updated_at: now,
            last_login: None,
        });
        let stored = StoredAccount::open_already(account.clone());
        assert_eq!(stored.id(), account.id());
        assert_eq!(stored.kind(), AccountKind::Phone);
        assert!(!stored.is_active());
        assert_eq!(stored.open().await.unwrap(), account);
    }
}
