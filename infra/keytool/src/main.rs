//! `keytool`: makes and maintains the Ed25519 key set that signs access
//! tokens (the secret's JSON format is documented in
//! `shared::tokens::keyset`). It reads the current set on stdin and prints
//! the new one on stdout, so it never talks to AWS itself; the AWS CLI
//! moves the JSON in and out of Secrets Manager. Write key files with a
//! private umask and delete them afterwards: they hold private keys.
//!
//! ```sh
//! umask 077
//! SECRET=users-service/jwt-signing-keys
//!
//! # First deployment: a set of one key.
//! cargo run -q -p keytool -- generate > keys.json
//! aws secretsmanager create-secret --name "$SECRET" --secret-string file://keys.json
//!
//! # Rotation: a new key signs from now on; the old keys keep verifying the
//! # tokens they signed. Running functions pick the new set up at their next
//! # key refresh, or at once when they meet a token of the new key.
//! aws secretsmanager get-secret-value --secret-id "$SECRET" \
//!     --query SecretString --output text \
//!   | cargo run -q -p keytool -- rotate > keys.json
//! aws secretsmanager put-secret-value --secret-id "$SECRET" --secret-string file://keys.json
//!
//! # Retirement: drop keys created more than N days ago (never the newest).
//! # Only once the newest key has signed for longer than the access-token
//! # lifetime plus the key refresh interval, so no valid token needs them.
//! aws secretsmanager get-secret-value --secret-id "$SECRET" \
//!     --query SecretString --output text \
//!   | cargo run -q -p keytool -- retire --older-than-days 30 > keys.json
//! aws secretsmanager put-secret-value --secret-id "$SECRET" --secret-string file://keys.json
//!
//! # The public JWKS document (what GET /.well-known/jwks.json serves).
//! aws secretsmanager get-secret-value --secret-id "$SECRET" \
//!     --query SecretString --output text | cargo run -q -p keytool -- jwks
//!
//! rm -f keys.json
//! ```
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
use shared::tokens::KeySet;
use time::{Duration, OffsetDateTime};

/// Secrets Manager's limit for one secret value.
const MAX_INPUT_BYTES: usize = 65_536;

/// After a rotation, how long old keys are likely to still verify live
/// tokens (a generous bound on access-token lifetime plus key refresh).
const RECENT_ROTATION: Duration = Duration::hours(1);

const USAGE: &str = "usage:
  keytool generate                                  print a new key set
  keytool rotate < current.json                     print the set with a new signing key
  keytool retire --older-than-days N < current.json print the set without keys older than N days
  keytool jwks < current.json                       print the public JWKS document
  keytool phone-keys generate                       print a new phone-number key set
  keytool phone-keys rotate < current.json          print the phone keys with a new encryption key";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Generate,
    Rotate,
    Retire { older_than_days: u32 },
    Jwks,
    PhoneKeysGenerate,
    PhoneKeysRotate,
}

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("{0}\n{USAGE}")]
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
        let generates = matches!(command, Command::Generate | Command::PhoneKeysGenerate);
        if !generates && stdin.is_terminal() {
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

fn parse_args(args: &[String]) -> Result<Command, ToolError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["generate"] => Ok(Command::Generate),
        ["rotate"] => Ok(Command::Rotate),
        ["jwks"] => Ok(Command::Jwks),
        ["phone-keys", "generate"] => Ok(Command::PhoneKeysGenerate),
        ["phone-keys", "rotate"] => Ok(Command::PhoneKeysRotate),
        ["phone-keys", ..] => Err(ToolError::Usage(
            "phone-keys needs generate or rotate".to_owned(),
        )),
        ["retire", "--older-than-days", days] => parse_days(days),
        ["retire", flag] if flag.starts_with("--older-than-days=") => {
            parse_days(&flag["--older-than-days=".len()..])
        }
        ["retire", ..] => Err(ToolError::Usage(
            "retire needs --older-than-days N".to_owned(),
        )),
        [] => Err(ToolError::Usage("no command given".to_owned())),
        [other, ..] => Err(ToolError::Usage(format!(
            "unknown command or extra arguments: {other:?}"
        ))),
    }
}

fn parse_days(days: &str) -> Result<Command, ToolError> {
    days.parse()
        .map(|older_than_days| Command::Retire { older_than_days })
        .map_err(|_| {
            ToolError::Usage(format!(
                "--older-than-days expects a whole number of days, got {days:?}"
            ))
        })
}

/// Runs `command`: the key set JSON (or JWKS) goes to `output`, notes for
/// the operator go to `report`.
fn run(
    command: &Command,
    input: &mut dyn Read,
    output: &mut dyn Write,
    report: &mut dyn Write,
    now: OffsetDateTime,
) -> Result<(), ToolError> {
    let document = match command {
        Command::Generate => {
            let keys = KeySet::generate(now);
            note(
                report,
                &format!("new key set; signer {}", keys.signer().kid()),
            );
            keys.to_secret_json()
        }
        Command::Rotate => {
            let keys = read_key_set(input)?.rotate(now);
            note(
                report,
                &format!(
                    "rotated: signer {}, {} keys",
                    keys.signer().kid(),
                    keys.keys().len()
                ),
            );
            keys.to_secret_json()
        }
        Command::Retire { older_than_days } => {
            let current = read_key_set(input)?;
            let cutoff = now
                .checked_sub(Duration::days((*older_than_days).into()))
                .ok_or_else(|| ToolError::Usage("--older-than-days is too large".to_owned()))?;
            let kept = current.retire_older_than(cutoff);
            let dropped = current.keys().len() - kept.keys().len();
            note(
                report,
                &format!("retired {dropped} keys, kept {}", kept.keys().len()),
            );
            if dropped > 0 && now - kept.signer().created_at() < RECENT_ROTATION {
                note(
                    report,
                    "warning: the newest key was created less than an hour ago; tokens signed \
                     by the retired keys may still be valid",
                );
            }
            kept.to_secret_json()
        }
        Command::PhoneKeysGenerate => {
            let keys = PhoneKeys::generate(now);
            note(
                report,
                &format!("new phone key set; encrypting key {}", keys.current_kid()),
            );
            keys.to_secret_json()
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
            keys.to_secret_json()
        }
        Command::Jwks => {
            let jwks = read_key_set(input)?.jwks();
            let text = serde_json::to_string_pretty(&jwks)
                .map_err(|error| ToolError::Output(std::io::Error::other(error)))?;
            return write_line(output, &text);
        }
    };
    write_line(output, document.expose_secret())
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-06-01 09:30:00 UTC);

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// (stdout, stderr) of a successful run.
    fn run_ok(command: Command, stdin: &str, now: OffsetDateTime) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        run(&command, &mut stdin.as_bytes(), &mut out, &mut err, now).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn run_err(command: Command, stdin: &[u8]) -> ToolError {
        let mut sink = Vec::new();
        run(&command, &mut &stdin[..], &mut sink, &mut Vec::new(), NOW).unwrap_err()
    }

    #[test]
    fn arguments() {
        assert_eq!(parse_args(&args(&["generate"])).unwrap(), Command::Generate);
        assert_eq!(parse_args(&args(&["rotate"])).unwrap(), Command::Rotate);
        assert_eq!(parse_args(&args(&["jwks"])).unwrap(), Command::Jwks);
        assert_eq!(
            parse_args(&args(&["phone-keys", "generate"])).unwrap(),
            Command::PhoneKeysGenerate
        );
        assert_eq!(
            parse_args(&args(&["phone-keys", "rotate"])).unwrap(),
            Command::PhoneKeysRotate
        );
        for form in [
            &["retire", "--older-than-days", "30"][..],
            &["retire", "--older-than-days=30"],
        ] {
            assert_eq!(
                parse_args(&args(form)).unwrap(),
                Command::Retire {
                    older_than_days: 30
                }
            );
        }
        for bad in [
            &[][..],
            &["rotate", "now"],
            &["destroy"],
            &["retire"],
            &["retire", "--older-than-days"],
            &["retire", "--older-than-days", "-1"],
            &["retire", "--older-than-days", "ten"],
            &["phone-keys"],
            &["phone-keys", "retire"],
            &["phone-keys", "rotate", "now"],
        ] {
            let error = parse_args(&args(bad)).unwrap_err();
            assert!(matches!(error, ToolError::Usage(_)), "{bad:?}");
            assert_eq!(error.exit_code(), ExitCode::from(2));
            assert!(error.to_string().contains("usage:"), "{error}");
        }
    }

    #[test]
    fn generate_rotate_retire_and_jwks_chain_together() {
        let (generated, note) = run_ok(Command::Generate, "", NOW - Duration::days(40));
        let first = KeySet::parse(&generated).unwrap();
        assert!(note.contains(first.signer().kid()), "{note}");

        let (rotated, _) = run_ok(Command::Rotate, &generated, NOW - Duration::days(10));
        let second = KeySet::parse(&rotated).unwrap();
        assert_eq!(second.keys().len(), 2);
        assert_ne!(second.signer().kid(), first.signer().kid());

        let (kept, note) = run_ok(
            Command::Retire {
                older_than_days: 30,
            },
            &rotated,
            NOW,
        );
        let third = KeySet::parse(&kept).unwrap();
        assert_eq!(third.keys().len(), 1);
        assert_eq!(third.signer().kid(), second.signer().kid());
        assert!(note.contains("retired 1 keys"), "{note}");
        assert!(!note.contains("warning"), "{note}");

        let (jwks, _) = run_ok(Command::Jwks, &rotated, NOW);
        let jwks: serde_json::Value = serde_json::from_str(&jwks).unwrap();
        assert_eq!(jwks, second.jwks());
        assert!(!jwks.to_string().contains("private_key"));
    }

    #[test]
    fn phone_keys_generate_and_rotate() {
        let (generated, note) = run_ok(Command::PhoneKeysGenerate, "", NOW - Duration::days(40));
        let first = PhoneKeys::parse(&generated).unwrap();
        assert!(note.contains(first.current_kid()), "{note}");
        assert!(!note.contains("lookup_key"), "{note}");

        let (rotated, note) = run_ok(Command::PhoneKeysRotate, &generated, NOW);
        let second = PhoneKeys::parse(&rotated).unwrap();
        assert_eq!(second.kids().len(), 2);
        assert_ne!(second.current_kid(), first.current_kid());
        assert!(second.kids().contains(&first.current_kid()));
        assert!(note.contains("2 encryption keys"), "{note}");

        // The lookup key is carried over unchanged.
        let lookup = |json: &str| {
            serde_json::from_str::<serde_json::Value>(json).unwrap()["lookup_key"].clone()
        };
        assert_eq!(lookup(&rotated), lookup(&generated));

        // A signing key set is not a phone key set, and the reverse.
        let (signing, _) = run_ok(Command::Generate, "", NOW);
        let error = run_err(Command::PhoneKeysRotate, signing.as_bytes());
        assert!(
            error.to_string().contains("invalid phone key set"),
            "{error}"
        );
        let error = run_err(Command::Rotate, generated.as_bytes());
        assert!(error.to_string().contains("invalid key set"), "{error}");
        for (stdin, expected) in [(&b""[..], "got nothing"), (b"not json", "not JSON")] {
            let error = run_err(Command::PhoneKeysRotate, stdin);
            assert!(matches!(error, ToolError::Input(_)), "{error:?}");
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    #[test]
    fn retiring_right_after_a_rotation_warns() {
        let (generated, _) = run_ok(Command::Generate, "", NOW - Duration::days(40));
        let (rotated, _) = run_ok(Command::Rotate, &generated, NOW - Duration::minutes(5));
        let (_, note) = run_ok(Command::Retire { older_than_days: 0 }, &rotated, NOW);
        assert!(note.contains("warning"), "{note}");
    }

    #[test]
    fn bad_input_is_a_clear_error_not_a_panic() {
        let big = vec![b' '; MAX_INPUT_BYTES + 10];
        let cases: [(&[u8], &str); 5] = [
            (b"", "got nothing"),
            (b"  \n", "got nothing"),
            (b"{\"keys\": []}", "no keys"),
            (b"not json", "not JSON"),
            (b"\xff\xfe", "UTF-8"),
        ];
        for (stdin, expected) in cases {
            for command in [
                Command::Rotate,
                Command::Jwks,
                Command::Retire { older_than_days: 1 },
            ] {
                let error = run_err(command, stdin);
                assert!(matches!(error, ToolError::Input(_)), "{error:?}");
                assert_eq!(error.exit_code(), ExitCode::from(2));
                assert!(error.to_string().contains(expected), "{error}");
            }
        }
        assert!(run_err(Command::Rotate, &big)
            .to_string()
            .contains("larger"));
    }
}
