//! Configuration, read once at cold start from the environment.

use secrecy::SecretString;
use time::Duration;

use crate::crypto::Argon2Settings;
use crate::domain::{LockoutPolicy, PhoneRegion, Quota, SessionPolicy};
use crate::session_tokens::jwt::SessionTokenSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    Memory,
    DynamoDb,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageKind,
    /// Running inside AWS Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set).
    pub in_lambda: bool,
    pub table_name: String,
    /// Create the table at start if it is missing (local runs, tests).
    pub create_table: bool,
    pub argon2: Argon2Settings,
    pub sessions: SessionPolicy,
    pub lockout: LockoutPolicy,
    /// Failed logins allowed per source address and window.
    pub login_ip_quota: Quota,
    /// Accounts one source address may create per window (`None`: off).
    pub signup_ip_quota: Option<Quota>,
    pub session_tokens: SessionTokenSettings,
    pub signing_keys: SigningKeysSource,
    /// `JWT_ALGORITHM`: the kind of the keys this service generates (a
    /// local run's key set, the scheduled rotation's new keys).
    pub jwt_algorithm: crate::session_tokens::KeyAlgorithm,
    /// `PUBLIC_BASE_URL` without a trailing slash: where clients reach the
    /// API, the tokens' issuer and the discovery document's base (https in
    /// Lambda; a local run sets its own address).
    pub public_base_url: Option<String>,
    /// Keys that encrypt and hash phone numbers at rest.
    pub phone_keys: PhoneKeysSource,
    /// `PHONE_DEFAULT_REGION` as set: resolved by [`Config::phone_region`]
    /// only where phone numbers are parsed, since checking it loads the
    /// numbering plans (tens of milliseconds) into every cold start.
    pub phone_region_code: Option<String>,
    /// How long an instance uses the IP block list before reading it again.
    pub ip_blocks_refresh: std::time::Duration,
    /// `TASKS_QUEUE_URL`, `NOTIFICATIONS_QUEUE_URL`: SQS queues; unset
    /// outside Lambda, in-process queues stand in.
    pub tasks_queue_url: Option<String>,
    pub notifications_queue_url: Option<String>,
    /// `ACCOUNT_TASKS_QUEUE_URL`: account deletion and export, on a queue
    /// (and worker) of their own.
    pub account_tasks_queue_url: Option<String>,
    /// The tasks queue's maxReceiveCount (the template sets both).
    pub task_max_receives: u32,
    /// `MAX_OPEN_TASKS`: unfinished tasks (`POST /tasks`) a user may have
    /// at once; account work is never counted.
    pub max_open_tasks: u32,
    /// Whether accounts that have not confirmed their email may log in.
    pub allow_unverified_login: bool,
    /// Requests for mailed links (reset, confirmation resend) and
    /// pre-registrations, per address and per source address.
    pub link_quotas: crate::usecases::email_links::LinkQuotas,
    /// Where links in emails point: `APP_BASE_URL`, else the pages under
    /// `PUBLIC_BASE_URL`'s `/ui/`.
    pub link_base: crate::usecases::email_templates::LinkBase,
    /// `SES_FROM_ADDRESS`: emails go through SES from this address.
    pub ses_from: Option<String>,
    pub cleanup: crate::usecases::cleanup::CleanupPolicy,
    /// The scheduled key rotation: `KEY_ROTATION_DAYS`, `KEY_PUBLISH_SECONDS`
    /// (at least 600), `KEY_RETENTION_SECONDS`, and `JWT_ALGORITHM`.
    pub key_rotation: crate::usecases::key_rotation::RotationPolicy,
    /// SMS codes: limits and the message's parts (`OTP_*`, `SMS_*`).
    pub sms: crate::usecases::phone_code::SmsSettings,
    /// `SMS_COUNTRIES` as set: resolved by [`Config::sms_countries`] where
    /// codes are sent (it loads the numbering plans, like the region).
    pub sms_countries_code: Option<String>,
    /// `PHONE_SIGNUP_VERIFY`: a phone sign-up needs a `signup` code.
    pub phone_signup_verify: bool,
    /// `PROFILE_FIELDS`: which of username and the profile fields sign-up
    /// requires, accepts or ignores.
    pub profile_fields: crate::domain::ProfileFields,
    /// `SIGNUP_CREDITS`, `CREDIT_COSTS`.
    pub credits: crate::usecases::credits::CreditSettings,
    /// Where avatars live: `AVATAR_BUCKET` (S3, set by the template), or
    /// in local runs the folder `AVATAR_DIR` (a temporary one when unset).
    pub avatars: AvatarStorage,
}

/// The avatar bucket (see `Config::avatars`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvatarStorage {
    S3 {
        bucket: String,
        /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (moto in tests).
        endpoint: Option<String>,
        region: String,
    },
    /// Files under a folder, served by the local server itself.
    Folder(std::path::PathBuf),
}

/// Where the phone-number keys come from (see `crypto::phone_crypto`).
#[derive(Debug, Clone)]
pub enum PhoneKeysSource {
    /// `PHONE_KEYS_SECRET_ID`: read on first use.
    SecretsManager { secret_id: String },
    /// `PHONE_KEYS`: the secret's JSON in the environment.
    Inline(SecretString),
    /// Generated at start: local runs on the in-memory store only, since
    /// whatever they encrypt is unreadable after a restart.
    Generated,
}

/// Where the JWT signing keys come from.
#[derive(Debug, Clone)]
pub enum SigningKeysSource {
    /// A Secrets Manager secret, re-read after `refresh` so rotations need
    /// no redeploy.
    SecretsManager {
        secret_id: String,
        refresh: std::time::Duration,
    },
    /// A key-set JSON in the environment (`JWT_SIGNING_KEYS`).
    Inline(SecretString),
    /// A key set generated at start, for local runs only.
    Generated,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

pub const DEFAULT_TABLE_NAME: &str = "users-service";

impl Config {
    /// Generated signing keys differ per process: fine for one local
    /// server, wrong for a fleet of Lambda instances.
    /// Generated phone keys cannot read a table after a restart: refused
    /// in Lambda and with DynamoDB storage.
    pub fn require_lasting_phone_keys(&self) -> Result<(), ConfigError> {
        match (
            &self.phone_keys,
            self.in_lambda || self.storage == StorageKind::DynamoDb,
        ) {
            (PhoneKeysSource::Generated, true) => Err(ConfigError {
                variable: "PHONE_KEYS_SECRET_ID",
                problem:
                    "required with DynamoDB storage (or PHONE_KEYS): generated keys could not \
                          decrypt the table after a restart"
                        .into(),
            }),
            _ => Ok(()),
        }
    }

    /// The regions SMS codes may go to (`SMS_COUNTRIES`, `IN` by default).
    pub fn sms_countries(&self) -> Result<crate::domain::SmsCountries, ConfigError> {
        match &self.sms_countries_code {
            None => Ok(crate::domain::SmsCountries::default()),
            Some(raw) => crate::domain::SmsCountries::parse(raw).map_err(|problem| ConfigError {
                variable: "SMS_COUNTRIES",
                problem,
            }),
        }
    }

    /// The country of 10-digit numbers written without `+` (`IN` unless
    /// `PHONE_DEFAULT_REGION` names another region with a numbering plan).
    pub fn phone_region(&self) -> Result<PhoneRegion, ConfigError> {
        PhoneRegion::from_lookup(|_| self.phone_region_code.clone())
    }

    pub fn require_shared_signing_keys(&self) -> Result<(), ConfigError> {
        match (&self.signing_keys, self.in_lambda) {
            (SigningKeysSource::Generated, true) => Err(ConfigError {
                variable: "SIGNING_KEYS_SECRET_ID",
                problem: "required in Lambda: generated keys would differ per instance".into(),
            }),
            _ => Ok(()),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `lookup` returns a variable's value; tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        // Inside Lambda the table is the only sensible default; anywhere
        // else the embedded store is, so a bare `cargo run` just works.
        let in_lambda = get("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let storage = match get("STORAGE").as_deref() {
            None if in_lambda => StorageKind::DynamoDb,
            None => StorageKind::Memory,
            Some("memory") => StorageKind::Memory,
            Some("dynamodb") => StorageKind::DynamoDb,
            Some(other) => {
                return Err(ConfigError {
                    variable: "STORAGE",
                    problem: format!("expected memory or dynamodb, got {other:?}"),
                })
            }
        };
        let number = |variable: &'static str, default: u32| -> Result<u32, ConfigError> {
            match get(variable) {
                None => Ok(default),
                Some(value) => value.parse().map_err(|_| ConfigError {
                    variable,
                    problem: format!("expected a whole number, got {value:?}"),
                }),
            }
        };
        let seconds = |variable: &'static str, default: i64| -> Result<Duration, ConfigError> {
            let value = number(variable, u32::try_from(default).unwrap_or(u32::MAX))?;
            if value == 0 {
                return Err(ConfigError {
                    variable,
                    problem: "must be at least 1".into(),
                });
            }
            Ok(Duration::seconds(i64::from(value)))
        };
        let defaults = Argon2Settings::default();
        let session_defaults = SessionPolicy::default();
        let lockout_defaults = LockoutPolicy::default();
        let signing_keys = match (get("SIGNING_KEYS_SECRET_ID"), lookup("JWT_SIGNING_KEYS")) {
            (Some(secret_id), _) => SigningKeysSource::SecretsManager {
                secret_id,
                refresh: std::time::Duration::from_secs(u64::from(number(
                    "SIGNING_KEYS_REFRESH_SECONDS",
                    300,
                )?)),
            },
            (None, Some(json)) if !json.trim().is_empty() => {
                SigningKeysSource::Inline(SecretString::from(json))
            }
            (None, _) => SigningKeysSource::Generated,
        };
        let jwt_algorithm = match get("JWT_ALGORITHM") {
            None => crate::session_tokens::keyset::DEFAULT_ALGORITHM,
            Some(name) => {
                crate::session_tokens::KeyAlgorithm::from_name(&name).ok_or_else(|| {
                    ConfigError {
                        variable: "JWT_ALGORITHM",
                        problem: format!("expected ES256 or EdDSA, got {name:?}"),
                    }
                })?
            }
        };
        let public_base_url =
            get("PUBLIC_BASE_URL").map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &public_base_url {
            let scheme_ok =
                url.starts_with("https://") || (!in_lambda && url.starts_with("http://"));
            if !scheme_ok || url.contains(['?', '#']) {
                return Err(ConfigError {
                    variable: "PUBLIC_BASE_URL",
                    problem: format!(
                        "expected an https URL without query or fragment (http only outside Lambda), got {url:?}"
                    ),
                });
            }
        }
        let rotation_defaults = crate::usecases::key_rotation::RotationPolicy::default();
        let key_rotation = crate::usecases::key_rotation::RotationPolicy {
            rotate_after: Duration::days(i64::from(number(
                "KEY_ROTATION_DAYS",
                u32::try_from(rotation_defaults.rotate_after.whole_days()).unwrap_or(90),
            )?)),
            publish: seconds(
                "KEY_PUBLISH_SECONDS",
                rotation_defaults.publish.whole_seconds(),
            )?,
            retention: seconds(
                "KEY_RETENTION_SECONDS",
                rotation_defaults.retention.whole_seconds(),
            )?,
            algorithm: jwt_algorithm,
        };
        if key_rotation.publish < Duration::seconds(600)
            || key_rotation.rotate_after <= Duration::ZERO
        {
            return Err(ConfigError {
                variable: "KEY_PUBLISH_SECONDS",
                problem: "a new key must be published at least 600 s (JWKS cache plus key reload), and KEY_ROTATION_DAYS be at least 1".into(),
            });
        }
        let signup_limit = number("SIGNUP_IP_LIMIT", 5)?;
        let link_defaults = crate::usecases::email_links::LinkQuotas::default();
        let cleanup_defaults = crate::usecases::cleanup::CleanupPolicy::default();
        let phone_keys = match (get("PHONE_KEYS_SECRET_ID"), lookup("PHONE_KEYS")) {
            (Some(secret_id), _) => PhoneKeysSource::SecretsManager { secret_id },
            (None, Some(json)) if !json.trim().is_empty() => {
                PhoneKeysSource::Inline(SecretString::from(json))
            }
            (None, _) => PhoneKeysSource::Generated,
        };
        // The mailed links open the service's own pages (/ui/…) unless a
        // client app takes them.
        let link_base = match (get("APP_BASE_URL"), &public_base_url) {
            (Some(app), _) => crate::usecases::email_templates::LinkBase::app(app),
            (None, Some(url)) => crate::usecases::email_templates::LinkBase::pages(url.clone()),
            (None, None) => crate::usecases::email_templates::LinkBase::default(),
        };
        let profile_fields = match get(crate::domain::ProfileFields::VARIABLE) {
            None => crate::domain::ProfileFields::default(),
            Some(spec) => {
                crate::domain::ProfileFields::parse(&spec).map_err(|error| ConfigError {
                    variable: crate::domain::ProfileFields::VARIABLE,
                    problem: error.0,
                })?
            }
        };
        Ok(Self {
            storage,
            in_lambda,
            table_name: get("TABLE_NAME").unwrap_or_else(|| DEFAULT_TABLE_NAME.to_owned()),
            create_table: matches!(get("CREATE_TABLE").as_deref(), Some("1" | "true" | "yes")),
            argon2: Argon2Settings {
                memory_kib: number("ARGON2_MEMORY_KIB", defaults.memory_kib)?,
                iterations: number("ARGON2_ITERATIONS", defaults.iterations)?,
                parallelism: number("ARGON2_PARALLELISM", defaults.parallelism)?,
            },
            sessions: SessionPolicy {
                idle: seconds(
                    "REFRESH_IDLE_SECONDS",
                    session_defaults.idle.whole_seconds(),
                )?,
                absolute: seconds(
                    "REFRESH_ABSOLUTE_SECONDS",
                    session_defaults.absolute.whole_seconds(),
                )?,
                reuse_grace: seconds(
                    "REFRESH_REUSE_GRACE_SECONDS",
                    session_defaults.reuse_grace.whole_seconds(),
                )?,
            },
            lockout: LockoutPolicy {
                max_failures: number("LOGIN_MAX_FAILURES", lockout_defaults.max_failures)?.max(1),
                window: seconds(
                    "LOGIN_FAILURE_WINDOW_SECONDS",
                    lockout_defaults.window.whole_seconds(),
                )?,
                base_lock: seconds(
                    "LOGIN_LOCK_BASE_SECONDS",
                    lockout_defaults.base_lock.whole_seconds(),
                )?,
                max_lock: seconds(
                    "LOGIN_LOCK_MAX_SECONDS",
                    lockout_defaults.max_lock.whole_seconds(),
                )?,
            },
            login_ip_quota: Quota {
                max: number("LOGIN_IP_MAX_FAILURES", 100)?.max(1),
                window: seconds("LOGIN_IP_WINDOW_SECONDS", 300)?,
            },
            signup_ip_quota: (signup_limit > 0)
                .then(|| -> Result<Quota, ConfigError> {
                    Ok(Quota {
                        max: signup_limit,
                        window: seconds("SIGNUP_IP_WINDOW_SECONDS", 3600)?,
                    })
                })
                .transpose()?,
            session_tokens: SessionTokenSettings::from_lookup(&lookup)?,
            signing_keys,
            jwt_algorithm,
            public_base_url,
            key_rotation,
            phone_keys,
            phone_region_code: get(crate::domain::phone_number::DEFAULT_REGION_VARIABLE),
            ip_blocks_refresh: std::time::Duration::from_secs(u64::from(number(
                "IP_BLOCKS_REFRESH_SECONDS",
                60,
            )?)),
            tasks_queue_url: get("TASKS_QUEUE_URL"),
            notifications_queue_url: get("NOTIFICATIONS_QUEUE_URL"),
            account_tasks_queue_url: get("ACCOUNT_TASKS_QUEUE_URL"),
            task_max_receives: number("TASK_MAX_RECEIVES", 5)?.max(1),
            max_open_tasks: number(
                "MAX_OPEN_TASKS",
                crate::usecases::tasks::DEFAULT_MAX_OPEN_TASKS,
            )?
            .max(1),
            allow_unverified_login: !matches!(
                get("ALLOW_UNVERIFIED_LOGIN").as_deref(),
                Some("0" | "false" | "no")
            ),
            link_quotas: crate::usecases::email_links::LinkQuotas {
                per_email: Quota {
                    max: number("LINK_EMAIL_LIMIT", link_defaults.per_email.max)?.max(1),
                    window: seconds(
                        "LINK_WINDOW_SECONDS",
                        link_defaults.per_email.window.whole_seconds(),
                    )?,
                },
                per_ip: Quota {
                    max: number("LINK_IP_LIMIT", link_defaults.per_ip.max)?.max(1),
                    window: seconds(
                        "LINK_WINDOW_SECONDS",
                        link_defaults.per_ip.window.whole_seconds(),
                    )?,
                },
            },
            link_base,
            ses_from: get("SES_FROM_ADDRESS"),
            cleanup: crate::usecases::cleanup::CleanupPolicy {
                unverified_max_age: seconds(
                    "UNVERIFIED_MAX_AGE_SECONDS",
                    cleanup_defaults.unverified_max_age.whole_seconds(),
                )?,
                push_token_max_idle: seconds(
                    "PUSH_TOKEN_MAX_IDLE_SECONDS",
                    cleanup_defaults.push_token_max_idle.whole_seconds(),
                )?,
                ..cleanup_defaults
            },
            sms: crate::usecases::phone_code::SmsSettings {
                per_number: Quota {
                    max: number("OTP_NUMBER_LIMIT", 3)?.max(1),
                    window: seconds("OTP_NUMBER_WINDOW_SECONDS", 900)?,
                },
                per_ip: Quota {
                    max: number("OTP_IP_LIMIT", 10)?.max(1),
                    window: seconds("OTP_IP_WINDOW_SECONDS", 3600)?,
                },
                daily: match number("SMS_DAILY_LIMIT", 1000)? {
                    0 => None,
                    max => Some(Quota {
                        max,
                        window: Duration::days(1),
                    }),
                },
                service_name: get("SMS_SERVICE_NAME").unwrap_or_else(|| "users-service".into()),
                app_hash: get("SMS_APP_HASH"),
                webotp_host: get("SMS_WEBOTP_HOST"),
            },
            sms_countries_code: get("SMS_COUNTRIES"),
            phone_signup_verify: matches!(
                get("PHONE_SIGNUP_VERIFY").as_deref(),
                Some("1" | "true" | "yes")
            ),
            profile_fields,
            credits: crate::usecases::credits::CreditSettings::from_lookup(get)?,
            avatars: match get("AVATAR_BUCKET") {
                Some(bucket) => AvatarStorage::S3 {
                    bucket,
                    endpoint: get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")),
                    region: get("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                },
                None => {
                    AvatarStorage::Folder(get("AVATAR_DIR").map(Into::into).unwrap_or_else(|| {
                        std::env::temp_dir()
                            .join(format!("users-service-avatars-{}", std::process::id()))
                    }))
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn mailed_links_open_the_own_pages_unless_an_app_takes_them() {
        use crate::usecases::email_templates::LinkBase;
        let own = config(&[("PUBLIC_BASE_URL", "https://id.example/")]).unwrap();
        assert_eq!(own.link_base, LinkBase::pages("https://id.example"));
        assert_eq!(
            own.link_base.link("confirm-email", "ec_1"),
            "https://id.example/ui/confirm-email#token=ec_1"
        );
        let app = config(&[
            ("PUBLIC_BASE_URL", "https://id.example"),
            ("APP_BASE_URL", "https://app.example"),
        ])
        .unwrap();
        assert_eq!(
            app.link_base.link("reset-password", "pr_1"),
            "https://app.example/reset-password?token=pr_1"
        );
        // An empty APP_BASE_URL (the template's default) is no app.
        let empty = config(&[
            ("PUBLIC_BASE_URL", "https://id.example"),
            ("APP_BASE_URL", ""),
        ])
        .unwrap();
        assert_eq!(empty.link_base, own.link_base);
        assert_eq!(config(&[]).unwrap().link_base, LinkBase::default());
    }

    #[test]
    fn defaults_depend_on_where_it_runs() {
        let local = config(&[]).unwrap();
        assert_eq!(local.storage, StorageKind::Memory);
        assert_eq!(local.table_name, DEFAULT_TABLE_NAME);
        assert_eq!(local.argon2, Argon2Settings::default());
        assert!(matches!(local.signing_keys, SigningKeysSource::Generated));
        assert_eq!(local.sessions, SessionPolicy::default());
        assert_eq!(local.lockout, LockoutPolicy::default());
        assert_eq!(
            local.signup_ip_quota,
            Some(Quota {
                max: 5,
                window: Duration::hours(1)
            })
        );
        let lambda = config(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "signup"),
            ("SIGNING_KEYS_SECRET_ID", "keys"),
        ])
        .unwrap();
        assert_eq!(lambda.storage, StorageKind::DynamoDb);
        assert!(matches!(
            lambda.signing_keys,
            SigningKeysSource::SecretsManager { .. }
        ));
        let unset = config(&[("AWS_LAMBDA_FUNCTION_NAME", "login")]).unwrap();
        assert_eq!(
            unset.require_shared_signing_keys().unwrap_err().variable,
            "SIGNING_KEYS_SECRET_ID"
        );
        assert!(local.require_shared_signing_keys().is_ok());
        assert!(local.require_lasting_phone_keys().is_ok());
        assert_eq!(local.phone_region().unwrap(), PhoneRegion::default());
        assert_eq!(
            unset.require_lasting_phone_keys().unwrap_err().variable,
            "PHONE_KEYS_SECRET_ID"
        );
        let with_keys = config(&[
            ("STORAGE", "dynamodb"),
            ("PHONE_KEYS_SECRET_ID", "phone"),
            ("PHONE_DEFAULT_REGION", "us"),
        ])
        .unwrap();
        assert!(with_keys.require_lasting_phone_keys().is_ok());
        assert_eq!(with_keys.phone_region().unwrap().code(), "US");
        assert_eq!(
            config(&[("PHONE_DEFAULT_REGION", "XX")])
                .unwrap()
                .phone_region()
                .unwrap_err()
                .variable,
            "PHONE_DEFAULT_REGION"
        );
    }

    #[test]
    fn explicit_values_and_errors() {
        let c = config(&[
            ("STORAGE", "dynamodb"),
            ("TABLE_NAME", "t"),
            ("CREATE_TABLE", "true"),
            ("ARGON2_MEMORY_KIB", "65536"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.storage,
                c.table_name.as_str(),
                c.create_table,
                c.argon2.memory_kib
            ),
            (StorageKind::DynamoDb, "t", true, 65536)
        );
        assert_eq!(
            config(&[("STORAGE", "redis")]).unwrap_err().variable,
            "STORAGE"
        );
        assert_eq!(
            config(&[("ARGON2_ITERATIONS", "two")])
                .unwrap_err()
                .variable,
            "ARGON2_ITERATIONS"
        );
    }

    #[test]
    fn profile_fields_are_checked_at_start() {
        let email_only = config(&[("PROFILE_FIELDS", "username:off,first_name:required")])
            .unwrap()
            .profile_fields;
        assert!(email_only.email_only());
        let error = config(&[("PROFILE_FIELDS", "username:sometimes")]).unwrap_err();
        assert_eq!(error.variable, "PROFILE_FIELDS");
        assert!(
            error.to_string().contains("PROFILE_FIELDS") && error.to_string().contains("username"),
            "{error}"
        );
    }
}
