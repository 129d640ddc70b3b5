use async_trait::async_trait;
use ipnet::IpNet;

use super::MemoryStore;
use crate::domain::ip_block::{canonical_network, IpBlock};
use crate::ports::ip_blocks::IpBlockStore;
use crate::ports::StoreError;

#[async_trait]
impl IpBlockStore for MemoryStore {
    async fn list(&self) -> Result<Vec<IpBlock>, StoreError> {
        // A BTreeMap: already ordered by network.
        Ok(self.lock().ip_blocks.values().cloned().collect())
    }

    async fn add(&self, block: &IpBlock) -> Result<(), StoreError> {
        let network = canonical_network(block.network);
        let stored = IpBlock {
            network,
            ..block.clone()
        };
        self.lock().ip_blocks.insert(network, stored);
        Ok(())
    }

    async fn remove(&self, network: &IpNet) -> Result<bool, StoreError> {
        let network = canonical_network(*network);
        Ok(self.lock().ip_blocks.remove(&network).is_some())
    }
}
