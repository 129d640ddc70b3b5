//! The last line of defence for secrets in logs: every JSON line the
//! subscriber writes passes through here, and any field whose name looks
//! like it holds a secret (`password`, `refresh_token`, `Authorization`,
//! `phone_number`…), in the event or in its span, is written as
//! `"[redacted]"` whatever its value. The types that hold secrets already
//! print redacted; this catches a field added by mistake.
//!
//! The cost stays off the common path: a line is parsed and rewritten only
//! if one of the names occurs in it somewhere.

use std::fmt;
use std::io::{self, Write};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// Parts of field names that mark a secret, lower case; matched
/// case-insensitively anywhere in the name.
pub const SENSITIVE_NAME_PARTS: [&str; 7] = [
    "password",
    "token",
    "secret",
    "authorization",
    "phone",
    "cookie",
    "otp",
];

/// Fields whose names match but that hold no secret: a count the clean-up
/// reports, and the name of the Secrets Manager secret keys were read from.
const NOT_SECRET: [&str; 2] = ["push_tokens_pruned", "secret_id"];

pub const REDACTED: &str = "[redacted]";

/// Wraps a `MakeWriter`: what it makes redacts each line before passing it on.
#[derive(Clone, Debug)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer(),
            pending: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer_for(meta),
            pending: Vec::new(),
        }
    }
}

/// Writes whole lines only: the formatter hands over one event's line at
/// a time, but a part-line is kept until its newline (or the writer's end)
/// so that a line is never redacted in pieces.
pub struct RedactingWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    fn write_lines(&mut self, bytes: &[u8]) -> io::Result<()> {
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            match redact_line(line) {
                Some(redacted) => self.inner.write_all(&redacted)?,
                None => self.inner.write_all(line)?,
            }
        }
        Ok(())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The usual case, one whole line: no copy.
        if self.pending.is_empty() && buf.ends_with(b"\n") {
            self.write_lines(buf)?;
            return Ok(buf.len());
        }
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let complete: Vec<u8> = self.pending.drain(..=end).collect();
            self.write_lines(&complete)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.inner.flush()
    }
}

impl<W: Write> RedactingWriter<W> {
    fn write_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rest = std::mem::take(&mut self.pending);
        self.write_lines(&rest)
    }
}

/// A line without its newline is still written, when the event is done.
impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.write_pending();
    }
}

/// The line with every sensitive field redacted, or `None` when it needs
/// no change (nothing matches, or it is not a JSON object: passed as is).
pub fn redact_line(line: &[u8]) -> Option<Vec<u8>> {
    if !mentions_sensitive_name(line) {
        return None;
    }
    let (json, newline) = match line.strip_suffix(b"\n") {
        Some(json) => (json, true),
        None => (line, false),
    };
    let mut node: Node = serde_json::from_slice(json).ok()?;
    if !matches!(node, Node::Object(_)) || !node.redact() {
        return None;
    }
    let mut redacted = serde_json::to_vec(&node).ok()?;
    if newline {
        redacted.push(b'\n');
    }
    Some(redacted)
}

fn mentions_sensitive_name(line: &[u8]) -> bool {
    SENSITIVE_NAME_PARTS.iter().any(|part| {
        line.windows(part.len())
            .any(|window| window.eq_ignore_ascii_case(part.as_bytes()))
    })
}

fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !NOT_SECRET.contains(&lower.as_str())
        && SENSITIVE_NAME_PARTS.iter().any(|part| lower.contains(part))
}

/// A JSON value whose objects keep their key order, so a rewritten line
/// reads like the others (`serde_json::Map` would sort the keys).
enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Scalar(Value),
}

impl Node {
    /// Redacts sensitive fields at any depth; whether anything changed.
    fn redact(&mut self) -> bool {
        match self {
            Node::Object(fields) => {
                let mut changed = false;
                for (name, value) in fields {
                    if is_sensitive_name(name) {
                        *value = Node::Scalar(Value::String(REDACTED.to_owned()));
                        changed = true;
                    } else {
                        changed |= value.redact();
                    }
                }
                changed
            }
            Node::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| item.redact() | changed),
            Node::Scalar(_) => false,
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Scalar(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut fields = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, Node>()? {
            fields.push((name, value));
        }
        Ok(Node::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(line: &str) -> String {
        redact_line(line.as_bytes())
            .map(|bytes| String::from_utf8(bytes).unwrap())
            .unwrap_or_else(|| line.to_owned())
    }

    #[test]
    fn sensitive_fields_of_events_and_spans_are_redacted() {
        let line = r#"{"timestamp":"t","level":"INFO","Password":"hunter2-hunter2","refresh_token":"rt_abc","phone_number":"+919876543210","otp":123456,"span":{"request_id":"r1","AUTHORIZATION":"Bearer eyJx","session_cookie":{"v":"c"}},"message":"logged in"}"#;
        let out = redacted(&format!("{line}\n"));
        for secret in ["hunter2", "rt_abc", "9876543210", "123456", "eyJx", "\"c\""] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        // Order kept, the rest untouched, still one line of JSON.
        assert!(out.starts_with(r#"{"timestamp":"t","level":"INFO","Password":"[redacted]","#));
        assert!(out.contains(r#""span":{"request_id":"r1","AUTHORIZATION":"[redacted]""#));
        assert!(out.ends_with("\"message\":\"logged in\"}\n"));
        assert_eq!(out.matches('\n').count(), 1);
        serde_json::from_str::<Value>(&out).unwrap();
    }

    #[test]
    fn nested_and_listed_fields_are_redacted() {
        let out = redacted(r#"{"body":[{"client_secret":"s3cr3t"},{"ok":1}],"level":"WARN"}"#);
        assert_eq!(
            out,
            r#"{"body":[{"client_secret":"[redacted]"},{"ok":1}],"level":"WARN"}"#
        );
    }

    #[test]
    fn lines_without_sensitive_fields_pass_unchanged() {
        // Fast path: no name matches.
        assert_eq!(redact_line(br#"{"level":"INFO","route":"/health"}"#), None);
        // A name in a value only: parsed, nothing to change, passed as is.
        assert_eq!(
            redact_line(br#"{"route":"/auth/token/refresh","status":200}"#),
            None
        );
        // Not JSON, or not an object: passed as is.
        assert_eq!(redact_line(b"password=hunter2 (not json)\n"), None);
        assert_eq!(redact_line(br#"["password"]"#), None);
        // Names known to hold no secret keep their values.
        assert_eq!(
            redact_line(br#"{"push_tokens_pruned":3,"secret_id":"signing-keys"}"#),
            None
        );
    }

    #[test]
    fn writer_redacts_whole_lines_even_when_written_in_pieces() {
        let mut out = Vec::new();
        {
            let mut writer = RedactingWriter {
                inner: &mut out,
                pending: Vec::new(),
            };
            writer.write_all(br#"{"level":"INFO","tok"#).unwrap();
            writer.write_all(b"en\":\"abc\"}\n{\"a\":1}\n").unwrap();
            writer
                .write_all(br#"{"secret":"tail-without-newline"}"#)
                .unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"level\":\"INFO\",\"token\":\"[redacted]\"}\n{\"a\":1}\n{\"secret\":\"[redacted]\"}"
        );
    }

    #[test]
    fn the_subscriber_redacts_event_and_span_fields() {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl<'a> MakeWriter<'a> for Buffer {
            type Writer = Buffer;
            fn make_writer(&'a self) -> Buffer {
                self.clone()
            }
        }
        let buffer = Buffer::default();
        let subscriber = crate::telemetry::json_subscriber(buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", authorization = "Bearer span-secret");
            let _entered = span.enter();
            tracing::info!(
                password = "event-secret",
                new_phone = 919876543210u64,
                kept = "visible",
                "done"
            );
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("visible") && text.contains("[redacted]"),
            "{text}"
        );
        for secret in ["span-secret", "event-secret", "919876543210"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
