//! The emails of each notification event: subject, plain text and HTML.

use serde_json::Value;

use crate::domain::{EventType, NotificationEvent};

/// Where the links in emails point: the service's own pages by default, or
/// a client app that handles them (`APP_BASE_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    base: String,
    own_pages: bool,
}

impl LinkBase {
    /// A client app's routes, `{base}/confirm-email?token=…`, as the apps
    /// that already handle these links expect.
    pub fn app(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            own_pages: false,
        }
    }

    /// The service's own pages on its public base URL,
    /// `{base}/ui/confirm-email#token=…`: in the fragment, the token
    /// reaches no server log and no `Referer`.
    pub fn pages(public_base_url: impl Into<String>) -> Self {
        Self {
            base: public_base_url.into(),
            own_pages: true,
        }
    }

    /// The link to `page` carrying `token`.
    pub fn link(&self, page: &str, token: &str) -> String {
        let base = self.base.trim_end_matches('/');
        if self.own_pages {
            format!("{base}/ui/{page}#token={token}")
        } else {
            format!("{base}/{page}?token={token}")
        }
    }
}

impl Default for LinkBase {
    fn default() -> Self {
        Self::app("http://localhost:4200")
    }
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Whether an event of this type sends an email at all.
pub fn sends_email(event_type: EventType) -> bool {
    // A phone code is texted, not mailed.
    !matches!(
        event_type,
        EventType::EmailConfirmed | EventType::PhoneCodeRequested
    )
}

/// The email an event sends, `None` for events that send none. `token` is
/// the link's token, minted by the worker for the events that carry a link.
pub fn render(
    event: &NotificationEvent,
    links: &LinkBase,
    token: Option<&str>,
) -> Option<Rendered> {
    let data = &event.data;
    let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
    let link = |path: &str| links.link(path, token.unwrap_or_default());
    let (subject, lines, action): (&str, Vec<String>, Option<(String, &str)>) =
        match event.event_type {
            EventType::UserRegistered => (
                "Welcome",
                vec![format!(
                    "Welcome, {}. Your account is ready.",
                    field("username")
                )],
                None,
            ),
            EventType::EmailConfirmationRequested => (
                "Confirm your email address",
                vec![
                    "Please confirm your email address. The link is valid for 24 hours.".into(),
                    "If you did not create an account, ignore this email.".into(),
                ],
                Some((link("confirm-email"), "Confirm email")),
            ),
            EventType::PasswordResetRequested => (
                "Reset your password",
                vec![
                    "Someone asked to reset your password. The link is valid for one hour \
                     and works once."
                        .into(),
                    "If it was not you, ignore this email: your password stays as it is.".into(),
                ],
                Some((link("reset-password"), "Choose a new password")),
            ),
            EventType::PasswordChanged => (
                "Your password was changed",
                vec![
                    "The password of your account was changed and your other sessions were \
                     ended."
                        .into(),
                    "If it was not you, reset your password now and contact support.".into(),
                ],
                None,
            ),
            EventType::LoginNewDevice => (
                "New sign-in to your account",
                vec![format!(
                    "Your account was signed in to from a new device ({}).",
                    data.get("platform")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                )],
                None,
            ),
            EventType::TokenReuse => (
                "We ended a session of your account",
                vec![
                    "A sign-in token of your account was used twice, which suggests it was \
                     copied. We ended that session; sign in again on your device."
                        .into(),
                ],
                None,
            ),
            EventType::UserDeleted => (
                "Your account has been deleted",
                vec![
                    "Your account and its data have been deleted, as you asked. This is the \
                     last email we send you."
                        .into(),
                ],
                None,
            ),
            EventType::EmailChangeRequested => (
                "Confirm your new email address",
                vec![
                    "Someone asked to use this address for their account. The change applies \
                     only when this link is used; it is valid for 24 hours and works once."
                        .into(),
                    "If it was not you, ignore this email.".into(),
                ],
                Some((link("confirm-email"), "Confirm the new address")),
            ),
            // No link: nothing in a mail to the old address can change the
            // account, so a copy of it is worth nothing to anyone.
            EventType::EmailChangeNotice => (
                "Your email address is about to change",
                vec![
                    format!(
                        "Someone signed in to your account asked to change its email address \
                         to {}. It changes only once the new address is confirmed.",
                        field("new_email")
                    ),
                    "If it was not you, change your password now (which also signs out \
                     every other session) and contact support."
                        .into(),
                ],
                None,
            ),
            EventType::EmailChanged => (
                "Your email address was changed",
                vec![
                    format!(
                        "The email address of your account is now {}; this address no longer \
                         belongs to it.",
                        field("new_email")
                    ),
                    "If it was not you, contact support now.".into(),
                ],
                None,
            ),
            // Texted, not mailed (see `usecases::phone_code`).
            EventType::EmailConfirmed | EventType::PhoneCodeRequested => return None,
        };
    let mut text = lines.join("\n\n");
    let mut html: String = lines
        .iter()
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect();
    if let Some((url, label)) = action {
        text.push_str(&format!("\n\n{label}: {url}"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(&url),
            escape(label)
        ));
    }
    Some(Rendered {
        subject: subject.into(),
        text,
        html: format!("<!doctype html><html><body>{html}</body></html>"),
    })
}

/// Minimal HTML escaping for text and attribute values; written here
/// because five replacements do not warrant a templating crate.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use serde_json::json;

    #[test]
    fn every_event_renders_and_escapes() {
        for event_type in EventType::ALL {
            let event = NotificationEvent::new(
                event_type,
                UserId::new_random(),
                time::OffsetDateTime::now_utc(),
                json!({"username": "<b>al</b>", "email": "a@example.com"}),
            );
            let links = LinkBase::app("https://app.example/");
            let Some(mail) = render(&event, &links, Some("ec_a&b")) else {
                assert!(matches!(
                    event_type,
                    EventType::EmailConfirmed | EventType::PhoneCodeRequested
                ));
                assert!(!sends_email(event_type));
                continue;
            };
            assert!(sends_email(event_type));
            assert!(!mail.html.contains("<b>al</b>"));
            if matches!(
                event_type,
                EventType::EmailChangeNotice | EventType::EmailChanged
            ) {
                assert!(!mail.text.contains("token="), "{event_type:?} has a link");
                assert!(!mail.html.contains("href"), "{event_type:?} has a link");
            }
            if event_type == EventType::EmailConfirmationRequested {
                assert!(mail
                    .text
                    .contains("https://app.example/confirm-email?token=ec_a&b"));
                assert!(mail.html.contains("token=ec_a&amp;b"));
            }
        }
    }
}
