//! `POST /auth/pre-register`: collects an email before sign-up. Asking
//! twice changes nothing; a later sign-up with the address marks it
//! converted (the notification worker does, on `user.registered`).

use super::email_links::{EmailLinkError, EmailRequest, LinkQuotas};
use super::Origin;
use crate::domain::Email;
use crate::ports::one_time::{IssueError, PreRegistrations};
use crate::ports::Clock;

pub struct PreRegister<'a> {
    pub store: &'a dyn PreRegistrations,
    pub clock: &'a dyn Clock,
    pub quotas: LinkQuotas,
}

impl PreRegister<'_> {
    /// The address as stored; the same answer whether it was new.
    #[tracing::instrument(name = "pre_register", skip_all)]
    pub async fn run(
        &self,
        request: EmailRequest,
        origin: &Origin,
    ) -> Result<Email, EmailLinkError> {
        let email = request.email;
        let now = self.clock.now();
        let windows = self.quotas.windows("prereg", &email, origin, now);
        match self.store.pre_register(&email, now, &windows).await {
            Ok(new) => {
                tracing::info!(new, "pre-registration recorded");
                Ok(email)
            }
            Err(IssueError::RateLimited(index)) => Err(EmailLinkError::RateLimited {
                retry_after: windows[index].retry_after(now),
            }),
            Err(IssueError::Store(error)) => Err(error.into()),
        }
    }
}
