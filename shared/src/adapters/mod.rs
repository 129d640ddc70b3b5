//! Adapters: DynamoDB (the only code that knows keys and attribute names)
//! and in-memory twins with the same semantics.

pub mod bucket_signer;
pub mod dynamo;
pub mod email;
pub mod local_checkout;
pub mod memory;
pub mod memory_secrets;
pub mod objects;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "secretsmanager")]
pub mod secretsmanager;
#[cfg(feature = "sns")]
pub mod sms;
#[cfg(feature = "sqs")]
pub mod sqs;
#[cfg(feature = "stripe")]
pub mod stripe_api;
