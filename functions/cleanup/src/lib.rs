//! The scheduled clean-up (EventBridge): unverified accounts past their
//! age, tasks whose worker died, outbox events the stream relay missed,
//! push tokens long unused, account deletions that stalled.
//! See `usecases::cleanup`; safe to run twice at once.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use shared::app::{StartupError, Stores};
use shared::background::{queue, QueueName};
use shared::config::Config;
use shared::ports::queues::MessageQueue;
use shared::ports::StoreError;
use shared::usecases::cleanup::{Cleanup, CleanupPolicy, CleanupReport};
use shared::usecases::relay::Relay;

pub struct State {
    pub stores: Stores,
    pub notifications: Arc<dyn MessageQueue>,
    /// Where stalled account deletions are queued again.
    pub account_tasks: Arc<dyn MessageQueue>,
    pub policy: CleanupPolicy,
}

impl State {
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let stores = Stores::from_config(&config).await?;
        let notifications = queue(&config, QueueName::Notifications).await?;
        let account_tasks = queue(&config, QueueName::AccountTasks).await?;
        Ok(Self {
            stores,
            notifications,
            account_tasks,
            policy: config.cleanup,
        })
    }
}

/// The schedule's event carries nothing the job needs; any event runs it.
pub async fn handle(state: &State, _event: EventBridgeEvent) -> Result<CleanupReport, StoreError> {
    Cleanup {
        accounts: state.stores.unverified(),
        tasks: state.stores.tasks(),
        push_tokens: state.stores.push_tokens(),
        account_data: state.stores.account_data(),
        directory: state.stores.directory(),
        account_tasks_queue: state.account_tasks.as_ref(),
        relay: Relay {
            outbox: state.stores.outbox(),
            queue: state.notifications.as_ref(),
        },
        clock: state.stores.clock.as_ref(),
        policy: state.policy,
    }
    .run()
    .await
}
