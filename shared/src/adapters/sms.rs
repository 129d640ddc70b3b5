//! Texts through Amazon SNS: `Publish` straight to a phone number, marked
//! transactional (delivery is optimised for reliability, as one-time codes
//! need, rather than cost).

use async_trait::async_trait;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::ports::notifications::{SmsMessage, SmsSender};
use crate::ports::StoreError;

pub struct SnsSender {
    client: Client,
}

impl SnsSender {
    pub async fn new() -> Self {
        Self::with_client(Client::new(crate::app::sdk_config()))
    }

    pub fn with_client(client: Client) -> Self {
        Self { client }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| StoreError::Internal(Box::new(e)))
}

#[async_trait]
impl SmsSender for SnsSender {
    async fn send_sms(&self, message: &SmsMessage) -> Result<(), StoreError> {
        let result = self
            .client
            .publish()
            .phone_number(&message.to)
            .message(&message.text)
            .message_attributes("AWS.SNS.SMS.SMSType", attribute("Transactional")?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Outages and throttling come back; a refused number or an
            // account over its spending limit would fail again. The error
            // text names neither the number nor the message.
            Err(error @ (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_))) => Err(
                StoreError::Unavailable(DisplayErrorContext(&error).to_string().into()),
            ),
            Err(error) => {
                // SNS names throttling only by its error code.
                let throttled = error.as_service_error().is_some_and(|e| {
                    e.is_internal_error_exception() || e.code() == Some("Throttling")
                });
                // Only the error code: a service's message may quote the
                // number it refused.
                let described = format!(
                    "SNS Publish failed: {}",
                    error
                        .as_service_error()
                        .and_then(|e| e.code())
                        .unwrap_or("unknown error")
                );
                if throttled {
                    Err(StoreError::Unavailable(described.into()))
                } else {
                    Err(StoreError::Internal(described.into()))
                }
            }
        }
    }
}
