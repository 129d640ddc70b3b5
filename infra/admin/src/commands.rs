//! Running `ip-block` commands against a block-list store: results on
//! `out` (one line each, for scripts), notes for the operator on `notes`.

use std::io::Write;
use std::sync::Arc;

use shared::domain::ip_block::{IpBlock, IpBlockList, IpNet};
use shared::ports::ip_blocks::{BlockListCache, IpBlockStore, DEFAULT_REFRESH};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::args::IpBlockCommand;
use crate::AdminError;

pub async fn run(
    command: &IpBlockCommand,
    store: Arc<dyn IpBlockStore>,
    out: &mut dyn Write,
    notes: &mut dyn Write,
    now: OffsetDateTime,
) -> Result<(), AdminError> {
    match command {
        IpBlockCommand::Add {
            network,
            reason,
            created_by,
        } => {
            let block = IpBlock {
                network: *network,
                reason: reason.clone(),
                created_at: now,
                created_by: created_by.clone(),
            };
            store.add(&block).await.map_err(AdminError::Store)?;
            write_line(out, &format!("blocked {network}"))?;
            note(
                notes,
                &format!(
                    "running functions apply it within their refresh interval ({} s by default)",
                    DEFAULT_REFRESH.as_secs()
                ),
            );
        }
        IpBlockCommand::Remove { network } => {
            if store.remove(network).await.map_err(AdminError::Store)? {
                write_line(out, &format!("unblocked {network}"))?;
            } else {
                write_line(out, &format!("no entry for {network}; nothing removed"))?;
                explain_absent_entry(&*store, network, notes).await?;
            }
        }
        IpBlockCommand::List => {
            let blocks = store.list().await.map_err(AdminError::Store)?;
            if blocks.is_empty() {
                note(notes, "the block list is empty");
            }
            for block in &blocks {
                write_line(out, &entry_line(block))?;
            }
        }
        IpBlockCommand::Check { ip } => {
            // The same lookup the sign-up makes, through the same cache.
            let cache = BlockListCache::new(store, DEFAULT_REFRESH);
            let line = match cache.check(Some(*ip)).await.map_err(AdminError::Store)? {
                Some(block) => format!("{ip} is blocked by {}: {}", block.network, block.reason),
                None => format!("{ip} is not blocked"),
            };
            write_line(out, &line)?;
        }
    }
    Ok(())
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
    store: &dyn IpBlockStore,
    network: &IpNet,
    notes: &mut dyn Write,
) -> Result<(), AdminError> {
    let list = IpBlockList::new(store.list().await.map_err(AdminError::Store)?);
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
    use async_trait::async_trait;
    use shared::adapters::memory::MemoryStore;
    use shared::ports::StoreError;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-06-01 09:30:00 UTC);

    /// (stdout, stderr) of a successful run.
    async fn run_ok(command: IpBlockCommand, store: &Arc<MemoryStore>) -> (String, String) {
        let (mut out, mut notes) = (Vec::new(), Vec::new());
        run(&command, store.clone(), &mut out, &mut notes, NOW)
            .await
            .unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(notes).unwrap(),
        )
    }

    fn add(network: &str, reason: &str, created_by: Option<&str>) -> IpBlockCommand {
        IpBlockCommand::Add {
            network: IpBlock::parse_network(network).unwrap(),
            reason: reason.into(),
            created_by: created_by.map(Into::into),
        }
    }

    fn net(raw: &str) -> IpNet {
        IpBlock::parse_network(raw).unwrap()
    }

    fn check(ip: &str) -> IpBlockCommand {
        IpBlockCommand::Check {
            ip: ip.parse().unwrap(),
        }
    }

    #[tokio::test]
    async fn add_list_check_and_remove() {
        let store = Arc::new(MemoryStore::new());
        let (out, notes) = run_ok(IpBlockCommand::List, &store).await;
        assert_eq!(out, "");
        assert!(notes.contains("empty"), "{notes}");

        let (out, notes) = run_ok(add("203.0.113.7/24", "card testing", Some("ops")), &store).await;
        assert_eq!(out, "blocked 203.0.113.0/24\n");
        assert!(notes.contains("60 s"), "{notes}");
        run_ok(add("2001:db8::1", "spam", None), &store).await;

        let (out, _) = run_ok(IpBlockCommand::List, &store).await;
        assert_eq!(
            out,
            "203.0.113.0/24\tcard testing\t2025-06-01T09:30:00Z\tops\n\
             2001:db8::1/128\tspam\t2025-06-01T09:30:00Z\t-\n"
        );

        let (out, _) = run_ok(check("203.0.113.200"), &store).await;
        assert_eq!(
            out,
            "203.0.113.200 is blocked by 203.0.113.0/24: card testing\n"
        );
        let (out, _) = run_ok(check("::ffff:203.0.113.1"), &store).await;
        assert!(out.contains("blocked by 203.0.113.0/24"), "{out}");
        let (out, _) = run_ok(check("2001:db8::2"), &store).await;
        assert_eq!(out, "2001:db8::2 is not blocked\n");

        let remove = IpBlockCommand::Remove {
            network: net("203.0.113.0/24"),
        };
        let (out, _) = run_ok(remove, &store).await;
        assert_eq!(out, "unblocked 203.0.113.0/24\n");
        let (out, _) = run_ok(check("203.0.113.200"), &store).await;
        assert_eq!(out, "203.0.113.200 is not blocked\n");
    }

    #[tokio::test]
    async fn adding_again_replaces_the_reason() {
        let store = Arc::new(MemoryStore::new());
        run_ok(add("192.0.2.1", "first", None), &store).await;
        run_ok(add("192.0.2.1/32", "second", Some("ops")), &store).await;
        let (out, _) = run_ok(IpBlockCommand::List, &store).await;
        assert_eq!(out, "192.0.2.1/32\tsecond\t2025-06-01T09:30:00Z\tops\n");
    }

    #[tokio::test]
    async fn removing_an_absent_entry_says_so_and_names_a_covering_one() {
        let store = Arc::new(MemoryStore::new());
        run_ok(add("10.0.0.0/8", "internal", None), &store).await;
        let remove = IpBlockCommand::Remove {
            network: net("10.1.2.3"),
        };
        let (out, notes) = run_ok(remove, &store).await;
        assert_eq!(out, "no entry for 10.1.2.3/32; nothing removed\n");
        assert!(
            notes.contains("still blocked by the entry 10.0.0.0/8"),
            "{notes}"
        );

        let remove = IpBlockCommand::Remove {
            network: net("192.0.2.1"),
        };
        let (out, notes) = run_ok(remove, &store).await;
        assert!(out.starts_with("no entry for 192.0.2.1/32"), "{out}");
        assert_eq!(notes, "");
        assert_eq!(
            run_ok(IpBlockCommand::List, &store).await.0.lines().count(),
            1
        );
    }

    #[tokio::test]
    async fn store_failures_are_errors_with_exit_code_1() {
        let store: Arc<dyn IpBlockStore> = Arc::new(FailingStore);
        for command in [
            add("192.0.2.1", "x", None),
            IpBlockCommand::Remove {
                network: net("192.0.2.1"),
            },
            IpBlockCommand::List,
            check("192.0.2.1"),
        ] {
            let mut out = Vec::new();
            let error = run(&command, store.clone(), &mut out, &mut Vec::new(), NOW)
                .await
                .unwrap_err();
            assert!(matches!(error, AdminError::Store(_)), "{error:?}");
            assert_eq!(error.exit_code(), 1);
            assert!(error.to_string().contains("throttled"), "{error}");
            assert!(out.is_empty(), "{command:?} printed a result");
        }
    }

    /// A store that is down.
    struct FailingStore;

    fn down() -> StoreError {
        StoreError::Unavailable("throttled".into())
    }

    #[async_trait]
    impl IpBlockStore for FailingStore {
        async fn list(&self) -> Result<Vec<IpBlock>, StoreError> {
            Err(down())
        }

        async fn add(&self, _: &IpBlock) -> Result<(), StoreError> {
            Err(down())
        }

        async fn remove(&self, _: &IpNet) -> Result<bool, StoreError> {
            Err(down())
        }
    }
}
