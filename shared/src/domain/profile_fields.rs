//! `PROFILE_FIELDS`: which of `username` and the profile fields a
//! deployment requires, accepts or ignores. Parsed once at cold start; a
//! bad value stops the function (see `config.rs`).

use std::fmt;

/// What a deployment does with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Sign-up fails without it (`required`).
    Required,
    /// It may be absent or null; the user shows `null` then.
    Optional,
    /// Ignored like any unknown field, and left out of the user object.
    Off,
}

impl FieldRule {
    fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "required" => Some(Self::Required),
            "optional" => Some(Self::Optional),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    pub fn collected(self) -> bool {
        self != Self::Off
    }
}

/// `username` and each profile field, by the name clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    Username,
    Rank,
    Unitname,
    Designation,
    MobileNo,
    PersonalNo,
    PhoneNo,
    FirstName,
    LastName,
    BirthDate,
}

impl ProfileField {
    pub const ALL: [Self; 10] = [
        Self::Username,
        Self::Rank,
        Self::Unitname,
        Self::Designation,
        Self::MobileNo,
        Self::PersonalNo,
        Self::PhoneNo,
        Self::FirstName,
        Self::LastName,
        Self::BirthDate,
    ];

    /// The field's name in requests, responses and the setting.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Rank => "rank",
            Self::Unitname => "unitname",
            Self::Designation => "designation",
            Self::MobileNo => "mobileNo",
            Self::PersonalNo => "personalNo",
            Self::PhoneNo => "phoneNo",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::BirthDate => "birth_date",
        }
    }

    /// Today's sign-up: username and the six fields of the original
    /// client required, the newer fields off.
    const fn default_rule(self) -> FieldRule {
        match self {
            Self::FirstName | Self::LastName | Self::BirthDate => FieldRule::Off,
            _ => FieldRule::Required,
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The rule of every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileFields {
    rules: [FieldRule; 10],
}

impl Default for ProfileFields {
    fn default() -> Self {
        let mut rules = [FieldRule::Required; 10];
        for field in ProfileField::ALL {
            rules[field.index()] = field.default_rule();
        }
        Self { rules }
    }
}

/// Why a `PROFILE_FIELDS` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFieldsError(pub String);

impl fmt::Display for ProfileFieldsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ProfileFields {
    /// The environment variable (and template parameter) that sets it.
    pub const VARIABLE: &'static str = "PROFILE_FIELDS";

    /// `name:required|optional|off` pairs, comma-separated; a field not
    /// named keeps its default. Unknown names, unknown rules, a pair
    /// without `:` and a field named twice are refused.
    pub fn parse(spec: &str) -> Result<Self, ProfileFieldsError> {
        let mut fields = Self::default();
        let mut seen = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, rule)) = pair.split_once(':') else {
                return Err(ProfileFieldsError(format!(
                    "expected name:required|optional|off, got {pair:?}"
                )));
            };
            let name = name.trim();
            let field = ProfileField::ALL
                .into_iter()
                .find(|f| f.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    let known: Vec<&str> = ProfileField::ALL.iter().map(|f| f.name()).collect();
                    ProfileFieldsError(format!(
                        "unknown field {name:?} (known: {})",
                        known.join(", ")
                    ))
                })?;
            let rule = FieldRule::parse(rule).ok_or_else(|| {
                ProfileFieldsError(format!(
                    "{}: expected required, optional or off, got {:?}",
                    field.name(),
                    rule.trim()
                ))
            })?;
            if seen.contains(&field) {
                return Err(ProfileFieldsError(format!(
                    "{} is named twice",
                    field.name()
                )));
            }
            seen.push(field);
            fields.rules[field.index()] = rule;
        }
        Ok(fields)
    }

    pub fn rule(&self, field: ProfileField) -> FieldRule {
        self.rules[field.index()]
    }

    pub fn collects(&self, field: ProfileField) -> bool {
        self.rule(field).collected()
    }

    /// Accounts without a username: they sign in by email.
    pub fn email_only(&self) -> bool {
        !self.collects(ProfileField::Username)
    }

    /// Sets one rule (tests and examples).
    pub fn with(mut self, field: ProfileField, rule: FieldRule) -> Self {
        self.rules[field.index()] = rule;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_todays_sign_up() {
        let fields = ProfileFields::default();
        assert_eq!(ProfileFields::parse("").unwrap(), fields);
        for field in ProfileField::ALL {
            let expected = match field {
                ProfileField::FirstName | ProfileField::LastName | ProfileField::BirthDate => {
                    FieldRule::Off
                }
                _ => FieldRule::Required,
            };
            assert_eq!(fields.rule(field), expected, "{}", field.name());
        }
    }

    #[test]
    fn pairs_override_their_field_only() {
        let fields =
            ProfileFields::parse(" username:off, first_name:required ,mobileno:Optional,").unwrap();
        assert_eq!(fields.rule(ProfileField::Username), FieldRule::Off);
        assert_eq!(fields.rule(ProfileField::FirstName), FieldRule::Required);
        assert_eq!(fields.rule(ProfileField::MobileNo), FieldRule::Optional);
        assert_eq!(fields.rule(ProfileField::Rank), FieldRule::Required);
        assert!(fields.email_only());
    }

    #[test]
    fn bad_values_are_named() {
        for (spec, needle) in [
            ("nickname:off", "unknown field \"nickname\""),
            ("rank:maybe", "rank: expected required, optional or off"),
            ("rank", "expected name:required|optional|off"),
            ("rank:off,rank:required", "rank is named twice"),
        ] {
            let error = ProfileFields::parse(spec).unwrap_err();
            assert!(error.0.contains(needle), "{spec}: {error}");
        }
    }
}
