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
//! `ip-block` works on the table directly, as it did before the API
//! (the same operations are also routes: `/admin/ip-blocks`): the IP
//! block list that the phone sign-up (`POST /auth/phone/signup`) checks
//! each request's source address against (403 `ip_blocked`).
//!
//! It reads the same configuration as the functions
//! (`shared::config::Config::from_env`), so it works on any table the AWS
//! credentials in the environment may write:
//!
//! ```sh
//! export STORAGE=dynamodb TABLE_NAME=users-service      # plus AWS credentials, AWS_REGION
//! # Against a local endpoint, e.g. DynamoDB Local: AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000
//!
//! cargo run -q -p admin -- ip-block add 203.0.113.7 --reason "card testing" --by alice
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
//! With `STORAGE=memory` (the default outside Lambda) the command works on
//! a store that lives only as long as the command itself: pointless, and
//! it says so on stderr.
//!
//! Exit codes: 0 done; 2 bad arguments, input or configuration (message on
//! stderr); 1 the table could not be read or written, or the API could not
//! be reached or refused (its status and message on stderr).

pub mod api;
pub mod api_commands;
pub mod args;
mod commands;

use std::io::Write;
use std::process::ExitCode;

use shared::app::{StartupError, Stores};
use shared::config::{Config, StorageKind};
use shared::ports::StoreError;
use shared::telemetry::error_chain;
use time::OffsetDateTime;

use args::{parse_args, Command, USAGE};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}\n{USAGE}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Config(String),
    #[error("the table could not be read or written: {}", error_chain(.0))]
    Store(#[source] StoreError),
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
            Self::Store(_) | Self::Output(_) | Self::Http(_) | Self::Api { .. } => 1,
        }
    }
}

impl From<StartupError> for AdminError {
    fn from(error: StartupError) -> Self {
        match error {
            StartupError::Table(error) => Self::Store(error),
            other => Self::Config(error_chain(&other)),
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
    let command = match parse_args(args)? {
        Command::Help => {
            println!("{USAGE}");
            return Ok(());
        }
        Command::IpBlock(command) => command,
        Command::Api { call, json } => {
            let api = api::AdminApi::from_env().await?;
            let mut out = std::io::stdout().lock();
            api_commands::run(&api, &call, json, &mut out, &mut std::io::stderr()).await?;
            return out.flush().map_err(AdminError::Output);
        }
    };
    let config = Config::from_env().map_err(|error| AdminError::Config(error.to_string()))?;
    let mut notes = std::io::stderr();
    if config.storage == StorageKind::Memory {
        commands::note(
            &mut notes,
            "warning: STORAGE is memory, so this command sees an empty list that is gone when \
             it exits; set STORAGE=dynamodb and TABLE_NAME (and AWS_ENDPOINT_URL for a local \
             endpoint) to change a real table",
        );
    }
    let stores = Stores::from_config(&config).await?;
    let mut out = std::io::stdout().lock();
    commands::run(
        &command,
        stores.ip_blocks_handle(),
        &mut out,
        &mut notes,
        OffsetDateTime::now_utc(),
    )
    .await?;
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

    #[test]
    fn store_errors_name_their_cause() {
        let error = AdminError::Store(StoreError::Unavailable("throttled".into()));
        assert_eq!(
            error.to_string(),
            "the table could not be read or written: storage is unavailable: throttled"
        );
        assert_eq!(error.exit_code(), 1);
        let startup = StartupError::Table(StoreError::internal("no such table"));
        assert_eq!(AdminError::from(startup).exit_code(), 1);
    }
}
