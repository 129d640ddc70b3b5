//! DynamoDB on `moto_server`, which the test script starts on loopback and
//! names in `MOTO_ENDPOINT`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use shared::adapters::dynamo::table::ensure_table;
use shared::adapters::dynamo::DynamoStore;
use shared::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};

pub fn endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect(
        "MOTO_ENDPOINT is not set: run the tests with infra/test.sh, which starts moto_server on 127.0.0.1",
    )
}

pub fn client() -> Client {
    Client::from_conf(client_config().build())
}

fn client_config() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
}

pub async fn fresh_table() -> DynamoStore {
    table_on(client()).await
}

/// A fresh table whose client counts every request it sends.
pub async fn counted_table(counter: crate::round_trips::RoundTrips) -> DynamoStore {
    table_on(Client::from_conf(
        client_config().interceptor(counter).build(),
    ))
    .await
}

async fn table_on(client: Client) -> DynamoStore {
    let table = format!("users-test-{}", uuid::Uuid::new_v4().simple());
    ensure_table(&client, &table)
        .await
        .expect("create table on moto");
    // Keys of its own per table, as a deployment has one secret.
    let keys = PhoneKeys::generate(time::OffsetDateTime::now_utc());
    DynamoStore::new(client, table).with_phone_keys(Arc::new(PhoneKeyRing::fixed(keys)))
}

/// Every item of the table (a full scan, paginated).
pub async fn scan_all(store: &DynamoStore) -> Vec<HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan");
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return items,
        }
    }
}

/// The partition keys of every item, e.g. `USER#…`, `USERNAME#alice`.
pub async fn partition_keys(store: &DynamoStore) -> Vec<String> {
    scan_all(store)
        .await
        .iter()
        .filter_map(|item| item.get("PK").and_then(|v| v.as_s().ok()).cloned())
        .collect()
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

/// Both queues on moto, with dead letters after `max_receives` receives.
pub async fn fresh_queues(max_receives: u32) -> shared::background::Queues {
    let (tasks, tasks_dead) = fresh_queue("tasks", max_receives).await;
    let (notifications, notifications_dead) = fresh_queue("notifications", max_receives).await;
    shared::background::Queues {
        tasks: Arc::new(tasks),
        notifications: Arc::new(notifications),
        tasks_dead_letters: Some(Arc::new(tasks_dead)),
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
