//! What each task kind does. The worker (`task_worker`) owns the task's
//! states; a runner only computes, reports progress and says how it ended.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Number, Value};

use crate::domain::{Task, TaskKind};

#[derive(Debug, Clone, PartialEq)]
pub enum TaskFailure {
    /// Worth another attempt (an outage, a timeout of a dependency).
    Transient(String),
    /// Will fail again: the task ends as FAILURE.
    Permanent(String),
    /// Out of time for this attempt; `progress` says where to resume.
    OutOfTime { progress: Value },
}

/// Where a runner reports how far it got.
#[async_trait]
pub trait Progress: Send + Sync {
    async fn report(&self, progress: Value);
}

#[async_trait]
pub trait TaskRunner: Send + Sync {
    /// Runs `task` (resuming from `task.progress`) and must return before
    /// `until`.
    async fn run(
        &self,
        task: &Task,
        until: Instant,
        progress: &dyn Progress,
    ) -> Result<Value, TaskFailure>;
}

/// The task kinds of docs/API.md.
#[derive(Debug, Clone, Copy)]
pub struct StandardRunner {
    /// One unit of `long_running` work (a second; tests shorten it).
    pub step: Duration,
    /// Time kept in reserve to record the outcome before `until`.
    pub margin: Duration,
}

impl Default for StandardRunner {
    fn default() -> Self {
        Self {
            step: Duration::from_secs(1),
            margin: Duration::from_secs(2),
        }
    }
}

#[async_trait]
impl TaskRunner for StandardRunner {
    async fn run(
        &self,
        task: &Task,
        until: Instant,
        progress: &dyn Progress,
    ) -> Result<Value, TaskFailure> {
        match &task.kind {
            TaskKind::Add { x, y } => add(x, y).map(Value::Number),
            TaskKind::ProcessData { data } => Ok(summarise(data)),
            TaskKind::DeleteAccount | TaskKind::ExportData => Err(TaskFailure::Permanent(
                "Account tasks need the account runner (usecases::account_tasks).".into(),
            )),
            TaskKind::LongRunning { seconds } => {
                let mut done = task
                    .progress
                    .as_ref()
                    .and_then(|p| p["done"].as_u64())
                    .unwrap_or(0)
                    .min(*seconds);
                while done < *seconds {
                    if Instant::now() + self.step + self.margin > until {
                        return Err(TaskFailure::OutOfTime {
                            progress: json!({ "done": done, "total": seconds }),
                        });
                    }
                    tokio::time::sleep(self.step).await;
                    done += 1;
                    progress
                        .report(json!({ "done": done, "total": seconds }))
                        .await;
                }
                Ok(json!({ "seconds": seconds }))
            }
        }
    }
}

/// Integers add exactly (overflow is an error, not a wrap); any other
/// numbers add as floating point.
fn add(x: &Number, y: &Number) -> Result<Number, TaskFailure> {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a
            .checked_add(b)
            .map(Number::from)
            .ok_or_else(|| TaskFailure::Permanent("The sum is out of range.".into()));
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        if let Some(sum) = a.checked_add(b) {
            return Ok(Number::from(sum));
        }
    }
    let (Some(a), Some(b)) = (x.as_f64(), y.as_f64()) else {
        return Err(TaskFailure::Permanent(
            "The operands are not numbers.".into(),
        ));
    };
    Number::from_f64(a + b).ok_or_else(|| TaskFailure::Permanent("The sum is not finite.".into()))
}

/// Facts about any JSON document: how many values of each kind, the
/// numeric summary, and a digest of its canonical text.
fn summarise(data: &Value) -> Value {
    #[derive(Default)]
    struct Tally {
        values: u64,
        numbers: u64,
        strings: u64,
        sum: f64,
        min: Option<f64>,
        max: Option<f64>,
        depth: usize,
    }
    fn walk(value: &Value, depth: usize, tally: &mut Tally) {
        tally.values += 1;
        tally.depth = tally.depth.max(depth);
        match value {
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    tally.numbers += 1;
                    tally.sum += f;
                    tally.min = Some(tally.min.map_or(f, |m| m.min(f)));
                    tally.max = Some(tally.max.map_or(f, |m| m.max(f)));
                }
            }
            Value::String(_) => tally.strings += 1,
            Value::Array(items) => items.iter().for_each(|v| walk(v, depth + 1, tally)),
            Value::Object(map) => map.values().for_each(|v| walk(v, depth + 1, tally)),
            Value::Null | Value::Bool(_) => {}
        }
    }
    let mut tally = Tally::default();
    walk(data, 0, &mut tally);
    let digest = crate::crypto::digest::sha256_hex(data.to_string().as_bytes());
    let items = match data {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 1,
    };
    json!({
        "items": items,
        "values": tally.values,
        "numbers": tally.numbers,
        "strings": tally.strings,
        "depth": tally.depth,
        "sum": tally.sum,
        "min": tally.min,
        "max": tally.max,
        "mean": (tally.numbers > 0).then(|| tally.sum / tally.numbers as f64),
        "sha256": digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    struct Ignore;

    #[async_trait]
    impl Progress for Ignore {
        async fn report(&self, _: Value) {}
    }

    fn task(kind: TaskKind) -> Task {
        Task::new(UserId::new_random(), kind, time::OffsetDateTime::now_utc())
    }

    async fn run(kind: TaskKind) -> Result<Value, TaskFailure> {
        let runner = StandardRunner {
            step: Duration::from_millis(1),
            margin: Duration::ZERO,
        };
        let until = Instant::now() + Duration::from_secs(5);
        runner.run(&task(kind), until, &Ignore).await
    }

    #[tokio::test]
    async fn adds_exactly_and_refuses_overflow() {
        let add = |x: Value, y: Value| TaskKind::Add {
            x: serde_json::from_value(x).unwrap(),
            y: serde_json::from_value(y).unwrap(),
        };
        assert_eq!(run(add(json!(5), json!(3))).await.unwrap(), json!(8));
        assert_eq!(run(add(json!(-5), json!(2.5))).await.unwrap(), json!(-2.5));
        assert_eq!(
            run(add(json!(u64::MAX - 1), json!(1))).await.unwrap(),
            json!(u64::MAX)
        );
        assert!(matches!(
            run(add(json!(i64::MIN), json!(-1))).await,
            Err(TaskFailure::Permanent(_))
        ));
    }

    #[tokio::test]
    async fn summarises_data() {
        let result = run(TaskKind::ProcessData {
            data: json!([1, 2, {"a": 6, "b": "x"}]),
        })
        .await
        .unwrap();
        assert_eq!(result["items"], 3);
        assert_eq!(result["numbers"], 3);
        assert_eq!(result["strings"], 1);
        assert_eq!(result["sum"], 9.0);
        assert_eq!(result["mean"], 3.0);
        assert_eq!(result["max"], 6.0);
        assert_eq!(result["sha256"].as_str().unwrap().len(), 64);
    }

    #[tokio::test]
    async fn long_running_stops_in_time_and_resumes() {
        let runner = StandardRunner {
            step: Duration::from_millis(20),
            margin: Duration::ZERO,
        };
        let mut long = task(TaskKind::LongRunning { seconds: 5 });
        let until = Instant::now() + Duration::from_millis(50);
        let Err(TaskFailure::OutOfTime { progress }) = runner.run(&long, until, &Ignore).await
        else {
            panic!("expected to run out of time");
        };
        let done = progress["done"].as_u64().unwrap();
        assert!((1..5).contains(&done), "{progress}");
        long.progress = Some(progress);
        let until = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            runner.run(&long, until, &Ignore).await.unwrap(),
            json!({"seconds": 5})
        );
    }
}
