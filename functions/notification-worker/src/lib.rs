//! The notification worker: an SQS-triggered function that turns each
//! notification event into its email (`usecases::notify`) and sends it
//! once; failed sends are delivered again, then dead-lettered.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::adapters::email::LocalMailbox;
use shared::app::{StartupError, Stores};
use shared::background::{email_sender, sms_sender};
use shared::config::Config;
use shared::crypto::phone_crypto::PhoneKeyRing;
use shared::ports::notifications::{EmailSender, SmsSender};
use shared::usecases::email_templates::LinkBase;
use shared::usecases::notify::{Notifier, NotifyError};
use shared::usecases::phone_code::SmsSettings;

pub struct State {
    pub stores: Stores,
    pub sender: Arc<dyn EmailSender>,
    pub sms: Arc<dyn SmsSender>,
    pub phone_keys: Option<Arc<PhoneKeyRing>>,
    pub links: LinkBase,
    pub sms_settings: SmsSettings,
}

impl State {
    pub fn new(
        stores: &Stores,
        config: &Config,
        sender: Arc<dyn EmailSender>,
        sms: Arc<dyn SmsSender>,
    ) -> Self {
        Self {
            stores: stores.clone(),
            sender,
            sms,
            phone_keys: stores.phone_keys(),
            links: config.link_base.clone(),
            sms_settings: config.sms.clone(),
        }
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let mailbox = Arc::new(LocalMailbox::default());
        let sender = email_sender(&config, mailbox.clone()).await;
        let sms = sms_sender(&config, mailbox).await;
        Ok(Self::new(&stores, &config, sender, sms))
    }
}

pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    let notifier = Notifier {
        users: state.stores.users(),
        pre_registrations: state.stores.pre_registrations(),
        one_time_tokens: state.stores.one_time_tokens(),
        deliveries: state.stores.deliveries(),
        preferences: state.stores.preferences(),
        sender: state.sender.as_ref(),
        clock: state.stores.clock.as_ref(),
        links: &state.links,
        sms: state.sms.as_ref(),
        phone_keys: state.phone_keys.as_deref(),
        sms_settings: &state.sms_settings,
    };
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        match notifier.handle(body).await {
            Ok(outcome) => tracing::debug!(message_id = %id, ?outcome, "notification handled"),
            Err(error) => {
                if matches!(error, NotifyError::Malformed) {
                    tracing::error!(message_id = %id, "not a notification event");
                } else {
                    tracing::warn!(message_id = %id, error = %error, "notification to be retried");
                }
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
