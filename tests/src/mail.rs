//! Reading the local mailbox as a user reads their email.

use shared::ports::notifications::{EmailMessage, SmsMessage};

/// The token in the link of the newest email of `event_type`.
pub fn last_token(messages: &[EmailMessage], event_type: &str) -> Option<String> {
    messages
        .iter()
        .rev()
        .find(|m| m.event_type == event_type)
        .and_then(|m| m.text.split("token=").nth(1))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
}

/// The token in the link of the newest email of `event_type` sent to `to`.
pub fn last_token_to(messages: &[EmailMessage], event_type: &str, to: &str) -> Option<String> {
    let mine: Vec<EmailMessage> = messages.iter().filter(|m| m.to == to).cloned().collect();
    last_token(&mine, event_type)
}

/// The code of the newest text (its first six digits).
pub fn last_code(texts: &[SmsMessage]) -> Option<String> {
    texts.last().map(|m| m.text.chars().take(6).collect())
}

/// The code of the newest text sent to `to` (E.164).
pub fn last_code_to(texts: &[SmsMessage], to: &str) -> Option<String> {
    let mine: Vec<SmsMessage> = texts.iter().filter(|m| m.to == to).cloned().collect();
    last_code(&mine)
}
