//! Injected DynamoDB faults. Neither DynamoDB Local nor moto ever conflicts
//! or throttles, so the client of a faulty table goes through this HTTP
//! layer: it passes each request on to DynamoDB Local, except the attempts a
//! test picked (by operation and n-th occurrence), which it answers itself as
//! DynamoDB does when it is busy, conflicting or failing, or never answers.
//! The SDK then classifies, retries and times out as it would in production.
//!
//! A layer under the SDK rather than an interceptor: an interceptor cannot
//! stop a request from reaching the table, and a fault must be able to
//! either keep the write from happening or let it happen and lose the answer
//! (the ambiguous case that makes retries unsafe unless idempotent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::config::retry::RetryPartition;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use shared::adapters::dynamo::DynamoStore;

/// What DynamoDB answers instead of doing the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `TransactWriteItems`: a `TransactionCanceledException` whose first
    /// reason is `TransactionConflict` (another transaction holds an item).
    /// Any other operation: `TransactionConflictException`.
    TransactionConflict,
    ProvisionedThroughputExceeded,
    Throttling,
    InternalServerError,
    /// A connection that takes the request and never answers.
    Stall,
}

/// When a rule applies: which attempts of one operation, and whether the
/// request reaches the table before the fault replaces its answer.
#[derive(Debug, Clone)]
struct Rule {
    operation: String,
    /// Attempts of `operation` counted from when the rule was added, 1-based.
    first: u32,
    last: u32,
    fault: Fault,
    applied_first: bool,
    base: u32,
}

/// One request the SDK sent, and the fault it met if any.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub operation: String,
    pub fault: Option<Fault>,
    pub at: Instant,
}

#[derive(Debug, Default)]
struct Plan {
    rules: Vec<Rule>,
    counts: HashMap<String, u32>,
    attempts: Vec<Attempt>,
}

/// The faults planned for one client, shared with the test that plans them.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

impl Faults {
    fn add(&self, operation: &str, first: u32, last: u32, fault: Fault, applied_first: bool) {
        let mut plan = self.0.lock().expect("fault plan");
        let base = plan.counts.get(operation).copied().unwrap_or(0);
        plan.rules.push(Rule {
            operation: operation.to_owned(),
            first,
            last,
            fault,
            applied_first,
            base,
        });
    }

    /// The `nth` attempt of `operation` from now (1 = the next) meets `fault`
    /// without reaching the table.
    pub fn nth(&self, operation: &str, nth: u32, fault: Fault) {
        self.add(operation, nth, nth, fault, false);
    }

    /// Every attempt of `operation` from now on meets `fault`, until
    /// [`Faults::clear`].
    pub fn always(&self, operation: &str, fault: Fault) {
        self.add(operation, 1, u32::MAX, fault, false);
    }

    /// The `nth` attempt of `operation` from now reaches the table and takes
    /// effect, but its answer is replaced by `fault` (a lost response).
    pub fn nth_after_applying(&self, operation: &str, nth: u32, fault: Fault) {
        self.add(operation, nth, nth, fault, true);
    }

    /// No more faults: every request reaches the table.
    pub fn clear(&self) {
        self.0.lock().expect("fault plan").rules.clear();
    }

    /// Forgets the attempts recorded so far.
    pub fn forget_attempts(&self) {
        self.0.lock().expect("fault plan").attempts.clear();
    }

    /// The attempts of `operation` since the last [`Faults::forget_attempts`].
    pub fn attempts(&self, operation: &str) -> Vec<Attempt> {
        let plan = self.0.lock().expect("fault plan");
        plan.attempts
            .iter()
            .filter(|a| a.operation == operation)
            .cloned()
            .collect()
    }

    /// Counts the attempt and picks its fault, if a rule covers it.
    fn on_attempt(&self, operation: &str) -> Option<(Fault, bool)> {
        let mut plan = self.0.lock().expect("fault plan");
        let count = plan.counts.entry(operation.to_owned()).or_insert(0);
        *count += 1;
        let count = *count;
        let chosen = plan
            .rules
            .iter()
            .find(|rule| {
                let nth = count.saturating_sub(rule.base);
                rule.operation == operation && (rule.first..=rule.last).contains(&nth)
            })
            .map(|rule| (rule.fault, rule.applied_first));
        plan.attempts.push(Attempt {
            operation: operation.to_owned(),
            fault: chosen.map(|(fault, _)| fault),
            at: Instant::now(),
        });
        chosen
    }
}

/// The SDK's HTTP client with the plan in front of it.
#[derive(Debug)]
struct FaultyClient {
    faults: Faults,
    inner: SharedHttpClient,
}

impl HttpClient for FaultyClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            faults: self.faults.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    faults: Faults,
    inner: SharedHttpConnector,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // DynamoDB's JSON protocol names the operation in this header:
        // `DynamoDB_20120810.TransactWriteItems`.
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or("unknown")
            .to_owned();
        let Some((fault, applied_first)) = self.faults.on_attempt(&operation) else {
            return self.inner.call(request);
        };
        let items = transact_items(&request);
        let answer = fault_response(fault, &operation, items);
        if !applied_first {
            return answer;
        }
        let sent = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            // The table takes the write; its answer is lost on the way back.
            let _ = sent.await;
            answer.await
        })
    }
}

/// How many items a `TransactWriteItems` request holds (0 for others).
fn transact_items(request: &HttpRequest) -> usize {
    request
        .body()
        .bytes()
        .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
        .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn fault_response(fault: Fault, operation: &str, items: usize) -> HttpConnectorFuture {
    let (status, kind, extra) = match fault {
        Fault::Stall => return HttpConnectorFuture::new(std::future::pending()),
        Fault::TransactionConflict if operation == "TransactWriteItems" => {
            let reasons: Vec<serde_json::Value> = (0..items.max(1))
                .map(|i| match i {
                    0 => serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}),
                    _ => serde_json::json!({"Code": "None"}),
                })
                .collect();
            (
                400,
                "TransactionCanceledException",
                Some(("CancellationReasons", serde_json::Value::Array(reasons))),
            )
        }
        Fault::TransactionConflict => (400, "TransactionConflictException", None),
        Fault::ProvisionedThroughputExceeded => {
            (400, "ProvisionedThroughputExceededException", None)
        }
        Fault::Throttling => (400, "ThrottlingException", None),
        Fault::InternalServerError => (500, "InternalServerError", None),
    };
    let mut body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": format!("injected {kind}"),
    });
    if let Some((name, value)) = extra {
        body[name] = value;
    }
    let mut response = HttpResponse::new(
        status.try_into().expect("a status code"),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
        .headers_mut()
        .insert("x-amzn-requestid", "injected-fault");
    HttpConnectorFuture::ready(Ok(response))
}

/// How long one attempt may wait in these tests: production's
/// `SDK_ATTEMPT_TIMEOUT` is 3 s; a stall test need not wait that long.
pub const TEST_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

/// A fresh table on DynamoDB Local whose client meets the faults `faults`
/// plans, with production's retry policy (the SDK's standard one, as
/// `shared::app::sdk_config` loads it) and time limits (a shorter attempt).
pub async fn faulty_table(faults: Faults) -> DynamoStore {
    let client = aws_sdk_dynamodb::Client::from_conf(
        crate::dynamodb::client_config()
            .http_client(SharedHttpClient::new(FaultyClient {
                faults,
                inner: aws_smithy_http_client::Builder::new().build_http(),
            }))
            .retry_config(shared::app::sdk_retries())
            // A retry budget of its own: the SDK shares one per service
            // across the process, and other tests must not drain this one.
            .retry_partition(RetryPartition::new(format!(
                "faults-{}",
                uuid::Uuid::new_v4().simple()
            )))
            .timeout_config(shared::app::sdk_timeouts(TEST_ATTEMPT_TIMEOUT))
            .build(),
    );
    crate::dynamodb::table_on(client).await
}

/// A backend on a faulty table, with the faults that drive it.
pub async fn faulty_backend() -> (crate::Backend, Faults) {
    let faults = Faults::default();
    let store = faulty_table(faults.clone()).await;
    let backend = crate::Backend {
        name: "dynamodb",
        stores: shared::app::Stores::dynamo(store.clone()),
        dynamo: Some(store),
    };
    (backend, faults)
}
