//! Running `ip-block` commands through the `/admin/ip-blocks` routes:
//! results on `out` (one line each, for scripts), notes for the operator on
//! `notes`. The author of a block is whoever the API says called it (the
//! caller's ARN on AWS), so it cannot be claimed on the command line.

use std::io::Write;

use serde_json::{json, Value};
use shared::domain::ip_block::{IpBlock, IpBlockList, IpNet};
use shared::ports::ip_blocks::DEFAULT_REFRESH;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::api::{AdminApi, Answer};
use crate::args::IpBlockCommand;
use crate::AdminError;

pub async fn run(
    command: &IpBlockCommand,
    api: &AdminApi,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), AdminError> {
    match command {
        IpBlockCommand::Add { network, reason } => {
            let body = json!({ "network": network.to_string(), "reason": reason });
            let answer = succeeded(api.call("POST", "/admin/ip-blocks", Some(&body)).await?)?;
            let stored = answer.body["data"]["network"].as_str().unwrap_or_default();
            write_line(out, &format!("blocked {stored}"))?;
            note(
                notes,
                &format!(
                    "running functions apply it within their refresh interval ({} s by default)",
                    DEFAULT_REFRESH.as_secs()
                ),
            );
        }
        IpBlockCommand::Remove { network } => {
            let path = format!("/admin/ip-blocks/{}", block_id(network));
            let answer = api.call("DELETE", &path, None).await?;
            if answer.status == 404 {
                write_line(out, &format!("no entry for {network}; nothing removed"))?;
                explain_absent_entry(api, network, notes).await?;
            } else {
                succeeded(answer)?;
                write_line(out, &format!("unblocked {network}"))?;
            }
        }
        IpBlockCommand::List => {
            let blocks = list(api).await?;
            if blocks.is_empty() {
                note(notes, "the block list is empty");
            }
            for block in &blocks {
                write_line(out, &entry_line(block))?;
            }
        }
        IpBlockCommand::Check { ip } => {
            // The same matching the sign-up applies (longest prefix, an
            // IPv4-mapped address as IPv4), over the list the API holds.
            let list = IpBlockList::new(list(api).await?);
            let line = match list.contains(*ip) {
                Some(block) => format!("{ip} is blocked by {}: {}", block.network, block.reason),
                None => format!("{ip} is not blocked"),
            };
            write_line(out, &line)?;
        }
    }
    Ok(())
}

/// The path segment naming a block: its canonical network, `/` as `_`.
fn block_id(network: &IpNet) -> String {
    network.to_string().replace('/', "_")
}

fn succeeded(answer: Answer) -> Result<Answer, AdminError> {
    if (200..300).contains(&answer.status) {
        Ok(answer)
    } else {
        Err(crate::api_commands::refusal(&answer))
    }
}

async fn list(api: &AdminApi) -> Result<Vec<IpBlock>, AdminError> {
    let answer = succeeded(api.call("GET", "/admin/ip-blocks", None).await?)?;
    let blocks = answer.body["data"]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    blocks.iter().map(block_of).collect()
}

/// One entry of the API's list, parsed with the rules the service applies.
fn block_of(view: &Value) -> Result<IpBlock, AdminError> {
    let text = |name: &str| view[name].as_str().unwrap_or_default();
    let unexpected =
        |what: &str| AdminError::Http(format!("the API answered an entry with {what}"));
    let created_at = OffsetDateTime::parse(text("created_at"), &Rfc3339)
        .map_err(|_| unexpected("no valid created_at"))?;
    IpBlock::new(
        text("network"),
        text("reason"),
        view["created_by"].as_str(),
        created_at,
    )
    .map_err(|_| unexpected("an invalid network or reason"))
}

/// `network \t reason \t created_at \t created_by` (`-` when unknown).
/// Reasons and names hold no control characters, so tabs and newlines
/// cannot be forged inside a field.
pub fn entry_line(block: &IpBlock) -> String {
    let created_at = block
        .created_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| block.created_at.to_string());
    format!(
        "{}\t{}\t{}\t{}",
        block.network,
        block.reason,
        created_at,
        block.created_by.as_deref().unwrap_or("-")
    )
}

/// Removal needs the entry's exact network; when a wider entry covers the
/// one asked for, say which, so the operator is not left wondering.
async fn explain_absent_entry(
    api: &AdminApi,
    network: &IpNet,
    notes: &mut dyn Write,
) -> Result<(), AdminError> {
    let list = IpBlockList::new(list(api).await?);
    if let Some(covering) = list.contains(network.network()) {
        note(
            notes,
            &format!(
                "{} is still blocked by the entry {}",
                network.network(),
                covering.network
            ),
        );
    }
    Ok(())
}

fn write_line(out: &mut dyn Write, line: &str) -> Result<(), AdminError> {
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(AdminError::Output)
}

/// Notes are best effort: a closed stderr must not fail a finished change.
pub fn note(notes: &mut dyn Write, message: &str) {
    let _ = writeln!(notes, "admin: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_the_service_wrote_them() {
        let view = json!({
            "id": "203.0.113.0_24",
            "network": "203.0.113.0/24",
            "reason": "card testing",
            "created_at": "2025-06-01T09:30:00Z",
            "created_by": "arn:aws:sts::123456789012:assumed-role/ops/alice",
        });
        let block = block_of(&view).unwrap();
        assert_eq!(block_id(&block.network), "203.0.113.0_24");
        assert_eq!(
            entry_line(&block),
            "203.0.113.0/24\tcard testing\t2025-06-01T09:30:00Z\t\
             arn:aws:sts::123456789012:assumed-role/ops/alice"
        );
        let broken = json!({"network": "not a network", "reason": "x", "created_at": "2025-06-01T09:30:00Z"});
        assert!(matches!(block_of(&broken), Err(AdminError::Http(_))));
    }
}
