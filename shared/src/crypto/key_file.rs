//! What the two key secrets (signing keys, phone keys) share in their JSON
//! form: parse errors that never echo the secret, key ids, creation times,
//! and one entry per key id.

use secrecy::zeroize::Zeroize;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// The longest key id either secret accepts.
pub(crate) const MAX_KID_LEN: usize = 64;

/// Parses a key document. The error says where the JSON is wrong, never
/// what it holds: the text around the error is key material.
pub(crate) fn parse_document<D: DeserializeOwned>(json: &str) -> Result<D, String> {
    serde_json::from_str(json).map_err(|error| {
        format!(
            "{:?} error at line {} column {}",
            error.classify(),
            error.line(),
            error.column()
        )
    })
}

/// 1 to 64 characters of letters, digits, `.`, `_` and `-`.
pub(crate) fn is_valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// An RFC 3339 creation time, in UTC.
pub(crate) fn created_at(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|at| at.to_offset(UtcOffset::UTC))
}

/// Parses every entry in order, refusing a key id seen before.
pub(crate) fn parse_unique<Entry, Key, Error>(
    entries: &[Entry],
    parse: impl Fn(usize, &Entry) -> Result<Key, Error>,
    kid: impl Fn(&Key) -> &str,
    duplicate: impl Fn(String) -> Error,
) -> Result<Vec<Key>, Error> {
    let mut keys: Vec<Key> = Vec::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        let key = parse(position, entry)?;
        if keys.iter().any(|known| kid(known) == kid(&key)) {
            return Err(duplicate(kid(&key).to_owned()));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// A key document as the secret's pretty JSON, in a buffer sized up front
/// (`capacity`) so the writer never reallocates, which would leave unwiped
/// copies of key material behind.
pub(crate) fn to_secret_json<D: serde::Serialize>(document: &D, capacity: usize) -> SecretString {
    let mut buffer = Vec::with_capacity(capacity);
    if serde_json::to_writer_pretty(&mut buffer, document).is_err() {
        // Strings and a Vec always serialize; an empty secret is the
        // harmless answer should that ever change.
        buffer.zeroize();
        return SecretString::default();
    }
    match String::from_utf8(buffer) {
        Ok(json) => SecretString::from(json),
        Err(error) => {
            error.into_bytes().zeroize();
            SecretString::default()
        }
    }
}

/// A key id: `<yyyy-mm-dd>-<hex of tag>`, the creation date and random
/// bytes (both key secrets name their keys this way).
pub(crate) fn kid(created_at: time::OffsetDateTime, tag: &[u8]) -> String {
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let date = created_at.date();
    format!(
        "{:04}-{:02}-{:02}-{hex}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
