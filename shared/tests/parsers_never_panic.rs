//! Property tests of every parser that reads client input: whatever it is
//! given, it never panics; what it accepts satisfies the type's invariants
//! (and parses again to itself); what it refuses comes back as a typed error
//! with one of the codes docs/API.md documents.

use std::collections::{BTreeSet, HashMap};

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use shared::domain::device::{parse_device_fields, DEVICE_ID_MAX_CHARS};
use shared::domain::email::EMAIL_MAX_CHARS;
use shared::domain::ip_block::IpBlock;
use shared::domain::one_time_token::OneTimeTokenError;
use shared::domain::password::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use shared::domain::preferences::{Category, Channel, Preferences};
use shared::domain::push_token::{PushTokenChange, PushTokenId, MAX_TOKEN_CHARS};
use shared::domain::request::RequestBody;
use shared::domain::username::USERNAME_MAX_CHARS;
use shared::domain::{
    ContactNumber, DeviceId, Email, ErrorCode, FieldErrors, OneTimeToken, Password, PhoneNumber,
    PhoneRegion, ProfileText, TaskId, TaskKind, TokenPurpose, Username,
};
use shared::http::body::{json_object, MAX_BODY_BYTES};
use shared::http::pagination::{PageRequest, MAX_LIMIT};
use shared::requests::preferences::PreferencesUpdateRequest;
use shared::requests::push_tokens::{PushTokenCreateRequest, PushTokenUpdateRequest};
use shared::requests::tasks::TaskCreateRequest;
use shared::session_tokens::refresh::{RefreshToken, RefreshTokenError, PREFIX, TOKEN_LEN};
use shared::usecases::login_form::{LoginForm, LoginRequest};
use shared::usecases::phone_signup_form::PhoneSignUpForm;
use shared::usecases::signup_form::SignUpForm;

/// Modest, so the whole file runs in seconds inside the normal test command.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- strategies

/// Characters that trip parsers: separators the rules name, whitespace and
/// control characters, characters whose case mapping or NFKC form changes
/// their length, other scripts' digits, full-width signs, invisible ones.
const TRICKY: &[char] = &[
    'a',
    'Z',
    '0',
    '9',
    '@',
    '.',
    '+',
    '-',
    '_',
    ' ',
    '\t',
    '\n',
    '\r',
    '\0',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    'İ',
    'ẞ',
    'ß',
    'ﬃ',
    'ǅ',
    '\u{200b}',
    '\u{301}',
    '\u{fe0f}',
    '١',
    '٩',
    '＋',
    '１',
    'ａ',
    '😀',
    '/',
    ':',
    '%',
    '"',
    '\\',
    '\u{feff}',
    '\u{10ffff}',
];

/// Any text: arbitrary scalar values, tricky characters, or long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(proptest::sample::select(TRICKY), 0..40)
            .prop_map(String::from_iter),
        // Past every length bound of the API (the largest is 4096), bounded.
        (proptest::sample::select(TRICKY), 0..5000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// Strings over `alphabet`, `length` long: near-valid input for one parser.
fn made_of(alphabet: &'static [char], length: std::ops::Range<usize>) -> BoxedStrategy<String> {
    proptest::collection::vec(proptest::sample::select(alphabet), length)
        .prop_map(String::from_iter)
        .boxed()
}

/// Any JSON value, nested at most four levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A request body object: mostly the parser's own field names, some
/// others, each with text (a good or a bad value) or any JSON at all.
fn form(
    names: &'static [&'static str],
    good: BoxedStrategy<String>,
) -> BoxedStrategy<Map<String, Value>> {
    let name = prop_oneof![
        4 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => text(),
    ];
    let value = prop_oneof![
        3 => good.prop_map(Value::String),
        2 => text().prop_map(Value::String),
        2 => json_value(),
    ];
    proptest::collection::vec((name, value), 0..14)
        .prop_map(|pairs| pairs.into_iter().collect())
        .boxed()
}

/// `base` with some fields replaced or removed: mostly-valid forms reach
/// the success path and the rules past the first check.
fn mutated(base: Value, names: &'static [&'static str]) -> BoxedStrategy<Map<String, Value>> {
    let base = base.as_object().cloned().expect("an object");
    let change = (
        proptest::sample::select(names),
        proptest::option::of(prop_oneof![text().prop_map(Value::String), json_value()]),
    );
    proptest::collection::vec(change, 0..3)
        .prop_map(move |changes| {
            let mut fields = base.clone();
            for (name, value) in changes {
                match value {
                    Some(value) => fields.insert(name.to_owned(), value),
                    None => fields.remove(name),
                };
            }
            fields
        })
        .boxed()
}

const PHONE_CHARS: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '9', '8', '7', ' ', '-', '(', ')', '.', '+',
];

/// Digit-heavy text, with a `+` in front half of the time.
fn phone_like() -> BoxedStrategy<String> {
    (any::<bool>(), made_of(PHONE_CHARS, 0..36))
        .prop_map(|(plus, rest)| if plus { format!("+{rest}") } else { rest })
        .boxed()
}

fn region() -> impl Strategy<Value = PhoneRegion> {
    proptest::sample::select(&["IN", "US", "GB", "AU", "DE", "JP", "BR", "NG", "CN", "FR"][..])
        .prop_map(|code| code.parse().expect("a region with a numbering plan"))
}

// ------------------------------------------------------------------- helpers

/// Every code of every field, as a set.
fn codes(errors: &FieldErrors) -> BTreeSet<&'static str> {
    errors
        .fields()
        .flat_map(|field| errors.codes(field))
        .map(ErrorCode::as_str)
        .collect()
}

fn assert_codes_within(errors: &FieldErrors, allowed: &[ErrorCode]) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "a refusal names at least one field");
    for field in errors.fields() {
        for code in errors.codes(field) {
            prop_assert!(
                allowed.contains(&code),
                "{field}: undocumented code {code:?}"
            );
        }
    }
    Ok(())
}

fn assert_fields_within(errors: &FieldErrors, allowed: &[&str]) -> Result<(), TestCaseError> {
    for field in errors.fields() {
        prop_assert!(allowed.contains(&field), "unexpected field {field:?}");
    }
    Ok(())
}

const SHAPE_CODES: &[ErrorCode] = &[ErrorCode::Required, ErrorCode::Invalid, ErrorCode::TooLong];

// ------------------------------------------------------------- domain types

const USERNAME_CHARS: &[char] = &[
    'a', 'B', '7', '@', '.', '+', '-', '_', 'é', 'ａ', 'ﬃ', ' ', '!',
];
const EMAIL_CHARS: &[char] = &['a', 'B', 'İ', 'ẞ', 'K', '.', '+', '-', '1'];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn username(raw in prop_oneof![text(), made_of(USERNAME_CHARS, 0..160)]) {
        match Username::parse(&raw) {
            Ok(username) => {
                let chars = username.as_str().chars().count();
                prop_assert!((1..=USERNAME_MAX_CHARS).contains(&chars));
                prop_assert_eq!(username.key(), username.as_str().to_lowercase());
                prop_assert_eq!(Username::parse(username.as_str()), Ok(username.clone()));
            }
            Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
        }
    }

    #[test]
    fn email(
        raw in prop_oneof![
            text(),
            (made_of(EMAIL_CHARS, 1..70), proptest::collection::vec(made_of(EMAIL_CHARS, 1..64), 1..5))
                .prop_map(|(local, labels)| format!("{local}@{}.com", labels.join("."))),
        ]
    ) {
        match Email::parse(&raw) {
            Ok(email) => {
                prop_assert_eq!(email.as_str(), email.as_str().to_lowercase());
                prop_assert!(email.as_str().chars().count() <= EMAIL_MAX_CHARS);
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
            Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
        }
    }

    #[test]
    fn password(raw in text()) {
        let chars = raw.chars().count();
        match Password::parse(&raw) {
            Ok(password) => {
                prop_assert!((PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars));
                // Kept exactly as sent: spaces and case count.
                prop_assert_eq!(password.expose(), raw.as_str());
            }
            Err(error) => prop_assert!(
                [ErrorCode::Required, ErrorCode::PasswordTooShort, ErrorCode::TooLong].contains(&error.code),
                "{:?}", error.code
            ),
        }
        prop_assert_eq!(Password::presented(&raw).is_some(), (1..=1024).contains(&chars));
    }

    #[test]
    fn contact_number(raw in prop_oneof![text(), phone_like()]) {
        match ContactNumber::parse(&raw) {
            Ok(number) => {
                // docs/API.md's `^\+?1?\d{9,15}$`.
                let digits = number.as_str().strip_prefix('+').unwrap_or(number.as_str());
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                let national = if digits.len() == 16 { &digits[1..] } else { digits };
                prop_assert!((9..=15).contains(&national.len()));
                prop_assert_eq!(ContactNumber::parse(number.as_str()), Ok(number.clone()));
            }
            Err(error) => prop_assert!(
                [ErrorCode::Required, ErrorCode::Invalid].contains(&error.code), "{:?}", error.code
            ),
        }
    }

    #[test]
    fn profile_text(raw in text(), max in 1usize..300) {
        match ProfileText::parse(&raw, max) {
            Ok(parsed) => {
                let value = parsed.as_str();
                prop_assert_eq!(value, value.trim());
                prop_assert!(!value.is_empty() && value.chars().count() <= max);
                prop_assert!(!value.chars().any(char::is_control));
                prop_assert_eq!(ProfileText::parse(value, max), Ok(parsed.clone()));
            }
            Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
        }
    }

    #[test]
    fn phone_number(raw in prop_oneof![text(), phone_like()], region in region()) {
        match PhoneNumber::parse(&raw, region) {
            Ok(number) => {
                let e164 = number.as_e164();
                let digits = e164.strip_prefix('+').expect("E.164 starts with +");
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 15);
                prop_assert!(digits.starts_with(&number.country_calling_code().to_string()));
                prop_assert_eq!(format!("{}{}", number.country_code(), number.national_number()), e164);
                // The E.164 form reads back as the same number, from any region.
                prop_assert_eq!(PhoneNumber::from_e164(e164), Some(number.clone()));
                prop_assert_eq!(PhoneNumber::parse(e164, PhoneRegion::default()), Ok(number.clone()));
                let masked = number.masked();
                prop_assert!(masked.ends_with(&digits[digits.len() - 4..]));
                prop_assert!(!masked.contains(number.national_number()));
            }
            Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
        }
        // Stored forms never panic either, whatever the table holds.
        let _ = PhoneNumber::from_e164(&raw);
        let _ = PhoneNumber::from_stored(&raw, region.calling_code());
    }

    #[test]
    fn phone_region(raw in prop_oneof![text(), made_of(&['i', 'N', 'u', 'S', 'Z', 'Z', ' '], 0..4)]) {
        if let Ok(region) = raw.parse::<PhoneRegion>() {
            prop_assert_eq!(region.code().parse::<PhoneRegion>(), Ok(region));
        }
    }

    #[test]
    fn device_id(raw in prop_oneof![text(), made_of(&['a', '-', ':', '~', ' ', 'é', '\u{7f}'], 0..140)]) {
        match DeviceId::parse(&raw) {
            Ok(id) => {
                prop_assert!((1..=DEVICE_ID_MAX_CHARS).contains(&id.as_str().len()));
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_eq!(DeviceId::parse(id.as_str()), Ok(id.clone()));
            }
            Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
        }
    }

    #[test]
    fn device_fields(fields in form(&["device_id", "device_info"], made_of(&['a', '-', ' '], 0..20))) {
        let mut errors = FieldErrors::new();
        let (id, info) = parse_device_fields(&fields, &mut errors);
        for field in errors.fields() {
            prop_assert!(field == "device_id" || field == "device_info" || field.starts_with("device_info."));
        }
        if !errors.is_empty() {
            assert_codes_within(&errors, SHAPE_CODES)?;
        }
        if let Some(id) = id {
            prop_assert_eq!(DeviceId::parse(id.as_str()), Ok(id.clone()));
        }
        let parts = [&info.platform, &info.model, &info.os_version, &info.app_version, &info.language_code, &info.timezone];
        for part in parts.into_iter().flatten() {
            prop_assert!(part.chars().count() <= 100 && !part.chars().any(char::is_control));
        }
        // A part that is a short one-line string is kept, trimmed.
        if let Some(Value::Object(given)) = fields.get("device_info") {
            if let Some(Value::String(model)) = given.get("model") {
                let model = model.trim();
                let keeps = !model.is_empty() && model.chars().count() <= 100 && !model.chars().any(char::is_control);
                prop_assert_eq!(info.model.as_deref(), keeps.then_some(model));
            }
        }
    }

    #[test]
    fn ip_network(
        raw in prop_oneof![
            text(),
            (any::<std::net::IpAddr>(), proptest::option::of(0u16..140))
                .prop_map(|(ip, prefix)| match prefix {
                    Some(prefix) => format!("{ip}/{prefix}"),
                    None => ip.to_string(),
                }),
            (any::<std::net::Ipv4Addr>(), 0u8..40)
                .prop_map(|(ip, prefix)| format!("::ffff:{ip}/{}", 96 + prefix)),
            made_of(&['1', '0', '.', ':', '/', 'f', '+', '%', ' '], 0..40),
        ]
    ) {
        match IpBlock::parse_network(&raw) {
            Ok(network) => {
                // One spelling per network: canonical, and it reads back as itself.
                prop_assert_eq!(network, network.trunc());
                prop_assert_eq!(IpBlock::parse_network(&network.to_string()), Ok(network));
            }
            Err(error) => prop_assert_eq!(error.code, ErrorCode::Invalid),
        }
        for result in [IpBlock::parse_reason(&raw), IpBlock::parse_created_by(&raw)] {
            match result {
                Ok(line) => prop_assert!(!line.is_empty() && !line.chars().any(char::is_control)),
                Err(error) => prop_assert!(SHAPE_CODES.contains(&error.code), "{:?}", error.code),
            }
        }
    }

    #[test]
    fn task_and_push_token_ids(raw in prop_oneof![text(), any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string())]) {
        if let Some(id) = TaskId::parse(&raw) {
            prop_assert_eq!(TaskId::parse(&id.to_string()), Some(id));
        }
        if let Some(id) = PushTokenId::parse(&raw) {
            prop_assert_eq!(PushTokenId::parse(&id.to_string()), Some(id));
        }
        prop_assert_eq!(TaskId::parse(&raw).is_some(), uuid::Uuid::parse_str(&raw).is_ok());
    }

    #[test]
    fn task_kind(
        fields in prop_oneof![
            form(&["type", "x", "y", "seconds", "data"], proptest::sample::select(&["add", "long_running", "process_data", "delete_account"][..]).prop_map(str::to_owned).boxed()),
            (any::<i64>(), json_value()).prop_map(|(n, v)| serde_json::json!({"type": "add", "x": n, "y": v}).as_object().cloned().unwrap()),
            any::<i64>().prop_map(|n| serde_json::json!({"type": "long_running", "seconds": n}).as_object().cloned().unwrap()),
        ]
    ) {
        match TaskCreateRequest::from_fields(&fields).map(|request| request.0) {
            Ok(kind) => {
                prop_assert_eq!(fields.get("type").and_then(Value::as_str), Some(kind.name()));
                if let TaskKind::LongRunning { seconds } = kind {
                    prop_assert!((1..=3600).contains(&seconds));
                }
                // Stored and queued as JSON: it reads back as itself.
                let stored = serde_json::to_value(&kind).expect("serialisable");
                prop_assert_eq!(serde_json::from_value::<TaskKind>(stored).ok(), Some(kind.clone()));
                prop_assert!(!matches!(kind, TaskKind::DeleteAccount | TaskKind::ExportData), "clients cannot queue these");
            }
            Err(errors) => {
                assert_codes_within(&errors, &[ErrorCode::Required, ErrorCode::Invalid])?;
                assert_fields_within(&errors, &["type", "x", "y", "seconds", "data"])?;
            }
        }
    }

    #[test]
    fn new_push_token(
        fields in prop_oneof![
            form(&["platform", "token", "device_id"], proptest::sample::select(&["fcm", "apns", "web", "dQw4w9WgXcQ:APA91b", "Fcm"][..]).prop_map(str::to_owned).boxed()),
            mutated(serde_json::json!({"platform": "fcm", "token": "dQw4w9WgXcQ:APA91bH", "device_id": "pixel-8"}), &["platform", "token", "device_id"]),
        ]
    ) {
        match PushTokenCreateRequest::from_fields(&fields) {
            Ok(new) => {
                let token = new.token.as_str();
                prop_assert!(!token.is_empty() && token.chars().count() <= MAX_TOKEN_CHARS);
                prop_assert!(!token.chars().any(|c| c.is_whitespace() || c.is_control()));
            }
            Err(errors) => {
                assert_codes_within(&errors, SHAPE_CODES)?;
                assert_fields_within(&errors, &["platform", "token", "device_id"])?;
            }
        }
    }

    #[test]
    fn push_token_change(fields in form(&["active", "platform", "device_id"], proptest::sample::select(&["fcm", "web", "true"][..]).prop_map(str::to_owned).boxed())) {
        match PushTokenUpdateRequest::from_fields(&fields).map(PushTokenChange::from) {
            Ok(change) => {
                prop_assert!(fields.keys().all(|name| ["active", "platform", "device_id"].contains(&name.as_str())));
                prop_assert_eq!(change.active, fields.get("active").and_then(Value::as_bool));
            }
            Err(errors) => assert_codes_within(&errors, SHAPE_CODES)?,
        }
    }

    #[test]
    fn preferences(
        fields in proptest::collection::btree_map(
            prop_oneof![proptest::sample::select(&["security", "account", "marketing", "reminders"][..]).prop_map(str::to_owned), text()],
            prop_oneof![
                proptest::collection::btree_map(
                    prop_oneof![proptest::sample::select(&["email", "push", "sms"][..]).prop_map(str::to_owned), text()],
                    prop_oneof![3 => any::<bool>().prop_map(Value::Bool), 1 => json_value()],
                    0..4,
                ).prop_map(|map| Value::Object(map.into_iter().collect())),
                json_value(),
            ],
            0..5,
        ).prop_map(|map| map.into_iter().collect::<Map<String, Value>>())
    ) {
        match PreferencesUpdateRequest::from_fields(&fields).map(|request| Preferences::default().apply(request.switches())) {
            Ok(updated) => {
                prop_assert!(updated.allows(Category::Security, Channel::Email));
                for category in Category::ALL {
                    for channel in Channel::ALL {
                        let asked = fields.get(category.as_str()).and_then(|row| row.get(channel.as_str())).and_then(Value::as_bool);
                        let expected = asked.unwrap_or(Preferences::default().allows(category, channel));
                        prop_assert_eq!(updated.allows(category, channel), expected);
                    }
                }
                // What GET returns can be PUT back unchanged.
                let stored = serde_json::to_value(&updated).expect("serialisable");
                prop_assert_eq!(PreferencesUpdateRequest::from_fields(stored.as_object().expect("an object")).map(|request| Preferences::default().apply(request.switches())), Ok(updated.clone()));
            }
            Err(errors) => assert_codes_within(&errors, &[ErrorCode::Invalid])?,
        }
    }

    #[test]
    fn one_time_token(
        raw in prop_oneof![
            text(),
            (proptest::sample::select(&["ec_", "pr_", "ce_", "rt_", ""][..]), made_of(&['A', 'z', '0', '-', '_', '=', '+', '/'], 40..46))
                .prop_map(|(prefix, rest)| format!("{prefix}{rest}")),
        ],
        purpose in prop_oneof![
            Just(TokenPurpose::ConfirmEmail),
            Just(TokenPurpose::ResetPassword),
            Just(TokenPurpose::ChangeEmail),
        ],
    ) {
        match OneTimeToken::parse(&raw, purpose) {
            Ok(token) => {
                prop_assert_eq!(token.expose(), raw.as_str());
                prop_assert_eq!(raw.len(), 46);
                for other in [
                    TokenPurpose::ConfirmEmail,
                    TokenPurpose::ResetPassword,
                    TokenPurpose::ChangeEmail,
                ] {
                    if other != purpose {
                        prop_assert!(
                            OneTimeToken::parse(&raw, other).is_err(),
                            "one purpose per token"
                        );
                    }
                }
            }
            Err(error) => prop_assert_eq!(error, OneTimeTokenError::Malformed),
        }
        let generated = OneTimeToken::generate(purpose).expect("randomness");
        prop_assert!(OneTimeToken::parse(generated.expose(), purpose).is_ok());
    }

    #[test]
    fn one_time_code(
        raw in prop_oneof![text(), made_of(&['0', '9', '5', ' ', '٣', 'a'], 0..9)],
        purpose in prop_oneof![text(), proptest::sample::select(&["login", "signup"][..]).prop_map(str::to_owned)],
    ) {
        match shared::domain::OneTimeCode::parse(&raw) {
            Ok(code) => {
                prop_assert_eq!(code.expose(), raw.as_str());
                prop_assert!(raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()));
            }
            Err(error) => prop_assert_eq!(error.code, ErrorCode::Invalid),
        }
        match shared::domain::CodePurpose::parse(&purpose) {
            Ok(parsed) => prop_assert_eq!(parsed.as_str(), purpose.as_str()),
            Err(error) => prop_assert_eq!(error.code, ErrorCode::Invalid),
        }
        let generated = shared::domain::OneTimeCode::generate().expect("randomness");
        prop_assert!(shared::domain::OneTimeCode::parse(generated.expose()).is_ok());
    }

    #[test]
    fn refresh_token(
        raw in prop_oneof![
            text(),
            made_of(&['A', 'z', '0', '-', '_', '='], 80..88).prop_map(|rest| format!("{PREFIX}{rest}")),
        ],
        user in any::<u128>(),
        session in any::<u128>(),
    ) {
        match RefreshToken::parse(&raw) {
            Ok(token) => {
                prop_assert_eq!(token.expose(), raw.as_str());
                prop_assert_eq!(raw.len(), TOKEN_LEN);
            }
            Err(error) => prop_assert_eq!(error, RefreshTokenError::Malformed),
        }
        let (user, session) = (uuid::Uuid::from_u128(user), uuid::Uuid::from_u128(session));
        let generated = RefreshToken::generate(user, session).expect("randomness");
        let parsed = RefreshToken::parse(generated.expose()).expect("a generated token parses");
        prop_assert_eq!((parsed.user_id(), parsed.session_id()), (user, session));
    }
}

// ------------------------------------------------------------ request forms

const SIGNUP_FIELDS: &[&str] = &[
    "username",
    "email",
    "password",
    "confirm_password",
    "rank",
    "unitname",
    "designation",
    "mobileNo",
    "personalNo",
    "phoneNo",
    "status",
];

/// Every code a sign-up refusal may carry, before conflicts are checked.
const SIGNUP_CODES: &[ErrorCode] = &[
    ErrorCode::Required,
    ErrorCode::Invalid,
    ErrorCode::TooLong,
    ErrorCode::PasswordMismatch,
    ErrorCode::PasswordTooShort,
    ErrorCode::PasswordTooCommon,
    ErrorCode::PasswordTooSimilar,
    ErrorCode::PasswordEntirelyNumeric,
];

fn valid_signup() -> Value {
    serde_json::json!({
        "username": "alice", "email": "alice@example.com",
        "password": "Tr1cky-Vole-Lantern", "confirm_password": "Tr1cky-Vole-Lantern",
        "rank": "Captain", "unitname": "Signals", "designation": "Officer",
        "mobileNo": "+919876543210", "personalNo": "+919876543211", "phoneNo": "+919876543212",
    })
}

const PHONE_SIGNUP_FIELDS: &[&str] = &[
    "name",
    "phone_number",
    "state",
    "district",
    "city_village",
    "device_id",
    "device_info",
];

const LOGIN_FIELDS: &[&str] = &[
    "login",
    "username",
    "email",
    "password",
    "device_id",
    "device_info",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn signup_form(
        fields in prop_oneof![
            form(SIGNUP_FIELDS, prop_oneof![made_of(USERNAME_CHARS, 0..20), phone_like(), Just("Tr1cky-Vole-Lantern".to_owned())].boxed()),
            mutated(valid_signup(), SIGNUP_FIELDS),
        ]
    ) {
        match SignUpForm::parse(&fields) {
            Ok(form) => {
                let username = form.username.clone().expect("required by default");
                prop_assert_eq!(Username::parse(username.as_str()), Ok(username));
                prop_assert_eq!(form.email.as_str(), form.email.as_str().to_lowercase());
                prop_assert_eq!(Some(form.password.expose()), fields.get("confirm_password").and_then(Value::as_str));
            }
            Err(rejected) => {
                assert_codes_within(&rejected.errors, SIGNUP_CODES)?;
                assert_fields_within(&rejected.errors, SIGNUP_FIELDS)?;
                // The identifiers that parsed come back for the conflict check.
                prop_assert_eq!(rejected.username.is_some(), !rejected.errors.has("username"));
                prop_assert_eq!(rejected.email.is_some(), !rejected.errors.has("email"));
            }
        }
    }

    #[test]
    fn phone_signup_form(
        fields in prop_oneof![
            form(PHONE_SIGNUP_FIELDS, prop_oneof![phone_like(), made_of(USERNAME_CHARS, 0..20)].boxed()),
            mutated(serde_json::json!({"name": "Asha", "phone_number": "9876543210", "state": "Kerala",
                "device_id": "pixel-8", "device_info": {"platform": "android"}}), PHONE_SIGNUP_FIELDS),
        ],
        region in region(),
    ) {
        match PhoneSignUpForm::parse(&fields, region) {
            Ok(form) => {
                prop_assert!(!form.name.as_str().is_empty());
                prop_assert_eq!(PhoneNumber::from_e164(form.phone.as_e164()), Some(form.phone.clone()));
            }
            Err(errors) => {
                assert_codes_within(&errors, SHAPE_CODES)?;
                for field in errors.fields() {
                    prop_assert!(PHONE_SIGNUP_FIELDS.contains(&field) || field.starts_with("device_info."), "{}", field);
                }
            }
        }
    }

    #[test]
    fn login_form(
        fields in prop_oneof![
            form(LOGIN_FIELDS, prop_oneof![made_of(USERNAME_CHARS, 0..300), made_of(EMAIL_CHARS, 0..30)].boxed()),
            mutated(serde_json::json!({"login": "alice", "password": "x", "device_id": "laptop-1"}), LOGIN_FIELDS),
        ]
    ) {
        match LoginRequest::from_fields(&fields).map(LoginForm::from_request) {
            Ok(form) => {
                // Lockout keys are bounded whatever the identifier's length.
                prop_assert!(form.identifier.chars().count() <= 254 || form.identifier.starts_with("sha256:"));
                if let Some(key) = &form.username_key {
                    prop_assert_eq!(key, &key.to_lowercase());
                }
                if let Some(email) = &form.email {
                    prop_assert_eq!(Email::parse(email).map(|e| e.as_str().to_owned()), Ok(email.clone()));
                }
            }
            Err(errors) => {
                assert_codes_within(&errors, SHAPE_CODES)?;
                for field in errors.fields() {
                    prop_assert!(LOGIN_FIELDS.contains(&field) || field.starts_with("device_info."), "{}", field);
                }
            }
        }
    }
}

// -------------------------------------------------------------- HTTP input

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "application/+json",
    "application/jsonx",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    ";",
];

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|value| serde_json::to_vec(&value).expect("serialisable")),
        text().prop_map(String::into_bytes),
        // Around the size limit: an object padded with spaces.
        (MAX_BODY_BYTES - 4..MAX_BODY_BYTES + 4).prop_map(|size| {
            let mut bytes = b"{}".to_vec();
            bytes.resize(size, b' ');
            bytes
        }),
    ]
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(prop_oneof![
        3 => proptest::sample::select(CONTENT_TYPES).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ])
}

/// Alphabet of raw query strings: separators, encodings, signs, spaces.
const QUERY_CHARS: &[char] = &[
    'p', 'a', 'g', 'e', 'l', 'i', 'm', 't', '=', '&', '%', '2', '0', '1', '9', '+', '-', ';', '?',
    '/', 'F', 'C', '3', 'é', ' ',
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_body(bytes in body(), content_type in content_type(), as_text in any::<bool>()) {
        let body = match (as_text, String::from_utf8(bytes.clone())) {
            (true, Ok(text)) => Body::Text(text),
            _ => Body::Binary(bytes.clone()),
        };
        let mut request: Request = http::Request::builder()
            .method("POST")
            .uri("/auth/signup")
            .body(body)
            .expect("a request");
        if let Some(value) = content_type.and_then(|raw| HeaderValue::from_bytes(&raw).ok()) {
            request.headers_mut().insert(CONTENT_TYPE, value);
        }
        match json_object(&request) {
            Ok(map) => {
                let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_slice(&bytes).expect("accepted bodies are JSON")
                };
                prop_assert_eq!(Value::Object(map), parsed);
            }
            Err(error) => {
                let found = codes(&error.errors);
                let expected = match error.status {
                    StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::BAD_REQUEST if found.contains("invalid_json") => "invalid_json",
                    StatusCode::BAD_REQUEST => "invalid",
                    other => return Err(TestCaseError::fail(format!("unexpected status {other}"))),
                };
                prop_assert_eq!(found, BTreeSet::from([expected]));
            }
        }
    }

    #[test]
    fn page_request(
        query in prop_oneof![
            made_of(QUERY_CHARS, 0..40),
            (proptest::option::of(any::<i64>()), proptest::option::of(text()))
                .prop_map(|(page, limit)| format!("page={}&limit={}", page.unwrap_or(1), limit.unwrap_or_default())),
        ],
        parsed_by_gateway in proptest::option::of(proptest::collection::hash_map(
            proptest::sample::select(&["page", "limit", "other"][..]).prop_map(str::to_owned),
            proptest::collection::vec(text(), 0..3),
            0..3,
        )),
        items in 0usize..500,
    ) {
        // Only queries a URI can carry; the rest never reach a handler.
        let Ok(uri) = format!("/users/me/push-tokens?{query}").parse::<http::Uri>() else {
            return Ok(());
        };
        let mut request: Request = http::Request::builder().uri(uri).body(Body::Empty).expect("a request");
        if let Some(parameters) = parsed_by_gateway {
            request = request.with_query_string_parameters(HashMap::from_iter(parameters));
        }
        match PageRequest::from_request(&request) {
            Ok(page) => {
                prop_assert!(page.page >= 1 && (1..=MAX_LIMIT).contains(&page.limit));
                let all: Vec<usize> = (0..items).collect();
                let (shown, meta) = page.slice(&all);
                prop_assert!(shown.len() <= page.limit);
                prop_assert_eq!(meta.total, items);
                prop_assert_eq!(meta.has_next, page.page < meta.total_pages);
            }
            Err(error) => {
                prop_assert_eq!(error.status, StatusCode::BAD_REQUEST);
                assert_codes_within(&error.errors, &[ErrorCode::Invalid])?;
                assert_fields_within(&error.errors, &["page", "limit"])?;
            }
        }
    }
}
