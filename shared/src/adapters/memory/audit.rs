use async_trait::async_trait;
use time::Date;

use super::MemoryStore;
use crate::domain::AuditRecord;
use crate::ports::{AuditLog, StoreError};

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.lock().audit.push(record.clone());
        Ok(())
    }

    async fn list_day(&self, day: Date) -> Result<Vec<AuditRecord>, StoreError> {
        let mut records: Vec<AuditRecord> = self
            .lock()
            .audit
            .iter()
            .filter(|r| r.at.to_offset(time::UtcOffset::UTC).date() == day)
            .cloned()
            .collect();
        records.sort_by_key(|r| (r.at, r.id));
        Ok(records)
    }
}
