//! The DynamoDB single-table adapter.

mod accounts;
pub mod errors;
mod ip_blocks;
pub mod items;
pub mod keys;
mod one_time;
pub mod phone_items;
mod phone_users;
pub mod session_items;
mod sessions;
mod store;
pub mod table;
mod tasks;
mod transact;

pub use store::DynamoStore;
