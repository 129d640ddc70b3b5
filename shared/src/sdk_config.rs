//! The AWS SDK configuration every client of a function shares, read from
//! the process environment.
//!
//! Why not `aws_config::defaults(..).load()`: a Lambda function gets its
//! credentials, region and nothing else as environment variables, and the
//! loader's other sources (profile files, SSO, STS web identity, the
//! container and instance metadata services) were about 0.35 MiB of every
//! function's binary and a few file reads at cold start (docs/PERFORMANCE.md,
//! "Binary size"). What the functions and their tests read is here:
//!
//! - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, on
//!   Lambda, `AWS_SESSION_TOKEN` (the role's, valid for the environment's
//!   life);
//! - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1` so
//!   that local endpoints need no region setting;
//! - endpoints: `AWS_ENDPOINT_URL_<SERVICE>` (`AWS_ENDPOINT_URL_DYNAMODB`,
//!   `AWS_ENDPOINT_URL_S3`…) before `AWS_ENDPOINT_URL`, as the SDK's own
//!   loader orders them.

use std::collections::HashMap;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// How long one attempt of an AWS call may wait for its response before it
/// is abandoned and retried on a fresh connection. The SDK sets no such limit:
/// a connection that stops answering (a half-open socket, a stalled
/// endpoint) would hold the call until the Lambda itself times out. DynamoDB,
/// SQS and Secrets Manager answer in milliseconds; three seconds is far
/// beyond their slow tail and leaves room for the retry.
pub const SDK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one AWS call may take with its retries: under the functions'
/// 10 s timeout (template.yaml), so a failing dependency is answered with
/// 503 (code `unavailable`) instead of a Lambda timeout (a 503 without
/// the envelope from API Gateway).
pub const SDK_OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// The region used when the environment names none.
const DEFAULT_REGION: &str = "us-east-1";

/// The configuration from the process environment, with the attempt and
/// call time limits above. Built once per process and shared by every client.
pub fn sdk_config() -> &'static SdkConfig {
    static SDK_CONFIG: std::sync::OnceLock<SdkConfig> = std::sync::OnceLock::new();
    SDK_CONFIG.get_or_init(|| {
        // A variable whose name or value is not Unicode is none of the SDK's.
        from_environment(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    })
}

/// The configuration from `variables` (the process environment, or a
/// test's list); empty values count as unset.
pub fn from_environment(variables: impl IntoIterator<Item = (String, String)>) -> SdkConfig {
    let variables: HashMap<String, String> = variables
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let var = |name: &str| variables.get(name).cloned();
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .retry_config(sdk_retries())
        .timeout_config(sdk_timeouts(SDK_ATTEMPT_TIMEOUT))
        .service_config(EnvironmentEndpoints::from(&variables));
    builder.set_endpoint_url(var("AWS_ENDPOINT_URL"));
    if let (Some(key_id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let credentials = Credentials::new(
            key_id,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        builder.set_credentials_provider(Some(SharedCredentialsProvider::new(credentials)));
    }
    builder.build()
}

/// How AWS calls are retried: the SDK's standard policy (3 attempts,
/// exponential backoff with jitter from 1 s, throttling and 5xx and timeouts
/// retried), named here so that the fault tests (tests/src/faults.rs) run
/// under the same policy as the functions.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard()
}

/// The SDK's time limits with `attempt` per attempt; the connect limit stays
/// the SDK's default. Long polls (SQS receive) pass their wait plus a margin.
pub fn sdk_timeouts(attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(attempt)
        .operation_timeout(SDK_OPERATION_TIMEOUT.max(attempt))
        .build()
}

/// The service-specific endpoint variables (`AWS_ENDPOINT_URL_DYNAMODB`…),
/// kept from the environment: each service client asks for its own when it
/// is built.
#[derive(Debug)]
struct EnvironmentEndpoints(HashMap<String, String>);

/// The prefix of the service-specific endpoint variables.
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_";

impl From<&HashMap<String, String>> for EnvironmentEndpoints {
    fn from(variables: &HashMap<String, String>) -> Self {
        Self(
            variables
                .iter()
                .filter(|(name, _)| name.starts_with(ENDPOINT_VARIABLE))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    }
}

/// `AWS_ENDPOINT_URL_` and the service id upper-cased, spaces as
/// underscores (`Secrets Manager` → `AWS_ENDPOINT_URL_SECRETS_MANAGER`).
fn endpoint_variable(service_id: &str) -> String {
    format!(
        "{ENDPOINT_VARIABLE}{}",
        service_id.to_uppercase().replace(' ', "_")
    )
}

impl LoadServiceConfig for EnvironmentEndpoints {
    /// The service's own endpoint variable; the shared `AWS_ENDPOINT_URL`
    /// is the configuration's `endpoint_url`, which the client falls back to.
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        self.0.get(&endpoint_variable(key.service_id())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(variables: &[(&str, &str)]) -> SdkConfig {
        from_environment(
            variables
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        )
    }

    /// The DynamoDB client's endpoint, chosen as its `config::Builder::from`
    /// chooses it: the service's own setting, else the shared one.
    fn dynamodb_endpoint(config: &SdkConfig) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id("DynamoDB")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .expect("a complete key");
        config
            .service_config()
            .and_then(|service| service.load_config(key))
            .or_else(|| config.endpoint_url().map(str::to_owned))
    }

    #[test]
    fn region_defaults_and_falls_back() {
        assert_eq!(config(&[]).region().unwrap().as_ref(), "us-east-1");
        let only_default = config(&[("AWS_DEFAULT_REGION", "eu-west-1")]);
        assert_eq!(only_default.region().unwrap().as_ref(), "eu-west-1");
        let both = config(&[
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ]);
        assert_eq!(both.region().unwrap().as_ref(), "ap-south-1");
    }

    #[test]
    fn a_service_endpoint_wins_over_the_shared_one() {
        let shared_only = config(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
        assert_eq!(
            dynamodb_endpoint(&shared_only).as_deref(),
            Some("http://127.0.0.1:5000")
        );
        let both = config(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ]);
        assert_eq!(
            dynamodb_endpoint(&both).as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(dynamodb_endpoint(&config(&[])), None);
        let empty = config(&[("AWS_ENDPOINT_URL_DYNAMODB", "")]);
        assert_eq!(dynamodb_endpoint(&empty), None);
        assert_eq!(
            endpoint_variable("Secrets Manager"),
            "AWS_ENDPOINT_URL_SECRETS_MANAGER"
        );
    }

    #[tokio::test]
    async fn credentials_come_from_the_environment() {
        use aws_credential_types::provider::ProvideCredentials;
        assert!(config(&[("AWS_ACCESS_KEY_ID", "AKID")])
            .credentials_provider()
            .is_none());
        let provider = config(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "session"),
        ])
        .credentials_provider()
        .expect("a provider");
        let credentials = provider.provide_credentials().await.expect("credentials");
        assert_eq!(credentials.access_key_id(), "AKID");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("session"));
    }

    #[test]
    fn the_call_limit_is_never_shorter_than_one_attempt() {
        let long_poll = sdk_timeouts(Duration::from_secs(23));
        assert_eq!(
            long_poll.operation_attempt_timeout(),
            Some(Duration::from_secs(23))
        );
        assert_eq!(long_poll.operation_timeout(), Some(Duration::from_secs(23)));
        let usual = sdk_timeouts(SDK_ATTEMPT_TIMEOUT);
        assert_eq!(usual.operation_timeout(), Some(SDK_OPERATION_TIMEOUT));
    }
}

#[cfg(test)]
mod sdk_timeout_tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::dynamo::DynamoStore;
    use crate::ports::{HealthProbe, StoreError};
    use std::sync::Arc;

    /// An endpoint that accepts connections, reads what it is sent and never
    /// answers: a stalled connection. Counts the connections it accepted.
    fn silent_endpoint() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buffer = [0u8; 4096];
                    while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
                });
            }
        });
        (format!("http://{address}"), accepted)
    }

    #[tokio::test]
    async fn a_call_to_an_endpoint_that_stops_answering_is_retried_then_unavailable() {
        let (endpoint, accepted) = silent_endpoint();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .endpoint_url(endpoint)
            // The functions' limits, with a shorter attempt to keep the test quick.
            .timeout_config(sdk_timeouts(Duration::from_millis(200)))
            .build();
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "users");

        // Without attempt limits this call never ends; the outer limit turns
        // such a regression into a failure rather than a stuck test run.
        let outcome = tokio::time::timeout(SDK_OPERATION_TIMEOUT * 2, store.check())
            .await
            .expect("the call ends on its own time limits");

        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "a stalled dependency is a 503, not a failure: {outcome:?}"
        );
        assert!(
            accepted.load(Ordering::SeqCst) >= 2,
            "each attempt runs on a fresh connection"
        );
    }
}
