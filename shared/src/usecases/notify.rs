//! The notification worker's handling of one event: side effects that
//! belong to the event (a sign-up converts its pre-registration), then the
//! email, sent once per event id however often the event is delivered.
//! Link emails get their token here: it is minted, its hash stored, and the
//! plain token put in the email only, so no queue or table ever holds it.

use serde_json::Value;

use super::email_links::mint_link_token;
use super::email_templates::{render, sends_email, LinkBase};
use super::phone_code::{open_sms, sealed_kid, SmsSettings};
use crate::crypto::phone_crypto::{PhoneKeyRing, PhoneKeysLoadError};
use crate::domain::one_time_token::OneTimeTokenError;
use crate::domain::preferences::Channel;
use crate::domain::{Email, EventType, NotificationEvent};
use crate::ports::notification_profile::PreferencesStore;
use crate::ports::notifications::{DeliveryLog, EmailMessage, EmailSender, SmsMessage, SmsSender};
use crate::ports::one_time::{OneTimeTokens, PreRegistrations};
use crate::ports::{Clock, StoreError, UserStore};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    Sent,
    /// Delivered before: not sent again.
    Duplicate,
    /// The event sends no email, or its account has no address.
    NothingToSend,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the message is not a notification event")]
    Malformed,
    #[error("storage or sending failed")]
    Store(#[from] StoreError),
    /// A sealed text that these keys cannot open (or no keys at all).
    #[error("the sealed message cannot be opened")]
    Unreadable,
}

impl From<PhoneKeysLoadError> for NotifyError {
    fn from(error: PhoneKeysLoadError) -> Self {
        match error {
            PhoneKeysLoadError::Source(error) => Self::Store(error),
            PhoneKeysLoadError::Invalid(_) => Self::Unreadable,
        }
    }
}

pub struct Notifier<'a> {
    pub users: &'a dyn UserStore,
    pub pre_registrations: &'a dyn PreRegistrations,
    pub one_time_tokens: &'a dyn OneTimeTokens,
    pub deliveries: &'a dyn DeliveryLog,
    pub preferences: &'a dyn PreferencesStore,
    pub sender: &'a dyn EmailSender,
    pub clock: &'a dyn Clock,
    pub links: &'a LinkBase,
    pub sms: &'a dyn SmsSender,
    /// Open the sealed texts; `None` where phone keys are not configured.
    pub phone_keys: Option<&'a PhoneKeyRing>,
    pub sms_settings: &'a SmsSettings,
}

impl Notifier<'_> {
    #[tracing::instrument(name = "notification", skip_all, fields(event_id, event_type))]
    pub async fn handle(&self, body: &str) -> Result<Notified, NotifyError> {
        let event: NotificationEvent =
            serde_json::from_str(body).map_err(|_| NotifyError::Malformed)?;
        let span = tracing::Span::current();
        span.record("event_id", tracing::field::display(event.id));
        span.record("event_type", event.event_type.as_str());
        if event.event_type == EventType::PhoneCodeRequested {
            return self.text(&event).await;
        }
        if event.event_type == EventType::UserRegistered {
            if let Some(email) = self.event_email(&event) {
                self.pre_registrations
                    .mark_converted(&email, event.user_id, event.occurred_at)
                    .await?;
            }
        }
        if !sends_email(event.event_type) {
            return Ok(Notified::NothingToSend);
        }
        let Some(to) = self.recipient(&event).await? else {
            return Ok(Notified::NothingToSend);
        };
        if let Some(category) = event.event_type.category() {
            let preferences = self
                .preferences
                .preferences(event.user_id)
                .await?
                .unwrap_or_default();
            if !preferences.allows(category, Channel::Email) {
                tracing::info!("the user turned these emails off");
                return Ok(Notified::NothingToSend);
            }
        }
        if !self
            .deliveries
            .claim_delivery(event.id, self.clock.now())
            .await?
        {
            tracing::info!("event delivered before; not sent again");
            return Ok(Notified::Duplicate);
        }
        match self.send(&event, &to).await {
            Ok(outcome) => {
                tracing::info!(?outcome, "notification handled");
                Ok(outcome)
            }
            Err(error) => {
                // Give the claim back so the redelivery sends it.
                if let Err(release) = self.deliveries.release_delivery(event.id).await {
                    tracing::error!(error = %release, "could not release the delivery claim");
                }
                Err(error)
            }
        }
    }

    /// Mints the link's token when the event carries a link, then renders
    /// and sends. A token minted for a send that fails is never mailed and
    /// expires unused; the redelivery mints another.
    async fn send(&self, event: &NotificationEvent, to: &Email) -> Result<Notified, NotifyError> {
        let token = match mint_link_token(event) {
            Ok(Some((token, record))) => {
                if !self.one_time_tokens.store_token(&record).await? {
                    tracing::info!("the account is gone or inactive; no link sent");
                    return Ok(Notified::NothingToSend);
                }
                Some(token)
            }
            Ok(None) => None,
            Err(OneTimeTokenError::Malformed) => return Err(NotifyError::Malformed),
            Err(error @ OneTimeTokenError::Randomness(_)) => {
                return Err(StoreError::internal(error.to_string()).into())
            }
        };
        let rendered = render(event, self.links, token.as_ref().map(|t| t.expose()))
            .ok_or(NotifyError::Malformed)?;
        let message = EmailMessage {
            to: to.as_str().to_owned(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            event_id: event.id,
            event_type: event.event_type.as_str().to_owned(),
        };
        self.sender.send(&message).await?;
        Ok(Notified::Sent)
    }

    /// Texts the event's sealed code, once per event id. A code past its
    /// expiry is not sent (a redelivery long after the request).
    async fn text(&self, event: &NotificationEvent) -> Result<Notified, NotifyError> {
        let expired = event
            .data
            .get("expires_at")
            .and_then(Value::as_i64)
            .is_some_and(|at| at <= self.clock.now().unix_timestamp());
        if expired {
            tracing::info!("code expired before it could be sent");
            return Ok(Notified::NothingToSend);
        }
        let ring = self.phone_keys.ok_or(NotifyError::Unreadable)?;
        let kid = sealed_kid(event).ok_or(NotifyError::Unreadable)?;
        let keys = ring.covering(&[kid.as_str()]).await?;
        let opened = open_sms(&keys, event, self.sms_settings).map_err(|error| {
            tracing::error!(error = %error, "sealed text does not open");
            NotifyError::Unreadable
        })?;
        if !self
            .deliveries
            .claim_delivery(event.id, self.clock.now())
            .await?
        {
            tracing::info!("event delivered before; not sent again");
            return Ok(Notified::Duplicate);
        }
        let message = SmsMessage {
            to: opened.to,
            text: opened.text,
            event_id: event.id,
            event_type: event.event_type.as_str().to_owned(),
        };
        if let Err(error) = self.sms.send_sms(&message).await {
            if let Err(release) = self.deliveries.release_delivery(event.id).await {
                tracing::error!(error = %release, "could not release the delivery claim");
            }
            return Err(error.into());
        }
        tracing::info!("text sent");
        Ok(Notified::Sent)
    }

    fn event_email(&self, event: &NotificationEvent) -> Option<Email> {
        event
            .data
            .get("email")
            .and_then(Value::as_str)
            .and_then(|e| Email::parse(e).ok())
    }

    /// The address in the event (links go to the address they were asked
    /// for), else the account's current one.
    async fn recipient(&self, event: &NotificationEvent) -> Result<Option<Email>, StoreError> {
        if let Some(email) = self.event_email(event) {
            return Ok(Some(email));
        }
        Ok(self.users.get(event.user_id).await?.map(|user| user.email))
    }
}
