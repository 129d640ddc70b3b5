//! The signed-in user's devices and sessions.

use serde::Serialize;
use time::OffsetDateTime;

use super::Origin;
use crate::domain::{AuditAction, AuditOutcome, Device, DeviceId, Session, UserId};
use crate::ports::sessions::SessionStore;
use crate::ports::{AuditLog, Clock, StoreError};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub session_id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub ip: Option<String>,
    /// The session the request itself belongs to.
    pub current: bool,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSummary {
    pub device_id: String,
    pub platform: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub ip: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub sessions: Vec<SessionSummary>,
    pub push_tokens: Vec<PushTokenSummary>,
}

/// A device's push token in the device list (the token itself is listed
/// under `/users/me/push-tokens`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushTokenSummary {
    pub id: String,
    pub platform: crate::domain::push_token::Platform,
    pub active: bool,
    pub last_used_at: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    pub items: Vec<DeviceSummary>,
    /// Live sessions started without a device id.
    pub other_sessions: Vec<SessionSummary>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn summary(session: &Session, current: crate::domain::SessionId) -> SessionSummary {
    SessionSummary {
        session_id: session.id.to_string(),
        created_at: rfc3339(session.created_at),
        last_used_at: rfc3339(session.last_used_at),
        ip: session.ip.clone(),
        current: session.id == current,
    }
}

pub struct Devices<'a> {
    pub sessions: &'a dyn SessionStore,
    pub push_tokens: &'a dyn crate::ports::notification_profile::PushTokenStore,
    pub audit: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
}

impl Devices<'_> {
    /// Devices with their live sessions and push tokens (two queries).
    pub async fn list(
        &self,
        user_id: UserId,
        current: crate::domain::SessionId,
    ) -> Result<DeviceList, StoreError> {
        let now = self.clock.now();
        let (sessions, devices) = self.sessions.sessions_and_devices(user_id).await?;
        let push_tokens = self.push_tokens.push_tokens(user_id).await?;
        let live: Vec<&Session> = sessions.iter().filter(|s| s.is_live(now)).collect();
        let items = devices
            .iter()
            .map(|device: &Device| DeviceSummary {
                device_id: device.id.as_str().to_owned(),
                platform: device.info.platform.clone(),
                model: device.info.model.clone(),
                os_version: device.info.os_version.clone(),
                app_version: device.info.app_version.clone(),
                ip: device.ip.clone(),
                first_seen: rfc3339(device.first_seen),
                last_seen: rfc3339(device.last_seen),
                sessions: live
                    .iter()
                    .filter(|s| s.device_id.as_ref() == Some(&device.id))
                    .map(|s| summary(s, current))
                    .collect(),
                push_tokens: push_tokens
                    .iter()
                    .filter(|t| t.device_id.as_ref() == Some(&device.id))
                    .map(|t| PushTokenSummary {
                        id: t.id.to_string(),
                        platform: t.platform,
                        active: t.active,
                        last_used_at: rfc3339(t.last_used_at),
                    })
                    .collect(),
            })
            .collect();
        let other_sessions = live
            .iter()
            .filter(|s| s.device_id.is_none())
            .map(|s| summary(s, current))
            .collect();
        Ok(DeviceList {
            items,
            other_sessions,
        })
    }

    /// Ends the device's sessions and forgets it; false if unknown.
    pub async fn remove(
        &self,
        user_id: UserId,
        device_id: &DeviceId,
        origin: &Origin,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let removed = self.sessions.remove_device(user_id, device_id, now).await?;
        if removed {
            let mut audit = origin.audit(AuditAction::DeviceRemoved, AuditOutcome::Success, now);
            audit.user_id = Some(user_id);
            audit.reasons = vec![format!("device:{}", device_id.as_str())];
            if let Err(error) = self.audit.record(&audit).await {
                tracing::error!(error = %error, "could not write the device audit record");
            }
        }
        Ok(removed)
    }
}
