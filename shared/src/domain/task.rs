//! Background tasks: what a client may ask for (`TaskKind`, parsed from the
//! `POST /tasks` body), and the life of a task (`TaskStatus`).

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use time::OffsetDateTime;

pub use super::id::TaskId;

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
