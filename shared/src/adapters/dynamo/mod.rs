//! The DynamoDB single-table adapter.

mod account_data;
mod accounts;
mod avatars;
mod billing;
mod credits;
mod directory;
pub mod errors;
mod ip_blocks;
pub mod items;
pub mod keys;
mod listing_backfill;
mod login_counts;
mod one_time;
mod phone_codes;
pub mod phone_items;
mod phone_users;
pub mod session_items;
mod sessions;
mod settings;
mod store;
pub mod table;
mod tasks;
mod transact;

pub use store::DynamoStore;
