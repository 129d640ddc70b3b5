//! The `users` and `audit` commands: one `/admin/` call each, printed as
//! a table (or, with `--json`, the answer's `data` and `meta` as JSON).

use std::io::Write;

use serde_json::{json, Value};

use crate::api::AdminApi;
use crate::args::ApiCall;
use crate::AdminError;

/// What a path segment escapes: everything but RFC 3986's unreserved.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `METHOD`, path and query of the call.
pub fn request_of(call: &ApiCall) -> (&'static str, String) {
    let with_query = |path: &str, pairs: &[(&str, &Option<String>)]| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        match query.finish() {
            query if query.is_empty() => path.to_owned(),
            query => format!("{path}?{query}"),
        }
    };
    // An id is one path segment whatever it holds (RFC 3986 unreserved
    // characters stay as they are).
    let id_path = |id: &str, tail: &str| {
        let id = percent_encoding::utf8_percent_encode(id, SEGMENT);
        format!("/admin/users/{id}{tail}")
    };
    match call {
        ApiCall::List {
            status,
            limit,
            cursor,
        } => (
            "GET",
            with_query(
                "/admin/users",
                &[("status", status), ("limit", limit), ("cursor", cursor)],
            ),
        ),
        ApiCall::Find(query) => (
            "GET",
            with_query("/admin/users", &[("query", &Some(query.clone()))]),
        ),
        ApiCall::Show(id) => ("GET", id_path(id, "")),
        ApiCall::Action { action, id } if action == "delete" => ("DELETE", id_path(id, "")),
        ApiCall::Action { action, id } => ("POST", id_path(id, &format!("/{action}"))),
        ApiCall::Credits { id, .. } => ("POST", id_path(id, "/credits")),
        ApiCall::Audit {
            user,
            since,
            limit,
            cursor,
        } => (
            "GET",
            with_query(
                "/admin/audit",
                &[
                    ("user_id", user),
                    ("since", since),
                    ("limit", limit),
                    ("cursor", cursor),
                ],
            ),
        ),
    }
}

pub async fn run(
    api: &AdminApi,
    call: &ApiCall,
    json_output: bool,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), AdminError> {
    let (method, path) = request_of(call);
    let body = match call {
        ApiCall::Credits { amount, reason, .. } => {
            Some(json!({"amount": amount, "reason": reason}))
        }
        _ => None,
    };
    let answer = api.call(method, &path, body.as_ref()).await?;
    if !(200..300).contains(&answer.status) {
        return Err(refusal(&answer));
    }
    let body = answer.body;
    if json_output {
        let printed = json!({ "data": body["data"], "meta": body["meta"] });
        return write(out, &format!("{printed:#}"));
    }
    match call {
        ApiCall::List { .. } | ApiCall::Find(_) => {
            let users = body["data"]["users"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if users.is_empty() {
                crate::commands::note(notes, "no account found");
            } else {
                write(out, &user_table(&users))?;
            }
            if let Some(cursor) = body["meta"]["next_cursor"].as_str() {
                crate::commands::note(notes, &format!("more: --cursor {cursor}"));
            }
        }
        ApiCall::Show(_) => write(out, &detail(&body["data"]))?,
        ApiCall::Action { action, .. } => {
            let user = &body["data"]["user"];
            let line = match action.as_str() {
                "delete" => format!("deletion started: task {}", text(&body["data"]["task_id"])),
                _ => format!(
                    "{}: {} {} (status {})",
                    text(&body["message"]),
                    text(id_of(user)),
                    name_of(user),
                    text(&user["status"])
                ),
            };
            write(out, &line)?;
        }
        ApiCall::Credits { id, .. } => {
            let entry = &body["data"]["entry"];
            write(
                out,
                &format!(
                    "credit entry {}: {} for {id} ({}); balance {}",
                    text(&entry["id"]),
                    entry["amount"],
                    text(&entry["reason"]),
                    body["data"]["balance"]
                ),
            )?;
        }
        ApiCall::Audit { .. } => {
            let records = body["data"]["records"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if records.is_empty() {
                crate::commands::note(notes, "no audit records");
            } else {
                write(out, &audit_table(&records))?;
            }
            if let Some(cursor) = body["meta"]["next_cursor"].as_str() {
                crate::commands::note(notes, &format!("more: --cursor {cursor}"));
            }
        }
    }
    Ok(())
}

/// A 4xx or 5xx answer as the command's error (exit code 1).
pub fn refusal(answer: &crate::api::Answer) -> AdminError {
    AdminError::Api {
        status: answer.status,
        message: error_text(&answer.body),
    }
}

fn write(out: &mut dyn Write, text: &str) -> Result<(), AdminError> {
    writeln!(out, "{text}").map_err(AdminError::Output)
}

/// The API's refusal in one line: its message and first error.
fn error_text(body: &Value) -> String {
    let message = body["message"]
        .as_str()
        .or(body.as_str())
        .unwrap_or("no message");
    match body["error"].as_str() {
        Some(error) if error != message => format!("{message}: {error}"),
        _ => message.to_owned(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn id_of(user: &Value) -> &Value {
    if user["userId"].is_null() {
        &user["id"]
    } else {
        &user["userId"]
    }
}

/// A username account's username, a phone account's name.
fn name_of(user: &Value) -> String {
    text(if user["username"].is_null() {
        &user["name"]
    } else {
        &user["username"]
    })
}

/// Columns padded to their widest cell, two spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![line(header.iter().map(|h| (*h).to_owned()).collect())];
    lines.extend(rows.iter().map(|row| line(row.clone())));
    lines.join("\n")
}

fn user_table(users: &[Value]) -> String {
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|user| {
            let contact = if user["email"].is_null() {
                text(&user["phone_number"])
            } else {
                text(&user["email"])
            };
            vec![
                text(id_of(user)),
                name_of(user),
                contact,
                text(&user["status"]),
                text(&user["created_at"]),
            ]
        })
        .collect();
    table(&["ID", "NAME", "EMAIL/PHONE", "STATUS", "CREATED"], &rows)
}

fn audit_table(records: &[Value]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                text(&r["at"]),
                text(&r["action"]),
                text(&r["outcome"]),
                text(if r["user_id"].is_null() {
                    &r["subject"]
                } else {
                    &r["user_id"]
                }),
                text(&r["actor"]),
            ]
        })
        .collect();
    table(&["AT", "ACTION", "OUTCOME", "USER", "ACTOR"], &rows)
}

fn detail(data: &Value) -> String {
    let mut lines = Vec::new();
    if let Some(user) = data["user"].as_object() {
        let width = user.keys().map(String::len).max().unwrap_or(0);
        for (name, value) in user {
            lines.push(format!("{name:<width$}  {}", text(value)));
        }
    }
    let section = |title: &str, header: &[&str], fields: &[&str], items: &Value| {
        let items = items.as_array().cloned().unwrap_or_default();
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|item| fields.iter().map(|f| text(&item[*f])).collect())
            .collect();
        if rows.is_empty() {
            format!("\n{title}: none")
        } else {
            format!("\n{title}:\n{}", table(header, &rows))
        }
    };
    lines.push(section(
        "devices",
        &["DEVICE", "PLATFORM", "MODEL", "LAST SEEN"],
        &["device_id", "platform", "model", "last_seen"],
        &data["devices"],
    ));
    lines.push(section(
        "locks",
        &["SCOPE", "ADDRESS", "IDENTIFIER", "FAILURES", "LOCKED UNTIL"],
        &["scope", "address", "identifier", "failures", "locked_until"],
        &data["locks"],
    ));
    lines.push(section(
        "live sessions",
        &["SESSION", "DEVICE", "IP", "LAST USED"],
        &["session_id", "device_id", "ip", "last_used_at"],
        &data["sessions"],
    ));
    let audit = data["audit"].as_array().cloned().unwrap_or_default();
    lines.push(if audit.is_empty() {
        "\nrecent audit: none".to_owned()
    } else {
        format!("\nrecent audit:\n{}", audit_table(&audit))
    });
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries_are_encoded() {
        assert_eq!(
            request_of(&ApiCall::Find("+919876501234".into())),
            ("GET", "/admin/users?query=%2B919876501234".to_owned())
        );
        assert_eq!(
            request_of(&ApiCall::Action {
                action: "logout-all".into(),
                id: "a/b".into()
            }),
            ("POST", "/admin/users/a%2Fb/logout-all".to_owned())
        );
        assert_eq!(
            request_of(&ApiCall::Action {
                action: "delete".into(),
                id: "3c2b1a09-8f7e-4d6c-5b4a-392817161514".into()
            }),
            (
                "DELETE",
                "/admin/users/3c2b1a09-8f7e-4d6c-5b4a-392817161514".to_owned()
            )
        );
        assert_eq!(
            request_of(&ApiCall::List {
                status: Some("active".into()),
                limit: None,
                cursor: None
            }),
            ("GET", "/admin/users?status=active".to_owned())
        );
    }

    #[test]
    fn tables_line_up() {
        let rows = vec![
            vec!["1".to_owned(), "alice".to_owned()],
            vec!["22".to_owned(), "bo".to_owned()],
        ];
        assert_eq!(table(&["ID", "NAME"], &rows), "ID  NAME\n1   alice\n22  bo");
    }
}
