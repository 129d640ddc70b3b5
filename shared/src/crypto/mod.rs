pub mod digest;
pub(crate) mod key_file;
pub mod password_hasher;
pub mod phone_crypto;

pub use password_hasher::{Argon2Settings, PasswordHasher};
