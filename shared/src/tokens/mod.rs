//! Access tokens (JWT, EdDSA), signing key sets and refresh-token crypto.
