//! The command line: `keytool COMMAND [options]`.

use shared::session_tokens::KeyAlgorithm;
use time::Duration;

use super::{ToolError, DEFAULT_PUBLISH, DEFAULT_RETENTION};

pub const USAGE: &str = "usage:
  keytool generate [--alg ES256|EdDSA]            print a new key set (ES256 by default), signing at once
  keytool add [--alg A] [--publish-seconds N] < current.json
                                                  add a pending key that signs N seconds from now
                                                  (default 3600, at least 600); `rotate` is the same
  keytool promote KID < current.json              a pending key published 600 s or more signs now
  keytool retire KID < current.json               a pending key never signs (the signer cannot be retired)
  keytool prune [--retention-seconds N] < current.json
                                                  drop keys retired N seconds or more ago (default 3600)
  keytool list < current.json                     each key's algorithm, state and times
  keytool jwks < current.json                     print the public JWKS document
  keytool phone-keys generate                     print a new phone-number key set
  keytool phone-keys rotate < current.json        print the phone keys with a new encryption key";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Generate {
        alg: KeyAlgorithm,
    },
    Add {
        alg: Option<KeyAlgorithm>,
        publish: Duration,
    },
    Promote {
        kid: String,
    },
    Retire {
        kid: String,
    },
    Prune {
        retention: Duration,
    },
    List,
    Jwks,
    PhoneKeysGenerate,
    PhoneKeysRotate,
}

impl Command {
    /// Every command but the generators reads the current set on stdin.
    pub fn reads_stdin(&self) -> bool {
        !matches!(self, Self::Generate { .. } | Self::PhoneKeysGenerate)
    }
}

fn usage(message: impl Into<String>) -> ToolError {
    ToolError::Usage(message.into())
}

pub fn parse_args(args: &[String]) -> Result<Command, ToolError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["generate", rest @ ..] => {
            let options = Options::parse(rest, &["--alg"])?;
            Ok(Command::Generate {
                alg: options
                    .alg()?
                    .unwrap_or(shared::session_tokens::keyset::DEFAULT_ALGORITHM),
            })
        }
        ["add" | "rotate", rest @ ..] => {
            let options = Options::parse(rest, &["--alg", "--publish-seconds"])?;
            Ok(Command::Add {
                alg: options.alg()?,
                publish: options
                    .seconds("--publish-seconds")?
                    .unwrap_or(DEFAULT_PUBLISH),
            })
        }
        ["promote", kid] => Ok(Command::Promote {
            kid: (*kid).to_owned(),
        }),
        ["retire", kid] if !kid.starts_with('-') => Ok(Command::Retire {
            kid: (*kid).to_owned(),
        }),
        ["promote" | "retire", ..] => Err(usage("promote and retire take one KID")),
        ["prune", rest @ ..] => {
            let options = Options::parse(rest, &["--retention-seconds"])?;
            Ok(Command::Prune {
                retention: options
                    .seconds("--retention-seconds")?
                    .unwrap_or(DEFAULT_RETENTION),
            })
        }
        ["list"] => Ok(Command::List),
        ["jwks"] => Ok(Command::Jwks),
        ["phone-keys", "generate"] => Ok(Command::PhoneKeysGenerate),
        ["phone-keys", "rotate"] => Ok(Command::PhoneKeysRotate),
        ["phone-keys", ..] => Err(usage("phone-keys needs generate or rotate")),
        [] => Err(usage("no command given")),
        [other, ..] => Err(usage(format!(
            "unknown command or extra arguments: {other:?}"
        ))),
    }
}

/// `--name value` or `--name=value` pairs, each at most once, of the names
/// a command takes.
struct Options<'a> {
    values: Vec<(&'a str, &'a str)>,
}

impl<'a> Options<'a> {
    fn parse(args: &[&'a str], allowed: &[&str]) -> Result<Self, ToolError> {
        let mut values: Vec<(&str, &str)> = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name, value),
                None => (
                    *arg,
                    *rest
                        .next()
                        .ok_or_else(|| usage(format!("{arg} needs a value")))?,
                ),
            };
            if !allowed.contains(&name) {
                return Err(usage(format!("unknown option {name:?}")));
            }
            if values.iter().any(|(known, _)| *known == name) {
                return Err(usage(format!("{name} given twice")));
            }
            values.push((name, value));
        }
        Ok(Self { values })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
    }

    fn alg(&self) -> Result<Option<KeyAlgorithm>, ToolError> {
        self.get("--alg")
            .map(|name| {
                KeyAlgorithm::from_name(name)
                    .ok_or_else(|| usage(format!("--alg is ES256 or EdDSA, got {name:?}")))
            })
            .transpose()
    }

    fn seconds(&self, name: &str) -> Result<Option<Duration>, ToolError> {
        self.get(name)
            .map(|value| {
                value
                    .parse::<u32>()
                    .map(|seconds| Duration::seconds(seconds.into()))
                    .map_err(|_| usage(format!("{name} expects whole seconds, got {value:?}")))
            })
            .transpose()
    }
}
