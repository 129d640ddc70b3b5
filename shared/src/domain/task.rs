//! Background tasks: what a client may ask for (`TaskKind`, parsed from the
//! `POST /tasks` body), and the life of a task (`TaskStatus`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use time::OffsetDateTime;

pub use super::id::TaskId;

use super::errors::{FieldError, FieldErrors};
use super::user::UserId;

/// `long_running` tasks may ask for at most this many seconds of work.
pub const MAX_LONG_RUNNING_SECONDS: u64 = 3600;

/// What a task does, with its validated input. Stored and queued as the
/// same JSON the client sent (`{"type": "add", "x": 5, "y": 3}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskKind {
    Add {
        x: Number,
        y: Number,
    },
    LongRunning {
        seconds: u64,
    },
    ProcessData {
        data: Value,
    },
    /// Erases an account (queued by `DELETE /users/me`, never by clients).
    DeleteAccount,
    /// Gathers an account's data (queued by `POST /users/me/export`).
    ExportData,
}

impl TaskKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Add { .. } => "add",
            Self::LongRunning { .. } => "long_running",
            Self::ProcessData { .. } => "process_data",
            Self::DeleteAccount => "delete_account",
            Self::ExportData => "export_data",
        }
    }

    /// The kinds a client may create through `POST /tasks`, with the rules
    /// of each; every failing field is reported.
    pub fn parse(fields: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = match fields.get("type") {
            None | Some(Value::Null) => {
                errors.add("type", FieldError::required());
                return Err(errors);
            }
            Some(Value::String(kind)) => kind.as_str(),
            Some(_) => {
                errors.add("type", FieldError::invalid("Must be a string."));
                return Err(errors);
            }
        };
        let parsed = match kind {
            "add" => {
                let x = errors.collect("x", number(fields, "x"));
                let y = errors.collect("y", number(fields, "y"));
                match (x, y) {
                    (Some(x), Some(y)) => Some(Self::Add { x, y }),
                    _ => None,
                }
            }
            "long_running" => errors
                .collect("seconds", seconds(fields))
                .map(|seconds| Self::LongRunning { seconds }),
            "process_data" => match fields.get("data") {
                None | Some(Value::Null) => {
                    errors.add("data", FieldError::required());
                    None
                }
                Some(data) => Some(Self::ProcessData { data: data.clone() }),
            },
            _ => {
                errors.add(
                    "type",
                    FieldError::invalid("Must be one of: add, long_running, process_data."),
                );
                None
            }
        };
        match parsed {
            Some(kind) if errors.is_empty() => Ok(kind),
            _ => Err(errors),
        }
    }
}

fn number(fields: &Map<String, Value>, name: &str) -> Result<Number, FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(FieldError::required()),
        Some(Value::Number(n)) => Ok(n.clone()),
        Some(_) => Err(FieldError::invalid("Must be a number.")),
    }
}

fn seconds(fields: &Map<String, Value>) -> Result<u64, FieldError> {
    match fields.get("seconds") {
        None | Some(Value::Null) => Err(FieldError::required()),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) if (1..=MAX_LONG_RUNNING_SECONDS).contains(&s) => Ok(s),
            _ => Err(FieldError::invalid(format!(
                "Must be a whole number from 1 to {MAX_LONG_RUNNING_SECONDS}."
            ))),
        },
        Some(_) => Err(FieldError::invalid("Must be a whole number.")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Pending,
    Started,
    Success,
    Failure,
    Retry,
    Revoked,
}

impl TaskStatus {
    /// Nothing happens to a finished task any more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Success | Self::Failure | Self::Revoked)
    }

    /// Waiting for a worker: it may start, or be revoked.
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Pending | Self::Retry)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Started => "STARTED",
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Retry => "RETRY",
            Self::Revoked => "REVOKED",
        }
    }
}

/// A task and where it is in its life. `version` grows with every change,
/// so each transition is conditional on the state it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: TaskId,
    pub owner: UserId,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub result: Option<Value>,
    pub error: Option<String>,
    /// How many times a worker started it.
    pub attempts: u32,
    /// Work done so far (`long_running`: `{"done": s, "total": n}`).
    pub progress: Option<Value>,
    /// While STARTED: when the worker that started it is past its timeout.
    pub deadline: Option<OffsetDateTime>,
    pub version: u32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Holds one of its owner's open-task slots (`MAX_OPEN_TASKS`) until it
    /// finishes: set for the tasks users queue themselves, never for the
    /// service's account work, which must never be refused.
    pub counted: bool,
    /// Credits charged when it was created (`CREDIT_COSTS`), in the same
    /// write; given back if it ends in FAILURE.
    pub cost: u32,
}

impl Task {
    pub fn new(owner: UserId, kind: TaskKind, now: OffsetDateTime) -> Self {
        Self {
            id: TaskId::new_random(),
            owner,
            kind,
            status: TaskStatus::Pending,
            result: None,
            error: None,
            attempts: 0,
            progress: None,
            deadline: None,
            version: 0,
            created_at: now,
            updated_at: now,
            counted: false,
            cost: 0,
        }
    }

    /// The charge written with a new task that costs credits.
    pub fn charge(&self) -> Option<super::Posting> {
        (self.cost > 0).then(|| {
            super::Posting::new(super::CreditEntry::new(
                self.owner,
                -i64::from(self.cost),
                super::CreditReason::TaskCharge,
                Some(self.id.to_string()),
                self.created_at,
            ))
        })
    }

    /// This transition ends a paid task in FAILURE: the store gives the
    /// credits back in the same (version-conditional) write, so exactly
    /// once whatever ends it (the worker, the clean-up, a queue outage).
    pub fn refund_on(&self, next: &Task) -> Option<super::Posting> {
        (self.cost > 0 && self.status != TaskStatus::Failure && next.status == TaskStatus::Failure)
            .then(|| {
                super::Posting::new(super::CreditEntry::new(
                    self.owner,
                    i64::from(self.cost),
                    super::CreditReason::TaskRefund,
                    Some(self.id.to_string()),
                    next.updated_at,
                ))
            })
    }

    /// This transition ends a task that held an open-task slot: the store
    /// frees the slot in the same write, so exactly once.
    pub fn frees_slot(&self, next: &Task) -> bool {
        self.counted && !self.status.is_finished() && next.status.is_finished()
    }

    /// The next state: `change` applied to a copy, version bumped.
    pub fn next(&self, now: OffsetDateTime, change: impl FnOnce(&mut Task)) -> Task {
        let mut next = self.clone();
        change(&mut next);
        next.version = self.version + 1;
        next.updated_at = now;
        if next.status != TaskStatus::Started {
            next.deadline = None;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorCode;
    use serde_json::json;

    fn parse(value: Value) -> Result<TaskKind, FieldErrors> {
        TaskKind::parse(value.as_object().unwrap())
    }

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            parse(json!({"type": "add", "x": 5, "y": 3})).unwrap(),
            TaskKind::Add {
                x: 5.into(),
                y: 3.into()
            }
        );
        assert_eq!(
            parse(json!({"type": "long_running", "seconds": 2})).unwrap(),
            TaskKind::LongRunning { seconds: 2 }
        );
        assert_eq!(
            parse(json!({"type": "process_data", "data": [1, 2]})).unwrap(),
            TaskKind::ProcessData {
                data: json!([1, 2])
            }
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let errors = parse(json!({"type": "add", "x": "5"})).unwrap_err();
        assert_eq!(errors.codes("x"), vec![ErrorCode::Invalid]);
        assert_eq!(errors.codes("y"), vec![ErrorCode::Required]);
        for seconds in [json!(0), json!(-1), json!(1.5), json!(3601), json!("2")] {
            let errors = parse(json!({"type": "long_running", "seconds": seconds})).unwrap_err();
            assert_eq!(errors.codes("seconds"), vec![ErrorCode::Invalid]);
        }
        assert_eq!(
            parse(json!({"type": "process_data"}))
                .unwrap_err()
                .codes("data"),
            vec![ErrorCode::Required]
        );
        assert_eq!(
            parse(json!({})).unwrap_err().codes("type"),
            vec![ErrorCode::Required]
        );
        // Internal kinds cannot be asked for.
        for kind in ["delete_account", "export_data", "ADD", ""] {
            assert_eq!(
                parse(json!({"type": kind})).unwrap_err().codes("type"),
                vec![ErrorCode::Invalid]
            );
        }
    }

    #[test]
    fn stored_form_round_trips() {
        let kind = TaskKind::Add {
            x: 1.into(),
            y: Number::from_f64(2.5).unwrap(),
        };
        let text = serde_json::to_string(&kind).unwrap();
        assert_eq!(text, r#"{"type":"add","x":1,"y":2.5}"#);
        assert_eq!(serde_json::from_str::<TaskKind>(&text).unwrap(), kind);
    }
}
