//! DynamoDB on Amazon's DynamoDB Local, which the test script starts on
//! loopback (infra/dynamodb-local.sh) and names in `DYNAMODB_ENDPOINT`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use shared::adapters::dynamo::table::ensure_table;
use shared::adapters::dynamo::DynamoStore;
use shared::crypto::phone_crypto::{PhoneKeyRing, PhoneKeys};

pub fn endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT").expect(
        "DYNAMODB_ENDPOINT is not set: run the tests with infra/test.sh, which starts DynamoDB Local (infra/dynamodb-local.sh)",
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
        .expect("create table on DynamoDB Local");
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
