//! The DynamoDB single-table adapter: one file per entity (its item type,
//! key, attribute names and port implementation), plus the transactions
//! (`transact`) and reads (`queries`) they share.

mod account_data;
mod accounts;
mod audit;
mod avatars;
mod billing;
mod credits;
mod deliveries;
mod directory;
pub mod errors;
mod ip_blocks;
pub mod items;
pub mod keys;
mod listing_backfill;
mod login_counts;
mod one_time;
mod outbox;
mod phone_codes;
pub mod phone_items;
mod phone_users;
mod pre_registrations;
mod preferences;
mod push_tokens;
mod queries;
mod rate_windows;
mod revocation;
pub mod session_items;
mod sessions;
mod store;
pub mod table;
mod tasks;
mod transact;
mod unverified;

pub use store::DynamoStore;
