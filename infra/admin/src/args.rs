//! The command line: what the operator asked for, already validated, so
//! that a typo fails before anything touches the table.

use std::net::IpAddr;

use shared::domain::ip_block::{IpBlock, IpNet};
use shared::domain::FieldError;

use crate::AdminError;

pub const USAGE: &str = "usage:
  admin users list [--status active|inactive] [--limit N] [--cursor C]   newest first
  admin users find <username|email|phone>                  the account it names exactly
  admin users show <user-id>                               account, devices, sessions, audit
  admin users deactivate|activate|unlock|logout-all|verify-email|password-reset|delete <user-id>
  admin users credits <user-id> --amount N --reason TEXT   a manual ledger entry (N < 0 removes)
  admin audit [--user <user-id>] [--since RFC3339] [--limit N] [--cursor C]
      (users and audit call the /admin/ API at $ADMIN_API_URL: with $ADMIN_TOKEN for a
       local server, else SigV4-signed with the AWS credential chain; tables by default,
       --json for scripts)
  admin ip-block add <ip-or-cidr> --reason TEXT              block an address or range
  admin ip-block remove <ip-or-cidr>                        unblock exactly that entry
  admin ip-block list                                       one line per entry: network, reason,
                                                            created_at, created_by (tab-separated)
  admin ip-block check <ip>                                 which entry blocks this address, if any
      (ip-block calls the /admin/ip-blocks routes as users and audit do; the author of a
       block is the caller the API authenticated)
  admin help                                                this text";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    IpBlock(IpBlockCommand),
    /// A call of the `/admin/` API; `json` prints its answer whole.
    Api {
        call: ApiCall,
        json: bool,
    },
}

/// One `/admin/` route with its parameters.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum ApiCall {
    List {
        status: Option<String>,
        limit: Option<String>,
        cursor: Option<String>,
    },
    Find(String),
    Show(String),
    /// `deactivate`, `activate`, `unlock`, `logout-all`, `verify-email`,
    /// `password-reset` (POST) or `delete` (DELETE).
    Action {
        action: String,
        id: String,
    },
    Audit {
        user: Option<String>,
        since: Option<String>,
        limit: Option<String>,
        cursor: Option<String>,
    },
    /// `POST /admin/users/{id}/credits`.
    Credits {
        id: String,
        amount: i64,
        reason: String,
    },
}

pub const ACTIONS: [&str; 7] = [
    "deactivate",
    "activate",
    "unlock",
    "logout-all",
    "verify-email",
    "password-reset",
    "delete",
];

/// `--name value` / `--name=value` options (each at most once) and the
/// positional arguments, for the API commands; `--json` is a flag.
type Options<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, bool);

fn options<'a>(args: &[&'a str], names: &[&'static str]) -> Result<Options<'a>, AdminError> {
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut positional = Vec::new();
    let mut json = false;
    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        if arg == "--json" {
            json = true;
            continue;
        }
        if !arg.starts_with("--") {
            positional.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        let Some(&known) = names.iter().find(|n| **n == name) else {
            return Err(usage(format!("unknown option: {name}")));
        };
        if found.iter().any(|(n, _)| *n == known) {
            return Err(usage(format!("{name} given twice")));
        }
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .copied()
                .ok_or_else(|| usage(format!("{name} needs a value")))?,
        };
        found.push((known, value));
    }
    Ok((found, positional, json))
}

fn option(found: &[(&str, &str)], name: &str) -> Option<String> {
    found
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| (*v).to_owned())
}

fn parse_users(args: &[&str]) -> Result<Command, AdminError> {
    let Some((&sub, rest)) = args.split_first() else {
        return Err(usage("users needs a subcommand"));
    };
    let names: &[&str] = match sub {
        "list" => &["--status", "--limit", "--cursor"],
        "credits" => &["--amount", "--reason"],
        _ => &[],
    };
    let (found, positional, json) = options(rest, names)?;
    let one = |what: &str| -> Result<String, AdminError> {
        match positional.as_slice() {
            [value] => Ok((*value).to_owned()),
            _ => Err(usage(format!("users {sub} takes exactly one {what}"))),
        }
    };
    let call = match sub {
        "list" if positional.is_empty() => ApiCall::List {
            status: option(&found, "--status"),
            limit: option(&found, "--limit"),
            cursor: option(&found, "--cursor"),
        },
        "list" => return Err(usage("users list takes only options")),
        "find" => ApiCall::Find(one("username, email or phone number")?),
        "show" => ApiCall::Show(one("user id")?),
        "credits" => {
            let amount =
                option(&found, "--amount").ok_or_else(|| usage("users credits needs --amount"))?;
            ApiCall::Credits {
                id: one("user id")?,
                amount: amount.trim().parse().map_err(|_| {
                    AdminError::Input(format!("invalid --amount {amount:?}: a whole number"))
                })?,
                reason: option(&found, "--reason")
                    .ok_or_else(|| usage("users credits needs --reason"))?,
            }
        }
        action if ACTIONS.contains(&action) => ApiCall::Action {
            action: action.to_owned(),
            id: one("user id")?,
        },
        other => return Err(usage(format!("unknown users subcommand: {other:?}"))),
    };
    Ok(Command::Api { call, json })
}

fn parse_audit(args: &[&str]) -> Result<Command, AdminError> {
    let (found, positional, json) = options(args, &["--user", "--since", "--limit", "--cursor"])?;
    if !positional.is_empty() {
        return Err(usage("audit takes only options"));
    }
    Ok(Command::Api {
        call: ApiCall::Audit {
            user: option(&found, "--user"),
            since: option(&found, "--since"),
            limit: option(&found, "--limit"),
            cursor: option(&found, "--cursor"),
        },
        json,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum IpBlockCommand {
    Add { network: IpNet, reason: String },
    Remove { network: IpNet },
    List,
    Check { ip: IpAddr },
}

pub fn parse_args(args: &[String]) -> Result<Command, AdminError> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["help" | "--help" | "-h", ..] | ["ip-block", "help" | "--help" | "-h"] => {
            Ok(Command::Help)
        }
        ["ip-block", rest @ ..] => parse_ip_block(rest).map(Command::IpBlock),
        ["users", rest @ ..] => parse_users(rest),
        ["audit", rest @ ..] => parse_audit(rest),
        [] => Err(usage("no command given")),
        [other, ..] => Err(usage(format!("unknown command: {other:?}"))),
    }
}

fn parse_ip_block(args: &[&str]) -> Result<IpBlockCommand, AdminError> {
    match args {
        ["add", rest @ ..] => parse_add(rest),
        ["remove", network] => Ok(IpBlockCommand::Remove {
            network: network_arg(network)?,
        }),
        ["list"] => Ok(IpBlockCommand::List),
        ["check", ip] => Ok(IpBlockCommand::Check {
            ip: address_arg(ip)?,
        }),
        ["remove" | "check", ..] => Err(usage(format!(
            "ip-block {} takes exactly one address",
            args[0]
        ))),
        ["list", ..] => Err(usage("ip-block list takes no arguments")),
        [] => Err(usage("ip-block needs a subcommand")),
        [other, ..] => Err(usage(format!("unknown ip-block subcommand: {other:?}"))),
    }
}

/// `<ip-or-cidr> --reason TEXT`, in either order, also as `--reason=TEXT`.
fn parse_add(args: &[&str]) -> Result<IpBlockCommand, AdminError> {
    let mut network = None;
    let mut reason = None;
    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg, None),
        };
        let slot = match name {
            "--reason" => &mut reason,
            option if option.starts_with("--") => {
                return Err(usage(format!("unknown option for ip-block add: {option}")))
            }
            _ if network.is_none() => {
                network = Some(arg);
                continue;
            }
            _ => return Err(usage(format!("unexpected argument: {arg:?}"))),
        };
        if slot.is_some() {
            return Err(usage(format!("{name} given twice")));
        }
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .copied()
                .ok_or_else(|| usage(format!("{name} needs a value")))?,
        };
        *slot = Some(value);
    }
    let network = network.ok_or_else(|| usage("ip-block add needs an address or range"))?;
    let reason = reason.ok_or_else(|| usage("ip-block add needs --reason"))?;
    Ok(IpBlockCommand::Add {
        network: network_arg(network)?,
        reason: IpBlock::parse_reason(reason).map_err(|e| invalid("--reason", reason, &e))?,
    })
}

fn network_arg(raw: &str) -> Result<IpNet, AdminError> {
    IpBlock::parse_network(raw).map_err(|error| invalid("address or range", raw, &error))
}

/// One address, strictly parsed (no leading zeros, no ranges).
fn address_arg(raw: &str) -> Result<IpAddr, AdminError> {
    raw.trim().parse().map_err(|_| {
        AdminError::Input(format!(
            "invalid address {raw:?}: enter one IPv4 or IPv6 address"
        ))
    })
}

fn invalid(what: &str, raw: &str, error: &FieldError) -> AdminError {
    AdminError::Input(format!("invalid {what} {raw:?}: {}", error.message))
}

fn usage(message: impl Into<String>) -> AdminError {
    AdminError::Usage(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Command, AdminError> {
        let args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    fn ip_block(list: &[&str]) -> IpBlockCommand {
        match parse(list) {
            Ok(Command::IpBlock(command)) => command,
            other => panic!("{list:?} parsed as {other:?}"),
        }
    }

    fn add(network: &str, reason: &str) -> IpBlockCommand {
        IpBlockCommand::Add {
            network: network.parse().unwrap(),
            reason: reason.into(),
        }
    }

    #[test]
    fn add_takes_its_reason_before_or_after_the_network() {
        let expected = add("203.0.113.0/24", "card testing");
        for form in [
            &[
                "ip-block",
                "add",
                "203.0.113.7/24",
                "--reason",
                "card testing",
            ][..],
            &[
                "ip-block",
                "add",
                "--reason",
                "card testing",
                "203.0.113.7/24",
            ],
            &["ip-block", "add", "203.0.113.7/24", "--reason=card testing"],
        ] {
            assert_eq!(ip_block(form), expected, "{form:?}");
        }
        assert_eq!(
            ip_block(&["ip-block", "add", "2001:db8::1", "--reason", "spam"]),
            add("2001:db8::1/128", "spam")
        );
        // A value may itself look like an option.
        assert_eq!(
            ip_block(&["ip-block", "add", "192.0.2.1", "--reason", "--force"]),
            add("192.0.2.1/32", "--force")
        );
    }

    #[test]
    fn other_subcommands() {
        assert_eq!(ip_block(&["ip-block", "list"]), IpBlockCommand::List);
        assert_eq!(
            ip_block(&["ip-block", "remove", "::ffff:192.0.2.1"]),
            IpBlockCommand::Remove {
                network: "192.0.2.1/32".parse().unwrap()
            }
        );
        assert_eq!(
            ip_block(&["ip-block", "check", "2001:db8::9"]),
            IpBlockCommand::Check {
                ip: "2001:db8::9".parse().unwrap()
            }
        );
        for help in [&["help"][..], &["--help"], &["-h"], &["ip-block", "--help"]] {
            assert_eq!(parse(help).unwrap(), Command::Help);
        }
    }

    #[test]
    fn malformed_command_lines_are_usage_errors() {
        for bad in [
            &[][..],
            &["ip-blocks", "list"],
            &["ip-block"],
            &["ip-block", "show"],
            &["ip-block", "list", "all"],
            &["ip-block", "remove"],
            &["ip-block", "remove", "1.2.3.4", "5.6.7.8"],
            &["ip-block", "check"],
            &["ip-block", "add", "1.2.3.4"],
            &["ip-block", "add", "--reason", "spam"],
            &["ip-block", "add", "1.2.3.4", "--reason"],
            &[
                "ip-block", "add", "1.2.3.4", "--reason", "a", "--reason", "b",
            ],
            &["ip-block", "add", "1.2.3.4", "--reason", "a", "--force"],
            // The author is whoever the API authenticates, not a claim.
            &["ip-block", "add", "1.2.3.4", "--reason", "a", "--by", "ops"],
            &["ip-block", "add", "1.2.3.4", "5.6.7.8", "--reason", "a"],
        ] {
            let error = parse(bad).unwrap_err();
            assert!(matches!(error, AdminError::Usage(_)), "{bad:?}: {error:?}");
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains("usage:"), "{error}");
        }
    }

    #[test]
    fn bad_values_are_input_errors_naming_the_value() {
        let cases = [
            (
                &["ip-block", "add", "999.1.1.1", "--reason", "x"][..],
                "999.1.1.1",
            ),
            (
                &["ip-block", "add", "1.2.3.4/33", "--reason", "x"],
                "0 to 32",
            ),
            (&["ip-block", "add", "abc", "--reason", "x"], "abc"),
            (
                &["ip-block", "add", "", "--reason", "x"],
                "address or range",
            ),
            (&["ip-block", "add", "1.2.3.4", "--reason", " "], "--reason"),
            (
                &["ip-block", "add", "1.2.3.4", "--reason", "a\nb"],
                "Control",
            ),
            (&["ip-block", "remove", "1.2.3.4/x"], "1.2.3.4/x"),
            (
                &["ip-block", "check", "1.2.3.0/24"],
                "one IPv4 or IPv6 address",
            ),
            (&["ip-block", "check", "01.2.3.4"], "01.2.3.4"),
        ];
        let long_reason = "x".repeat(201);
        let long = [
            "ip-block",
            "add",
            "1.2.3.4",
            "--reason",
            long_reason.as_str(),
        ];
        for (bad, expected) in cases.into_iter().chain([(&long[..], "200")]) {
            let error = parse(bad).unwrap_err();
            assert!(matches!(error, AdminError::Input(_)), "{bad:?}: {error:?}");
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(expected), "{bad:?}: {error}");
        }
    }

    #[test]
    fn api_commands_parse_their_options() {
        assert_eq!(
            parse(&[
                "users",
                "list",
                "--status=inactive",
                "--limit",
                "5",
                "--json"
            ])
            .unwrap(),
            Command::Api {
                call: ApiCall::List {
                    status: Some("inactive".into()),
                    limit: Some("5".into()),
                    cursor: None,
                },
                json: true,
            }
        );
        assert_eq!(
            parse(&["users", "deactivate", "abc"]).unwrap(),
            Command::Api {
                call: ApiCall::Action {
                    action: "deactivate".into(),
                    id: "abc".into()
                },
                json: false,
            }
        );
        assert_eq!(
            parse(&["audit", "--user", "abc"]).unwrap(),
            Command::Api {
                call: ApiCall::Audit {
                    user: Some("abc".into()),
                    since: None,
                    limit: None,
                    cursor: None
                },
                json: false,
            }
        );
        for bad in [
            &["users"][..],
            &["users", "show"],
            &["users", "show", "a", "b"],
            &["users", "list", "--status"],
            &["users", "list", "--limit", "1", "--limit", "2"],
            &["users", "deactivate", "--status", "x", "id"],
            &["users", "frobnicate", "id"],
            &["audit", "stray"],
            &["users", "credits", "id", "--amount", "5"],
            &["users", "credits", "id", "--reason", "x"],
            &["users", "credits", "--amount", "5", "--reason", "x"],
        ] {
            assert!(matches!(parse(bad), Err(AdminError::Usage(_))), "{bad:?}");
        }
        assert_eq!(
            parse(&[
                "users",
                "credits",
                "abc",
                "--amount",
                "-5",
                "--reason=goodwill"
            ])
            .unwrap(),
            Command::Api {
                call: ApiCall::Credits {
                    id: "abc".into(),
                    amount: -5,
                    reason: "goodwill".into()
                },
                json: false,
            }
        );
        assert!(matches!(
            parse(&["users", "credits", "abc", "--amount", "1.5", "--reason", "x"]),
            Err(AdminError::Input(_))
        ));
    }
}
