//! Business and latency metrics as CloudWatch Embedded Metric Format: one
//! JSON line on stdout per observation, which CloudWatch Logs turns into
//! metrics (namespace `UsersService`) with no API call on the request path.
//! Written beside the tracing logs, not through them: EMF needs its `_aws`
//! object at the top level of the line.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Map, Value};

use crate::domain::ErrorCode;

pub const NAMESPACE: &str = "UsersService";

/// What a request's outcome says, beyond its latency: the counters the
/// dashboards and alarms use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    SignUp,
    LoginSucceeded,
    LoginFailed,
    LoginLocked,
    Refresh,
    TokenReuse,
    RateLimited,
    ServerError,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::SignUp => "SignUps",
            Self::LoginSucceeded => "LoginsSucceeded",
            Self::LoginFailed => "LoginsFailed",
            Self::LoginLocked => "LoginsLocked",
            Self::Refresh => "Refreshes",
            Self::TokenReuse => "TokenReuse",
            Self::RateLimited => "RateLimited",
            Self::ServerError => "ServerErrors",
        }
    }
}

/// The counters a finished request adds to, from its route, status and
/// error codes.
pub fn outcomes(route: &str, status: u16, codes: &[ErrorCode]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let is = |code| codes.contains(&code);
    match (route, status) {
        ("POST /auth/signup" | "POST /auth/phone/signup", 201) => outcomes.push(Outcome::SignUp),
        ("POST /auth/login", 200) => outcomes.push(Outcome::LoginSucceeded),
        ("POST /auth/login", 401) => outcomes.push(Outcome::LoginFailed),
        ("POST /auth/login", _) if is(ErrorCode::AccountLocked) => {
            outcomes.push(Outcome::LoginLocked)
        }
        ("POST /auth/token/refresh", 200) => outcomes.push(Outcome::Refresh),
        _ => {}
    }
    if is(ErrorCode::TokenReused) {
        outcomes.push(Outcome::TokenReuse);
    }
    if status == 429 {
        outcomes.push(Outcome::RateLimited);
    }
    if status >= 500 {
        outcomes.push(Outcome::ServerError);
    }
    outcomes
}

/// One EMF document: `metrics` (name, unit, value) under `dimensions`.
pub fn document(
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, f64)],
    timestamp_ms: i64,
) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit }))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": definitions,
            }],
        }),
    );
    for (key, value) in dimensions {
        root.insert((*key).into(), Value::from(*value));
    }
    for (name, _, value) in metrics {
        root.insert((*name).into(), json!(value));
    }
    Value::Object(root)
}

type Sink = Box<dyn Write + Send>;

/// Stdout inside Lambda (where CloudWatch reads it) or with
/// `EMF_METRICS=stdout`; elsewhere nowhere, so local runs and tests print
/// only their logs.
/// `None` when metrics go nowhere: then no document is even built, so the
/// local server's hot path pays nothing for them.
fn sink() -> &'static Mutex<Option<Sink>> {
    static SINK: OnceLock<Mutex<Option<Sink>>> = OnceLock::new();
    SINK.get_or_init(|| {
        let to_stdout = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || std::env::var("EMF_METRICS").as_deref() == Ok("stdout");
        Mutex::new(to_stdout.then(|| Box::new(std::io::stdout()) as Sink))
    })
}

fn enabled() -> bool {
    sink().lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// Sends the metric lines somewhere else (tests read them back).
pub fn set_sink(writer: impl Write + Send + 'static) {
    *sink().lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(writer));
}

fn emit(document: &Value) {
    let mut line = document.to_string();
    line.push('\n');
    let mut sink = sink().lock().unwrap_or_else(|p| p.into_inner());
    // A metric that cannot be written is not worth failing a request for.
    if let Some(sink) = sink.as_mut() {
        let _ = sink.write_all(line.as_bytes());
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A finished request: its latency under `Route`, and its outcome counters.
pub fn record_request(route: &'static str, status: u16, codes: &[ErrorCode], latency_ms: f64) {
    if !enabled() {
        return;
    }
    let mut metrics = vec![("Latency", "Milliseconds", latency_ms)];
    let outcomes = outcomes(route, status, codes);
    metrics.extend(outcomes.iter().map(|o| (o.name(), "Count", 1.0)));
    emit(&document(&[("Route", route)], &metrics, now_ms()));
}

/// A task attempt's end (`Succeeded`, `Failed`, `Retried`, `Continued`)
/// per task kind.
pub fn record_task(kind: &str, outcome: &str) {
    if !enabled() {
        return;
    }
    let name = format!("Tasks{outcome}");
    emit(&document(
        &[("TaskKind", kind)],
        &[(name.as_str(), "Count", 1.0)],
        now_ms(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_route_status_and_codes() {
        assert_eq!(outcomes("POST /auth/signup", 201, &[]), [Outcome::SignUp]);
        assert_eq!(
            outcomes("POST /auth/login", 423, &[ErrorCode::AccountLocked]),
            [Outcome::LoginLocked]
        );
        assert_eq!(
            outcomes("POST /auth/login", 401, &[]),
            [Outcome::LoginFailed]
        );
        assert_eq!(
            outcomes("POST /auth/token/refresh", 401, &[ErrorCode::TokenReused]),
            [Outcome::TokenReuse]
        );
        assert_eq!(
            outcomes("POST /auth/login", 429, &[ErrorCode::RateLimited]),
            [Outcome::RateLimited]
        );
        assert_eq!(outcomes("GET /users/me", 503, &[]), [Outcome::ServerError]);
        assert!(outcomes("GET /users/me", 200, &[]).is_empty());
    }

    #[test]
    fn documents_are_embedded_metric_format() {
        let doc = document(
            &[("Route", "POST /auth/login")],
            &[
                ("Latency", "Milliseconds", 12.5),
                ("LoginsFailed", "Count", 1.0),
            ],
            1_767_225_600_000,
        );
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], NAMESPACE);
        assert_eq!(spec["Dimensions"], json!([["Route"]]));
        assert_eq!(
            spec["Metrics"][1],
            json!({"Name": "LoginsFailed", "Unit": "Count"})
        );
        assert_eq!(doc["Route"], "POST /auth/login");
        assert_eq!(doc["Latency"], 12.5);
        assert_eq!(doc["_aws"]["Timestamp"], 1_767_225_600_000_i64);
    }
}
