//! `keytool`: makes and maintains the key set that signs access tokens
//! (ES256 by default, or EdDSA; the secret's JSON format and the key
//! lifecycle are documented in `shared::session_tokens::keyset`) and the phone-number
//! keys. It reads the current set on stdin and prints the new one on stdout,
//! so it never talks to AWS itself; the AWS CLI moves the JSON in and out of
//! Secrets Manager. Write key files with a private umask and delete them
//! afterwards: they hold private keys.
//!
//! ```sh
//! umask 077
//! SECRET=users-service/jwt-signing-keys
//! get() { aws secretsmanager get-secret-value --secret-id "$SECRET" --query SecretString --output text; }
//! put() { aws secretsmanager put-secret-value --secret-id "$SECRET" --secret-string file://keys.json; }
//!
//! # First deployment: a set of one ES256 key, signing at once.
//! cargo run -q -p keytool -- generate > keys.json
//! aws secretsmanager create-secret --name "$SECRET" --secret-string file://keys.json
//!
//! # Rotation, step 1: a pending key, published now (in the JWKS), signing
//! # by itself an hour later, once every verifier's JWKS cache and every
//! # function's key reload has seen it. Nothing else to do for it to sign.
//! get | cargo run -q -p keytool -- add > keys.json && put
//! get | cargo run -q -p keytool -- list          # pending / active / retired
//!
//! # (Optional) sign with it before its time, once published long enough.
//! get | cargo run -q -p keytool -- promote KID > keys.json && put
//!
//! # Step 2, any time later: drop the keys retired long enough that no
//! # token they signed is still valid (the signer and pending keys stay).
//! get | cargo run -q -p keytool -- prune > keys.json && put
//!
//! # Cancel a pending key (it never signs); the signer cannot be retired,
//! # only replaced by promoting its successor.
//! get | cargo run -q -p keytool -- retire KID > keys.json && put
//!
//! # The public JWKS document (what GET /.well-known/jwks.json serves).
//! get | cargo run -q -p keytool -- jwks
//! rm -f keys.json
//! ```
//!
//! A migration between algorithms is the same rotation with `add --alg`:
//! tokens of both kinds verify by their `kid` meanwhile.
//!
//! The phone-number keys (`shared::crypto::phone_crypto`: AES-256-GCM
//! encryption keys and the HMAC lookup key) live in a second secret:
//!
//! ```sh
//! PHONE_SECRET=users-service/phone-keys
//! cargo run -q -p keytool -- phone-keys generate > phone-keys.json
//! aws secretsmanager create-secret --name "$PHONE_SECRET" --secret-string file://phone-keys.json
//!
//! # Rotation: a new key encrypts from now on; every old key keeps
//! # decrypting (never delete one while data encrypted under it is stored).
//! # The lookup key stays: changing it would orphan every PHONE# claim.
//! aws secretsmanager get-secret-value --secret-id "$PHONE_SECRET" \
//!     --query SecretString --output text \
//!   | cargo run -q -p keytool -- phone-keys rotate > phone-keys.json
//! aws secretsmanager put-secret-value --secret-id "$PHONE_SECRET" --secret-string file://phone-keys.json
//! rm -f phone-keys.json
//! ```
//!
//! Bad arguments or input: a message on stderr and exit code 2.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use secrecy::zeroize::Zeroizing;
use secrecy::ExposeSecret;
use shared::crypto::phone_crypto::PhoneKeys;
#[cfg(test)]
use shared::session_tokens::KeyAlgorithm;
use shared::session_tokens::{KeySet, KeyState};
use time::{Duration, OffsetDateTime};

mod args;
#[cfg(test)]
mod tests;

use args::{parse_args, Command};

/// Secrets Manager's limit for one secret value.
const MAX_INPUT_BYTES: usize = 65_536;

/// The shortest time a key must be published before it signs: the JWKS
/// document's cache lifetime (`max-age=300`) plus the functions' default
/// key reload (`SIGNING_KEYS_REFRESH_SECONDS=300`).
const MIN_PUBLISHED: Duration = Duration::seconds(600);

/// How long `add` publishes a key before it signs by default: the minimum
/// with a wide margin for verifiers that cache longer.
const DEFAULT_PUBLISH: Duration = Duration::hours(1);

/// How long `prune` keeps a retired key by default: the default access-token
/// lifetime (900 s) and leeway (30 s), the key reload (300 s), with margin.
const DEFAULT_RETENTION: Duration = Duration::hours(1);

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("{0}\n{usage}", usage = args::USAGE)]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("writing the output failed: {0}")]
    Output(#[source] std::io::Error),
}

impl ToolError {
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) | Self::Input(_) => ExitCode::from(2),
            Self::Output(_) => ExitCode::from(1),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = parse_args(&args).and_then(|command| {
        let stdin = std::io::stdin();
        if command.reads_stdin() && stdin.is_terminal() {
            return Err(ToolError::Input(
                "expected the current key-set JSON on stdin (pipe or redirect it)".to_owned(),
            ));
        }
        let mut report = std::io::stderr();
        run(
            &command,
            &mut stdin.lock(),
            &mut std::io::stdout().lock(),
            &mut report,
            OffsetDateTime::now_utc(),
        )
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keytool: {error}");
            error.exit_code()
        }
    }
}

/// Runs `command`: the key set JSON (or JWKS, or the listing) goes to
/// `output`, notes for the operator go to `report`.
fn run(
    command: &Command,
    input: &mut dyn Read,
    output: &mut dyn Write,
    report: &mut dyn Write,
    now: OffsetDateTime,
) -> Result<(), ToolError> {
    let lifecycle =
        |error: shared::session_tokens::LifecycleError| ToolError::Input(error.to_string());
    let keys = match command {
        Command::Generate { alg } => {
            let keys = KeySet::generate_with(*alg, now);
            note(
                report,
                &format!("new {alg} key set; signer {}", keys.latest().kid()),
            );
            keys
        }
        Command::Add { alg, publish } => {
            if *publish < MIN_PUBLISHED {
                return Err(ToolError::Usage(format!(
                    "--publish-seconds must be at least {} (JWKS cache plus key reload)",
                    MIN_PUBLISHED.whole_seconds()
                )));
            }
            let current = read_key_set(input)?;
            let alg = alg.or_else(|| current.signer_at(now).map(|key| key.algorithm()));
            let keys = current.with_pending_key(
                alg.unwrap_or(shared::session_tokens::keyset::DEFAULT_ALGORITHM),
                now,
                *publish,
            );
            let added = keys.latest();
            note(
                report,
                &format!(
                    "added pending {} key {}; it signs from {}",
                    added.algorithm(),
                    added.kid(),
                    format_time(added.activates_at())
                ),
            );
            keys
        }
        Command::Promote { kid } => {
            let keys = read_key_set(input)?
                .promote(kid, now, MIN_PUBLISHED)
                .map_err(lifecycle)?;
            note(report, &format!("{kid} signs from now on"));
            keys
        }
        Command::Retire { kid } => {
            let keys = read_key_set(input)?.retire(kid, now).map_err(lifecycle)?;
            note(report, &format!("{kid} will not sign"));
            keys
        }
        Command::Prune { retention } => {
            let (kept, removed) = read_key_set(input)?.prune(now, *retention);
            note(
                report,
                &format!(
                    "removed {} keys {removed:?}, kept {}",
                    removed.len(),
                    kept.keys().len()
                ),
            );
            kept
        }
        Command::List => {
            let keys = read_key_set(input)?;
            return write_line(output, &listing(&keys, now));
        }
        Command::PhoneKeysGenerate => {
            let keys = PhoneKeys::generate(now);
            note(
                report,
                &format!("new phone key set; encrypting key {}", keys.current_kid()),
            );
            return write_line(output, keys.to_secret_json().expose_secret());
        }
        Command::PhoneKeysRotate => {
            let keys = read_phone_keys(input)?.rotate(now);
            note(
                report,
                &format!(
                    "rotated phone keys: encrypting key {}, {} encryption keys",
                    keys.current_kid(),
                    keys.kids().len()
                ),
            );
            return write_line(output, keys.to_secret_json().expose_secret());
        }
        Command::Jwks => {
            let jwks = read_key_set(input)?.jwks();
            let text = serde_json::to_string_pretty(&jwks)
                .map_err(|error| ToolError::Output(std::io::Error::other(error)))?;
            return write_line(output, &text);
        }
    };
    write_line(output, keys.to_secret_json().expose_secret())
}

/// One line a key: kid, algorithm, state at `now`, and its times.
fn listing(keys: &KeySet, now: OffsetDateTime) -> String {
    let mut lines = vec![format!(
        "{:<24} {:<6} {:<8} {:<21} {:<21} {}",
        "KID", "ALG", "STATE", "PUBLISHED", "SIGNS FROM", "RETIRED SINCE"
    )];
    for (key, state) in keys.states_at(now) {
        let (name, since) = match state {
            KeyState::Pending => ("pending", String::new()),
            KeyState::Active => ("active", String::new()),
            KeyState::Retired { since } => ("retired", format_time(since)),
            KeyState::Cancelled => ("cancelled", String::new()),
        };
        lines.push(format!(
            "{:<24} {:<6} {:<8} {:<21} {:<21} {since}",
            key.kid(),
            key.algorithm().name(),
            name,
            format_time(key.created_at()),
            format_time(key.activates_at()),
        ));
    }
    lines.join("\n")
}

fn format_time(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn read_key_set(input: &mut dyn Read) -> Result<KeySet, ToolError> {
    let text = read_secret_text(input)?;
    KeySet::parse(&text).map_err(|error| ToolError::Input(format!("invalid key set: {error}")))
}

fn read_phone_keys(input: &mut dyn Read) -> Result<PhoneKeys, ToolError> {
    let text = read_secret_text(input)?;
    PhoneKeys::parse(&text)
        .map_err(|error| ToolError::Input(format!("invalid phone key set: {error}")))
}

/// Stdin as text, refused when empty or larger than a secret can be.
fn read_secret_text(input: &mut dyn Read) -> Result<Zeroizing<String>, ToolError> {
    // Sized up front and wiped on drop: the input holds private keys.
    let mut text = Zeroizing::new(String::with_capacity(MAX_INPUT_BYTES + 1));
    input
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|error| {
            ToolError::Input(format!("could not read stdin as UTF-8 text: {error}"))
        })?;
    if text.len() > MAX_INPUT_BYTES {
        return Err(ToolError::Input(format!(
            "stdin is larger than a secret can be ({MAX_INPUT_BYTES} bytes)"
        )));
    }
    if text.trim().is_empty() {
        return Err(ToolError::Input(
            "expected the current key-set JSON on stdin, got nothing".to_owned(),
        ));
    }
    Ok(text)
}

fn write_line(output: &mut dyn Write, text: &str) -> Result<(), ToolError> {
    output
        .write_all(text.as_bytes())
        .and_then(|()| output.write_all(b"\n"))
        .and_then(|()| output.flush())
        .map_err(ToolError::Output)
}

/// Operator notes are best effort: a closed stderr must not lose the keys.
fn note(report: &mut dyn Write, message: &str) {
    let _ = writeln!(report, "keytool: {message}");
}
