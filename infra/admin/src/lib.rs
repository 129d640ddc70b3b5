//! `admin`: operator commands.
//!
//! `users` and `audit` call the service's `/admin/` API (docs/API.md,
//! "admin"): at `ADMIN_API_URL`, with `Authorization: Bearer $ADMIN_TOKEN`
//! when that is set (the local server prints its token on start), else
//! SigV4-signed for `execute-api` with the AWS SDK's credential chain and
//! region (the caller needs the stack's `OperatorsPolicy`):
//!
//! ```sh
//! export ADMIN_API_URL=http://127.0.0.1:3000 ADMIN_TOKEN=…   # a local server
//! cargo run -q -p admin -- users list --status active
//! cargo run -q -p admin -- users find alice@example.com
//! cargo run -q -p admin -- users find +919876501234
//! cargo run -q -p admin -- users deactivate <user-id>
//! cargo run -q -p admin -- audit --user <user-id> --json
//! ```
//!
//! `ip-block` calls the `/admin/ip-blocks` routes the same way: the IP
//! block list that the phone sign-up (`POST /auth/phone/signup`) checks
//! each request's source address against (403 `ip_blocked`). The API
//! records the caller as each block's author.
//!
//! ```sh
//! cargo run -q -p admin -- ip-block add 203.0.113.7 --reason "card testing"
//! cargo run -q -p admin -- ip-block add 198.51.100.0/24 --reason "abuse report #42"
//! cargo run -q -p admin -- ip-block add 2001:db8:abcd::/48 --reason "botnet"
//! cargo run -q -p admin -- ip-block list         # network, reason, created_at, created_by (tabs)
//! cargo run -q -p admin -- ip-block check 198.51.100.23
//! cargo run -q -p admin -- ip-block remove 198.51.100.0/24
//! ```
//!
//! Entries are stored canonical: host bits are cleared (`203.0.113.7/24` is
//! stored as `203.0.113.0/24`), a plain address is a `/32` or `/128`, and an
//! IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is stored as the IPv4
//! address. `remove` takes an entry's network, not an address inside it.
//! Adding an existing network replaces its reason, time and author.
//! Functions read the list through `BlockListCache`, at most once per
//! refresh interval (60 s by default) per instance, so a change reaches
//! every warm instance within that interval.
//!
//! Exit codes: 0 done; 2 bad arguments, input or configuration (message on
//! stderr); 1 the API could not be reached or refused (its status and
//! message on stderr).

pub mod api;
pub mod api_commands;
pub mod args;
pub mod commands;

use std::io::Write;
use std::process::ExitCode;

use args::{parse_args, Command, USAGE};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}\n{USAGE}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Config(String),
    #[error("writing the output failed: {0}")]
    Output(#[source] std::io::Error),
    /// The API could not be reached.
    #[error("the API could not be reached: {0}")]
    Http(String),
    /// The API refused (4xx) or failed (5xx).
    #[error("the API answered {status}: {message}")]
    Api { status: u16, message: String },
}

impl AdminError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Input(_) | Self::Config(_) => 2,
            Self::Output(_) | Self::Http(_) | Self::Api { .. } => 1,
        }
    }
}

/// The command line `args` (without the program name), run; the exit code.
pub async fn main_with(args: &[String]) -> ExitCode {
    match execute(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("admin: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn execute(args: &[String]) -> Result<(), AdminError> {
    // Arguments first: a typo needs no configuration or network.
    let command = parse_args(args)?;
    if command == Command::Help {
        println!("{USAGE}");
        return Ok(());
    }
    let api = api::AdminApi::from_env().await?;
    let mut out = std::io::stdout().lock();
    let mut notes = std::io::stderr();
    match command {
        Command::Help => {}
        Command::IpBlock(command) => commands::run(&command, &api, &mut out, &mut notes).await?,
        Command::Api { call, json } => {
            api_commands::run(&api, &call, json, &mut out, &mut notes).await?
        }
    }
    out.flush().map_err(AdminError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn usage_errors_need_no_configuration() {
        let error = execute(&["ip-block".to_owned(), "frobnicate".to_owned()])
            .await
            .unwrap_err();
        assert!(matches!(error, AdminError::Usage(_)), "{error:?}");
        assert_eq!(error.exit_code(), 2);
        assert!(execute(&["help".to_owned()]).await.is_ok());
    }
}
