//! The strength rules Django's default validators apply, beyond length:
//! not entirely numeric, not common, not too similar to the user's own
//! attributes.

use zxcvbn::Score;

use super::errors::{ErrorCode, FieldError};
use super::password::Password;

/// Django's `UserAttributeSimilarityValidator` default.
const MAX_SIMILARITY: f64 = 0.7;

/// An attribute of the user the password must not resemble, named as the
/// client knows it (used in the message).
pub struct UserAttribute<'a> {
    pub label: &'a str,
    pub value: &'a str,
}

/// Every strength failure of `password`, in Django's order.
pub fn check_strength(password: &Password, attributes: &[UserAttribute<'_>]) -> Vec<FieldError> {
    let raw = password.expose();
    let mut errors = Vec::new();
    if let Some(label) = too_similar(raw, attributes) {
        errors.push(FieldError::new(
            ErrorCode::PasswordTooSimilar,
            format!("The password is too similar to the {label}."),
        ));
    }
    if is_common(raw) {
        errors.push(FieldError::new(
            ErrorCode::PasswordTooCommon,
            "This password is too common.",
        ));
    }
    if raw.chars().all(char::is_numeric) {
        errors.push(FieldError::new(
            ErrorCode::PasswordEntirelyNumeric,
            "This password is entirely numeric.",
        ));
    }
    errors
}

/// Common: zxcvbn estimates it falls within a million guesses (its
/// scores 0 and 1). That covers every entry of its 30,000-entry leaked
/// password list, whole or with capitals (Django checks a 20,000-entry list
/// of the same kind), plus dictionary words, names, dates, repeats,
/// sequences and keyboard walks.
fn is_common(password: &str) -> bool {
    zxcvbn::zxcvbn(password, &[]).score() < Score::Two
}

/// Django's similarity rule: the password against each attribute and each
/// of its word-separated parts, by `difflib.SequenceMatcher.quick_ratio`.
/// Returns the label of the first attribute it is too similar to.
fn too_similar<'a>(password: &str, attributes: &[UserAttribute<'a>]) -> Option<&'a str> {
    let password = password.to_lowercase();
    for attribute in attributes {
        let value = attribute.value.to_lowercase();
        if value.is_empty() {
            continue;
        }
        let parts = value
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|part| !part.is_empty())
            .chain(std::iter::once(value.as_str()));
        for part in parts {
            if exceeds_maximum_length_ratio(&password, part) {
                continue;
            }
            if quick_ratio(&password, part) >= MAX_SIMILARITY {
                return Some(attribute.label);
            }
        }
    }
    None
}

/// Django skips a comparison when the password is much longer than the
/// attribute part, since the ratio cannot reach the threshold.
fn exceeds_maximum_length_ratio(password: &str, part: &str) -> bool {
    let password_len = password.chars().count() as f64;
    let part_len = part.chars().count() as f64;
    let length_bound_similarity = MAX_SIMILARITY / 2.0 * password_len;
    password_len >= 10.0 * part_len && part_len < length_bound_similarity
}

/// `difflib.SequenceMatcher(a, b).quick_ratio()`: twice the size of the
/// multiset intersection of characters over the total length. Written here
/// because no maintained crate exposes difflib's quick ratio and Django
/// parity depends on this exact measure.
fn quick_ratio(a: &str, b: &str) -> f64 {
    use std::collections::HashMap;
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in b.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a.chars() {
        if let Some(n) = counts.get_mut(&c) {
            if *n > 0 {
                *n -= 1;
                matches += 1;
            }
        }
    }
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(password: &str, attributes: &[UserAttribute<'_>]) -> Vec<ErrorCode> {
        let password = Password::parse(password).unwrap();
        check_strength(&password, attributes)
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    #[test]
    fn strong_password_passes() {
        assert!(codes("correct-Horse-battery-staple-42", &[]).is_empty());
        assert!(codes("Xk9#mP2$vL7q", &[]).is_empty());
    }

    #[test]
    fn common_passwords() {
        for common in [
            "password",
            "Password",
            "PASSWORD",
            "12345678",
            "iloveyou",
            "qwertyuiop",
            "baseball",
            "sunshine",
            "football1",
            "aaaaaaaa",
            "abcdefgh",
        ] {
            assert!(
                codes(common, &[]).contains(&ErrorCode::PasswordTooCommon),
                "{common}"
            );
        }
    }

    #[test]
    fn entirely_numeric() {
        assert!(codes("73829104657", &[]).contains(&ErrorCode::PasswordEntirelyNumeric));
        assert!(!codes("7382910465a", &[]).contains(&ErrorCode::PasswordEntirelyNumeric));
    }

    #[test]
    fn similar_to_attributes() {
        let attrs = [
            UserAttribute {
                label: "username",
                value: "johnsmith",
            },
            UserAttribute {
                label: "email",
                value: "j.smith@example.com",
            },
        ];
        assert!(codes("johnsmith1", &attrs).contains(&ErrorCode::PasswordTooSimilar));
        assert!(codes("Smith.J#example", &attrs).contains(&ErrorCode::PasswordTooSimilar));
        assert!(
            codes("hTims.J#x9elpmaxe", &attrs).contains(&ErrorCode::PasswordTooSimilar),
            "same letters, any order"
        );
        assert!(codes("Xk9#mP2$vL7q", &attrs).is_empty());
    }

    #[test]
    fn quick_ratio_matches_difflib() {
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert!((quick_ratio("abcd", "bcde") - 0.75).abs() < 1e-9);
        assert!((quick_ratio("abc", "abc") - 1.0).abs() < 1e-9);
        assert_eq!(quick_ratio("abc", "xyz"), 0.0);
    }
}
