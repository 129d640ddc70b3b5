//! JSON logs through `tracing`, one object per line, for CloudWatch.

pub mod redact;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The subscriber every binary uses; tests pass their own writer to read
/// exactly what production would print. Every line goes through
/// [`redact::Redacting`] on its way to `writer`.
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(redact::Redacting(writer))
        .finish()
}

/// Installs JSON logging to stdout; a second call is a no-op.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(std::io::stdout));
}

/// "outer: inner: innermost": an error with every cause, for one log field
/// or one line for an operator (`StoreError` alone says only "storage
/// failed"; the SDK's reason is further down).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut described = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        described.push_str(": ");
        described.push_str(&cause.to_string());
        source = cause.source();
    }
    described
}
