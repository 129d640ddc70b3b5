//! Sending notifications: the email sender and the log of delivered events
//! that makes redelivered events harmless.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// A rendered email.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The event it reports, for tracing and de-duplication.
    pub event_id: Uuid,
    pub event_type: String,
}

/// Emails carry one-time links: never printed whole.
impl std::fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailMessage")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
    }
}

/// A text message to one number.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct SmsMessage {
    /// E.164.
    pub to: String,
    pub text: String,
    pub event_id: Uuid,
    pub event_type: String,
}

/// Texts carry one-time codes and numbers: never printed.
impl std::fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsMessage")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one transactional text; `Unavailable` when worth retrying.
    async fn send_sms(&self, message: &SmsMessage) -> Result<(), StoreError>;
}

#[async_trait]
pub trait EmailSender: Send + Sync {
    /// `Unavailable` when worth retrying.
    async fn send(&self, message: &EmailMessage) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Claims the delivery of event `id`: false when it was claimed before
    /// (a redelivery), so it is not sent twice.
    async fn claim_delivery(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Gives a claim back after a failed send, so a retry may send.
    async fn release_delivery(&self, id: Uuid) -> Result<(), StoreError>;
}
