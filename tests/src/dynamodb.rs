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

pub fn client_config() -> aws_sdk_dynamodb::config::Builder {
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

pub async fn table_on(client: Client) -> DynamoStore {
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

/// The table's stream as Lambda would read it: DynamoDB Local's Streams API
/// (`DescribeStream`, `GetShardIterator`, `GetRecords`) over plain HTTP,
/// the same JSON protocol as AWS's. DynamoDB Local checks that a request is
/// signed, not that the signature is right, so a dummy one does.
pub struct StreamReader {
    http: reqwest::Client,
    arn: String,
    /// Each shard, and where it was left once a record came from it.
    shards: Vec<(String, Option<String>)>,
}

impl StreamReader {
    /// The table's stream, to be read from its start (`TRIM_HORIZON`).
    pub async fn open(store: &DynamoStore) -> Self {
        let described = store
            .client()
            .describe_table()
            .table_name(store.table())
            .send()
            .await
            .expect("describe table");
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .expect("the table has a stream (ensure_table enables it)")
            .to_owned();
        let mut reader = Self {
            http: reqwest::Client::new(),
            arn,
            shards: Vec::new(),
        };
        let stream = reader
            .call(
                "DescribeStream",
                serde_json::json!({ "StreamArn": reader.arn }),
            )
            .await;
        reader.shards = stream["StreamDescription"]["Shards"]
            .as_array()
            .map(|shards| {
                shards
                    .iter()
                    .filter_map(|s| Some((s["ShardId"].as_str()?.to_owned(), None)))
                    .collect()
            })
            .unwrap_or_default();
        reader
    }

    /// The records written since the last read, in order, each with the
    /// `eventSourceARN` Lambda adds: ready for [`lambda_event`].
    pub async fn read(&mut self) -> Vec<serde_json::Value> {
        let mut records = Vec::new();
        for index in 0..self.shards.len() {
            let (shard, left_at) = self.shards[index].clone();
            // DynamoDB Local numbers the records of all tables in one
            // sequence, and a TRIM_HORIZON iterator taken before the shard's
            // first record points at a number another table may take: its
            // read then fails with TrimmedDataAccessException. So the first
            // iterator is taken only once the shard has a record.
            let mut iterator = match left_at {
                Some(iterator) => iterator,
                None => {
                    let answer = self
                        .call(
                            "GetShardIterator",
                            serde_json::json!({
                                "StreamArn": self.arn,
                                "ShardId": shard,
                                "ShardIteratorType": "TRIM_HORIZON",
                            }),
                        )
                        .await;
                    answer["ShardIterator"]
                        .as_str()
                        .expect("shard iterator")
                        .to_owned()
                }
            };
            let mut read_any = self.shards[index].1.is_some();
            loop {
                let page = self
                    .call(
                        "GetRecords",
                        serde_json::json!({ "ShardIterator": iterator }),
                    )
                    .await;
                let batch = page["Records"].as_array().cloned().unwrap_or_default();
                let empty = batch.is_empty();
                read_any |= !empty;
                for mut record in batch {
                    record["eventSourceARN"] = serde_json::Value::String(self.arn.clone());
                    records.push(record);
                }
                // None: a closed shard, read to its end.
                let Some(next) = page["NextShardIterator"].as_str() else {
                    break;
                };
                iterator = next.to_owned();
                if empty {
                    break;
                }
            }
            self.shards[index].1 = read_any.then_some(iterator);
        }
        records
    }

    async fn call(&self, operation: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(endpoint())
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "x-amz-target",
                format!("DynamoDBStreams_20120810.{operation}"),
            )
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=00",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{operation} on DynamoDB Local: {e}"));
        let status = response.status();
        let text = response.text().await.expect("stream response body");
        assert!(status.is_success(), "{operation}: {status} {text}");
        serde_json::from_str(&text).expect("stream response JSON")
    }
}

/// Stream records as the event a stream-triggered Lambda receives.
pub fn lambda_event(records: Vec<serde_json::Value>) -> aws_lambda_events::event::dynamodb::Event {
    serde_json::from_value(serde_json::json!({ "Records": records }))
        .expect("stream records in the Lambda event shape")
}
