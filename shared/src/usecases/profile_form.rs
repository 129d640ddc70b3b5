//! `username` and the profile fields, read under the deployment's
//! `PROFILE_FIELDS` for sign-up (every collected field), `PATCH /users/me`
//! (the fields sent) and `PUT /users/me` (the whole profile: an optional
//! field left out is cleared, a required one must be there).

use time::Date;

use super::signup_form::{RANK_MAX_CHARS, UNIT_MAX_CHARS};
use crate::domain::errors::{FieldError, FieldErrors};
use crate::domain::form::Form;
use crate::domain::{
    BirthDate, ContactNumber, FieldRule, Profile, ProfileField, ProfileFields, ProfileText,
    Username,
};

/// ≤ 150 characters each, per docs/API.md.
pub const NAME_MAX_CHARS: usize = 150;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sign-up: every collected field is read.
    Create,
    /// `PATCH`: only the fields the body names.
    Merge,
    /// `PUT`: every collected field; a missing optional one is cleared.
    Replace,
}

pub struct ProfileReader<'f, 'r> {
    pub form: &'r Form<'f>,
    pub rules: &'r ProfileFields,
    pub mode: Mode,
    /// For `birth_date`, which must be in the past.
    pub today: Date,
}

impl ProfileReader<'_, '_> {
    /// Reads one field into `slot` (left as it is where the field is off,
    /// or left out of a `PATCH`); failures go to `errors` under its name.
    fn read<T>(
        &self,
        field: ProfileField,
        slot: &mut Option<T>,
        errors: &mut FieldErrors,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) {
        let name = field.name();
        let raw = match self.rules.rule(field) {
            FieldRule::Off => return,
            _ if self.mode == Mode::Merge && !self.form.has(name) => return,
            FieldRule::Required => errors.collect(name, self.form.required_text(name).map(Some)),
            FieldRule::Optional => errors.collect(name, self.form.optional_text(name)),
        };
        match raw {
            None => {}
            Some(None) => *slot = None,
            Some(Some(text)) => {
                if let Some(value) = errors.collect(name, parse(text)) {
                    *slot = Some(value);
                }
            }
        }
    }

    pub fn username(&self, slot: &mut Option<Username>, errors: &mut FieldErrors) {
        self.read(ProfileField::Username, slot, errors, Username::parse);
    }

    /// The profile fields, in the order the sign-up form lists them.
    pub fn profile(&self, profile: &mut Profile, errors: &mut FieldErrors) {
        let text = |max: usize| move |raw: &str| ProfileText::parse(raw, max);
        self.read(
            ProfileField::Rank,
            &mut profile.rank,
            errors,
            text(RANK_MAX_CHARS),
        );
        self.read(
            ProfileField::Unitname,
            &mut profile.unitname,
            errors,
            text(UNIT_MAX_CHARS),
        );
        self.read(
            ProfileField::Designation,
            &mut profile.designation,
            errors,
            text(UNIT_MAX_CHARS),
        );
        for (field, slot) in [
            (ProfileField::MobileNo, &mut profile.mobile_no),
            (ProfileField::PersonalNo, &mut profile.personal_no),
            (ProfileField::PhoneNo, &mut profile.phone_no),
        ] {
            self.read(field, slot, errors, ContactNumber::parse);
        }
        self.read(
            ProfileField::FirstName,
            &mut profile.first_name,
            errors,
            text(NAME_MAX_CHARS),
        );
        self.read(
            ProfileField::LastName,
            &mut profile.last_name,
            errors,
            text(NAME_MAX_CHARS),
        );
        let today = self.today;
        self.read(
            ProfileField::BirthDate,
            &mut profile.birth_date,
            errors,
            |raw| BirthDate::parse(raw, today),
        );
    }
}
