//! The DynamoDB single-table adapter.

pub mod errors;
pub mod items;
pub mod keys;
mod store;
pub mod table;

pub use store::DynamoStore;
