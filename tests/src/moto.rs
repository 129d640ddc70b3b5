//! SQS, SES, SNS and Secrets Manager on `moto_server`, which the test script
//! starts on loopback and names in `MOTO_ENDPOINT`. DynamoDB is on DynamoDB
//! Local: see `crate::dynamodb`.

use std::sync::Arc;

pub fn endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect(
        "MOTO_ENDPOINT is not set: run the tests with infra/test.sh, which starts moto_server on 127.0.0.1",
    )
}

/// A Secrets Manager client for the same moto server.
pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A secret of its own for one test (`prefix` plus a random suffix).
pub async fn create_secret(
    client: &aws_sdk_secretsmanager::Client,
    prefix: &str,
    value: &str,
) -> String {
    let name = format!("users-test/{prefix}-{}", uuid::Uuid::new_v4().simple());
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret on moto");
    name
}

pub async fn put_secret(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("put secret on moto");
}

/// An SQS client for the same moto server.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A fresh queue and its dead-letter queue on moto, as the template makes
/// them: messages move to the dead letters after `max_receives` receives.
pub async fn fresh_queue(
    prefix: &str,
    max_receives: u32,
) -> (
    shared::adapters::sqs::SqsQueue,
    shared::adapters::sqs::SqsQueue,
) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let client = sqs_client();
    let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let dead = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .expect("create dead-letter queue on moto");
    let dead_url = dead.queue_url.expect("queue url");
    let dead_arn = client
        .get_queue_attributes()
        .queue_url(&dead_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dead-letter queue arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn");
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_arn,
        "maxReceiveCount": max_receives.to_string(),
    });
    let queue = client
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .expect("create queue on moto");
    (
        shared::adapters::sqs::SqsQueue::new(client.clone(), queue.queue_url.expect("queue url")),
        shared::adapters::sqs::SqsQueue::new(client, dead_url),
    )
}

/// Every queue on moto, with dead letters after `max_receives` receives.
pub async fn fresh_queues(max_receives: u32) -> shared::background::Queues {
    let (tasks, tasks_dead) = fresh_queue("tasks", max_receives).await;
    let (account_tasks, account_tasks_dead) = fresh_queue("account-tasks", max_receives).await;
    let (notifications, notifications_dead) = fresh_queue("notifications", max_receives).await;
    shared::background::Queues {
        tasks: Arc::new(tasks),
        account_tasks: Arc::new(account_tasks),
        notifications: Arc::new(notifications),
        tasks_dead_letters: Some(Arc::new(tasks_dead)),
        account_tasks_dead_letters: Some(Arc::new(account_tasks_dead)),
        notifications_dead_letters: Some(Arc::new(notifications_dead)),
    }
}

/// An SQS queue at an address where nothing listens: an outage.
pub fn dead_queue() -> shared::adapters::sqs::SqsQueue {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .timeout_config(
            aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_millis(200))
                .build(),
        )
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
    shared::adapters::sqs::SqsQueue::new(
        aws_sdk_sqs::Client::from_conf(config),
        "http://127.0.0.1:9/123456789012/gone",
    )
}

/// An SES (v2) client for the same moto server.
/// An SNS client for the same moto server.
pub fn sns_client() -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sns::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

pub fn ses_client() -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}
