//! Email senders: SES (with the `ses` feature), a mailbox a developer can
//! read in local runs, and a sender that only logs (Lambda without SES
//! configured).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::notifications::{EmailMessage, EmailSender, SmsMessage, SmsSender};
use crate::ports::StoreError;

/// The last emails and texts "sent" in a local run, newest last; served at
/// `GET /_local/outbox` by the local server.
#[derive(Default)]
pub struct LocalMailbox {
    messages: Mutex<VecDeque<EmailMessage>>,
    texts: Mutex<VecDeque<SmsMessage>>,
}

impl LocalMailbox {
    /// Older mail is dropped past this many.
    pub const CAPACITY: usize = 200;

    pub fn messages(&self) -> Vec<EmailMessage> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The texts (SMS codes) sent so far, newest last.
    pub fn texts(&self) -> Vec<SmsMessage> {
        self.texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[async_trait]
impl SmsSender for LocalMailbox {
    async fn send_sms(&self, message: &SmsMessage) -> Result<(), StoreError> {
        let mut texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
        if texts.len() == Self::CAPACITY {
            texts.pop_front();
        }
        texts.push_back(message.clone());
        Ok(())
    }
}

/// Drops every text with a warning naming its event (never the number or
/// the code): Lambda without an SMS service linked.
pub struct DiscardingSmsSender;

#[async_trait]
impl SmsSender for DiscardingSmsSender {
    async fn send_sms(&self, message: &SmsMessage) -> Result<(), StoreError> {
        tracing::warn!(
            event_id = %message.event_id,
            event_type = %message.event_type,
            "text not sent: no SMS service is linked into this function"
        );
        Ok(())
    }
}

#[async_trait]
impl EmailSender for LocalMailbox {
    async fn send(&self, message: &EmailMessage) -> Result<(), StoreError> {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() == Self::CAPACITY {
            messages.pop_front();
        }
        messages.push_back(message.clone());
        Ok(())
    }
}

/// Drops every email with a warning naming its event (never its content,
/// which may hold a one-time link).
pub struct DiscardingSender;

#[async_trait]
impl EmailSender for DiscardingSender {
    async fn send(&self, message: &EmailMessage) -> Result<(), StoreError> {
        tracing::warn!(
            event_id = %message.event_id,
            event_type = %message.event_type,
            "email not sent: SES_FROM_ADDRESS is not set"
        );
        Ok(())
    }
}

#[cfg(feature = "ses")]
pub use ses::SesSender;

#[cfg(feature = "ses")]
mod ses {
    use async_trait::async_trait;
    use aws_sdk_sesv2::error::{DisplayErrorContext, SdkError};
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
    use aws_sdk_sesv2::Client;

    use crate::ports::notifications::{EmailMessage, EmailSender};
    use crate::ports::StoreError;

    pub struct SesSender {
        client: Client,
        from: String,
    }

    impl SesSender {
        pub async fn new(from: impl Into<String>) -> Self {
            Self::with_client(Client::new(crate::app::sdk_config()), from)
        }

        pub fn with_client(client: Client, from: impl Into<String>) -> Self {
            Self {
                client,
                from: from.into(),
            }
        }
    }

    fn content(text: &str) -> Result<Content, StoreError> {
        Content::builder()
            .data(text)
            .charset("UTF-8")
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))
    }

    #[async_trait]
    impl EmailSender for SesSender {
        async fn send(&self, message: &EmailMessage) -> Result<(), StoreError> {
            let email = Message::builder()
                .subject(content(&message.subject)?)
                .body(
                    Body::builder()
                        .text(content(&message.text)?)
                        .html(content(&message.html)?)
                        .build(),
                )
                .build();
            let result = self
                .client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(&message.to).build())
                .content(EmailContent::builder().simple(email).build())
                .send()
                .await;
            match result {
                Ok(_) => Ok(()),
                // Throttling and outages come back; a refused message
                // (unverified sender, bad address) would fail again.
                Err(error @ (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_))) => Err(
                    StoreError::Unavailable(DisplayErrorContext(&error).to_string().into()),
                ),
                Err(error) => {
                    let throttled = error.as_service_error().is_some_and(|e| {
                        e.is_too_many_requests_exception() || e.is_limit_exceeded_exception()
                    });
                    let described = DisplayErrorContext(&error).to_string();
                    if throttled {
                        Err(StoreError::Unavailable(described.into()))
                    } else {
                        Err(StoreError::Internal(described.into()))
                    }
                }
            }
        }
    }
}
