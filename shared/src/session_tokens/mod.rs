//! Access tokens (JWT, ES256 or EdDSA), signing key sets and refresh-token
//! crypto.
//!
//! - `signing_key`: one key of either algorithm, its JWK.
//! - `keyset`: the keys of the signing secret, their lifecycle, JSON and JWKS.
//! - `jwt`: issuing and verifying access tokens against a key set.
//! - `keyring`: a function's cached key set, reloaded after rotations.
//! - `refresh`: opaque refresh tokens, their hashes and sealed successors.

pub mod jwt;
pub mod keyring;
pub mod keyset;
pub mod refresh;
pub mod signing_key;

pub use jwt::{issue, verify, AccessClaims, IssuedAccessToken, SessionTokenSettings, TokenError};
pub use keyring::{verify_access_token, KeyRing, KeyRingError, VerifyError};
pub use keyset::{KeySet, KeySetError, KeyState, LifecycleError};
pub use signing_key::{KeyAlgorithm, SigningKey};
// Tokens and key sets come back in these types; re-exported so callers can
// read them without depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

pub use refresh::{
    constant_time_eq, open_successor, seal_successor, RefreshToken, RefreshTokenError,
};
