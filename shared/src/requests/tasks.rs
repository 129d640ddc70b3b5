//! `POST /tasks`: one body per `type`, each declared like any request.

use serde_json::{Map, Number, Value};

use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::request::{FieldValue, Reading, RequestBody};
use crate::domain::task::{TaskKind, MAX_LONG_RUNNING_SECONDS};

crate::request_body! {
    /// Adds two numbers; `result` is the sum.
    pub struct AddTask {
        pub x: TaskNumber,
        pub y: TaskNumber,
    }
}

crate::request_body! {
    /// Runs for 1–3600 seconds, reporting progress.
    pub struct LongRunningTask {
        pub seconds: TaskSeconds,
    }
}

crate::request_body! {
    /// Processes any JSON value.
    pub struct ProcessDataTask {
        pub data: AnyValue,
    }
}

/// The `type`s a client may ask for, each with its body.
const KINDS: [&str; 3] = ["add", "long_running", "process_data"];

/// `POST /tasks`, by `type`: the kinds a client may create (the account
/// tasks are the service's own).
#[derive(Debug)]
pub struct TaskCreateRequest(pub TaskKind);

impl RequestBody for TaskCreateRequest {
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let kind = match fields.get("type") {
            None | Some(Value::Null) => Err(FieldError::required()),
            Some(Value::String(kind)) => Ok(kind.as_str()),
            Some(_) => Err(FieldError::invalid("Must be a string.")),
        }
        .map_err(|error| FieldErrors::single("type", error))?;
        let kind = match kind {
            "add" => AddTask::from_fields(fields).map(|task| TaskKind::Add {
                x: task.x.0,
                y: task.y.0,
            }),
            "long_running" => {
                LongRunningTask::from_fields(fields).map(|task| TaskKind::LongRunning {
                    seconds: task.seconds.0,
                })
            }
            "process_data" => ProcessDataTask::from_fields(fields)
                .map(|task| TaskKind::ProcessData { data: task.data.0 }),
            _ => Err(FieldErrors::single(
                "type",
                FieldError::invalid(format!("Must be one of: {}.", KINDS.join(", "))),
            )),
        }?;
        Ok(Self(kind))
    }
}

/// Any JSON number.
#[derive(Debug, Clone)]
pub struct TaskNumber(Number);

impl FieldValue for TaskNumber {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value {
            Value::Number(n) => Ok(Self(n.clone())),
            _ => Err(FieldError::invalid("Must be a number.")),
        };
        Reading::from_result(result, name, errors)
    }
}

/// A whole number of seconds, 1 to [`MAX_LONG_RUNNING_SECONDS`].
#[derive(Debug, Clone, Copy)]
pub struct TaskSeconds(u64);

impl FieldValue for TaskSeconds {
    fn read(value: &Value, name: &str, errors: &mut FieldErrors) -> Reading<Self> {
        let result = match value {
            Value::Number(n) => match n.as_u64() {
                Some(s) if (1..=MAX_LONG_RUNNING_SECONDS).contains(&s) => Ok(Self(s)),
                _ => Err(FieldError::invalid(format!(
                    "Must be a whole number from 1 to {MAX_LONG_RUNNING_SECONDS}."
                ))),
            },
            _ => Err(FieldError::invalid("Must be a whole number.")),
        };
        Reading::from_result(result, name, errors)
    }
}

/// Any JSON value but `null` (which reads as missing).
#[derive(Debug, Clone)]
pub struct AnyValue(Value);

impl FieldValue for AnyValue {
    fn read(value: &Value, _: &str, _: &mut FieldErrors) -> Reading<Self> {
        Reading::Value(Self(value.clone()))
    }
}

crate::field_schema!(TaskNumber => ObjectBuilder::new().schema_type(Type::Number));
crate::field_schema!(TaskSeconds => integer()
    .minimum(Some(1))
    .maximum(Some(MAX_LONG_RUNNING_SECONDS)));
crate::field_schema!(AnyValue => ObjectBuilder::new());
crate::field_schema!(TaskCreateRequest => by_type());

/// One schema per kind, each its body with `type` first (and required).
#[cfg(feature = "openapi")]
fn by_type() -> utoipa::openapi::schema::OneOfBuilder {
    use crate::domain::request::schema::{string, OneOfBuilder, RefOr, Schema};
    use utoipa::PartialSchema;

    let bodies = [
        AddTask::schema(),
        LongRunningTask::schema(),
        ProcessDataTask::schema(),
    ];
    let mut one_of = OneOfBuilder::new()
        .description(Some("`POST /tasks`, by `type`."))
        .examples([serde_json::json!({"type": "add", "x": 5, "y": 3})]);
    for (kind, body) in KINDS.into_iter().zip(bodies) {
        if let RefOr::T(Schema::Object(mut object)) = body {
            let tag = string().enum_values(Some([kind])).build();
            let rest = std::mem::take(&mut object.properties);
            object.properties.insert("type".into(), tag.into());
            object.properties.extend(rest);
            object.required.insert(0, "type".into());
            one_of = one_of.item(Schema::Object(object));
        }
    }
    one_of
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorCode;
    use serde_json::json;

    fn parse(value: Value) -> Result<TaskKind, FieldErrors> {
        TaskCreateRequest::from_fields(value.as_object().unwrap()).map(|request| request.0)
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
}
