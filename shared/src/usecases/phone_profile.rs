//! `PATCH /users/me` for a phone account: its name and location, which the
//! sign-up may have left incomplete (`needs_profile`).

use serde_json::{Map, Value};

use super::account::AccountError;
use super::Origin;
use crate::domain::errors::FieldErrors;
use crate::domain::form::Form;
use crate::domain::phone_user::{
    CITY_VILLAGE_MAX_CHARS, DISTRICT_MAX_CHARS, NAME_MAX_CHARS, STATE_MAX_CHARS,
};
use crate::domain::{AuditAction, AuditOutcome, Location, LocationId, PhoneUser, ProfileText};
use crate::ports::phone_users::{PhoneUserStore, UpdatePhoneUserError};
use crate::ports::{Clock, StoreError};

const STALE_ATTEMPTS: usize = 3;

pub struct PhoneProfile<'a> {
    pub phone_users: &'a dyn PhoneUserStore,
    pub clock: &'a dyn Clock,
}

/// What a phone account's profile change asks for: `None` leaves a field,
/// `Some(None)` (JSON `null` or `""`) clears a location field.
struct Patch {
    name: Option<ProfileText>,
    location: Vec<(&'static str, Option<ProfileText>)>,
}

fn parse_patch(fields: &Map<String, Value>) -> Result<Patch, FieldErrors> {
    let form = Form::new(fields);
    let mut errors = FieldErrors::new();
    let name = match fields.get("name") {
        None => None,
        Some(_) => errors.collect(
            "name",
            form.required_text("name")
                .and_then(|text| ProfileText::parse(text, NAME_MAX_CHARS)),
        ),
    };
    let mut location = Vec::new();
    for (field, max) in [
        ("state", STATE_MAX_CHARS),
        ("district", DISTRICT_MAX_CHARS),
        ("city_village", CITY_VILLAGE_MAX_CHARS),
    ] {
        match fields.get(field) {
            None => {}
            Some(Value::Null) => location.push((field, None)),
            Some(Value::String(text)) if text.trim().is_empty() => location.push((field, None)),
            Some(_) => {
                if let Some(value) = errors.collect(
                    field,
                    form.required_text(field)
                        .and_then(|text| ProfileText::parse(text, max)),
                ) {
                    location.push((field, Some(value)));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Patch { name, location })
    } else {
        Err(errors)
    }
}

impl PhoneProfile<'_> {
    /// Applies the change; the account and its location are written in
    /// one transaction, only if the account is still what was read.
    #[tracing::instrument(name = "update_phone_profile", skip_all)]
    pub async fn update(
        &self,
        user: &PhoneUser,
        fields: &Map<String, Value>,
        origin: &Origin,
    ) -> Result<(PhoneUser, Option<Location>), AccountError> {
        let patch = parse_patch(fields).map_err(AccountError::Rejected)?;
        let mut current = user.clone();
        for _ in 0..STALE_ATTEMPTS {
            let stored = match current.location_id {
                Some(id) => self.phone_users.location(current.id, id).await?,
                None => None,
            };
            let now = self.clock.now();
            let mut location = stored.clone();
            if !patch.location.is_empty() {
                let mut next = stored.clone().unwrap_or_else(|| Location {
                    id: LocationId::new_random(),
                    user_id: current.id,
                    state: None,
                    district: None,
                    city_village: None,
                    created_at: now,
                });
                for (field, value) in &patch.location {
                    let slot = match *field {
                        "state" => &mut next.state,
                        "district" => &mut next.district,
                        _ => &mut next.city_village,
                    };
                    *slot = value.clone();
                }
                location = Some(next);
            }
            let mut updated = current.clone();
            if let Some(name) = &patch.name {
                updated.name = name.clone();
            }
            updated.location_id = location.as_ref().map(|l| l.id);
            updated.needs_profile = !location.as_ref().is_some_and(Location::is_complete);
            if updated == current && location == stored {
                return Ok((current, stored));
            }
            updated.updated_at = now;
            let mut audit = origin.audit(AuditAction::ProfileUpdate, AuditOutcome::Success, now);
            audit.user_id = Some(current.id);
            let changed_location = (location != stored).then_some(location.as_ref()).flatten();
            match self
                .phone_users
                .update_phone_user(&current, &updated, changed_location, &audit)
                .await
            {
                Ok(()) => return Ok((updated, location)),
                Err(UpdatePhoneUserError::Stale) => {
                    current = self
                        .phone_users
                        .get_phone_user(user.id)
                        .await?
                        .ok_or(AccountError::Gone)?;
                }
                Err(UpdatePhoneUserError::Store(error)) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("the account kept changing".into()).into())
    }
}
