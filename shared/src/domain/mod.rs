//! Domain types: each parses once, so the rest of the code holds only valid
//! values ("parse, don't validate").

pub mod audit;
pub mod avatar;
pub mod device;
pub mod email;
pub mod errors;
pub mod events;
pub mod form;
mod id;
pub mod ip_block;
pub mod one_time_token;
pub mod password;
pub mod password_policy;
pub mod phone;
pub mod phone_code;
pub mod phone_number;
pub mod phone_user;
pub mod preferences;
pub mod push_token;
pub mod session;
pub mod task;
pub mod text;
pub mod throttle;
pub mod user;
pub mod username;

pub use audit::{AuditAction, AuditOutcome, AuditRecord};
pub use device::{Device, DeviceId, DeviceInfo};
pub use email::Email;
pub use errors::{ErrorCode, FieldError, FieldErrors};
pub use events::{EventType, NotificationEvent};
pub use one_time_token::{OneTimeToken, OneTimeTokenRecord, TokenPurpose};
pub use password::Password;
pub use phone::ContactNumber;
pub use phone_code::{CodePurpose, OneTimeCode, PhoneCodeKey, PhoneCodeRecord, SmsCountries};
pub use phone_number::{PhoneNumber, PhoneRegion};
pub use phone_user::{Account, Location, LocationId, PhoneUser};
pub use session::{RefreshRecord, RefreshState, Session, SessionId, SessionPolicy};
pub use task::{Task, TaskId, TaskKind, TaskStatus};
pub use text::ProfileText;
pub use throttle::{AddressBlock, LockoutPolicy, LoginThrottle, Quota, RateWindow, ThrottleKey};
pub use user::{PasswordHash, Profile, User, UserId, UserStatus};
pub use username::Username;
