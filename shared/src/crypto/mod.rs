pub mod password_hasher;

pub use password_hasher::{Argon2Settings, PasswordHasher};
