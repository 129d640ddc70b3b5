//! Captures every log line the process writes, through the production
//! JSON subscriber, so tests can search them for secrets.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
    }

    /// Whether `secret` (a short code of digits) is in the logs as a word of
    /// its own, not inside a longer run of letters and digits or a decimal
    /// number. Every test writes to this one buffer, and a six-digit code
    /// searched as a bare substring turns up by chance in its timestamps,
    /// ids and latencies.
    pub fn contains_word(&self, secret: &str) -> bool {
        let text = self.text();
        let bytes = text.as_bytes();
        // `outer` touches the match; `beyond` is the byte past it.
        let joined = |outer: Option<&u8>, beyond: Option<&u8>| match outer {
            Some(c) if c.is_ascii_alphanumeric() => true,
            Some(b'.') => beyond.is_some_and(u8::is_ascii_digit),
            _ => false,
        };
        text.match_indices(secret).any(|(start, found)| {
            let end = start + found.len();
            let before = start.checked_sub(1).and_then(|i| bytes.get(i));
            let before_beyond = start.checked_sub(2).and_then(|i| bytes.get(i));
            !joined(before, before_beyond) && !joined(bytes.get(end), bytes.get(end + 1))
        })
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the production subscriber process-wide, writing to a buffer;
/// every test that calls it shares that buffer.
pub fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            tracing::subscriber::set_global_default(shared::telemetry::json_subscriber(
                capture.clone(),
            ))
            .expect("no other global subscriber in the suite");
            capture
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_found_as_a_word_not_inside_numbers_or_ids() {
        let capture = Capture::default();
        let mut writer = capture.clone();
        writer
            .write_all(br#"{"t":"16:00:06.0628051Z","id":"a062805f","ms":0.062805}"#)
            .unwrap();
        assert!(!capture.contains_word("062805"));
        writer.write_all(br#" {"message":"sent 062805."}"#).unwrap();
        assert!(capture.contains_word("062805"));
    }
}
