//! Counting the requests the SDK sends: an interceptor on the DynamoDB
//! client that records each attempt's operation as it goes on the wire
//! (retries count: each is a round trip).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

#[derive(Debug, Clone, Default)]
pub struct RoundTrips(Arc<Mutex<Vec<String>>>);

impl RoundTrips {
    /// Forgets what was counted so far.
    pub fn reset(&self) {
        self.0.lock().expect("counter lock").clear();
    }

    /// The operations sent since the last reset, e.g. `BatchGetItem`.
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().expect("counter lock").clone()
    }
}

impl Intercept for RoundTrips {
    fn name(&self) -> &'static str {
        "RoundTrips"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // DynamoDB's JSON protocol names the operation in this header:
        // `DynamoDB_20120810.TransactWriteItems`.
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.rsplit('.').next())
            .unwrap_or("unknown")
            .to_owned();
        self.0.lock().expect("counter lock").push(operation);
        Ok(())
    }
}
