//! Adapters: DynamoDB (the only code that knows keys and attribute names)
//! and in-memory twins with the same semantics.

pub mod dynamo;
pub mod memory;
