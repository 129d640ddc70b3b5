//! The `PhoneCodes` port's contract, on the in-memory store and on
//! DynamoDB Local alike: guesses counted only while the code is alive,
//! replacement, spending by hash, the session write's `Spent`.

use integration_tests::Backend;
use shared::domain::{CodePurpose, PhoneCodeKey, PhoneCodeRecord, Quota, UserId};
use shared::ports::one_time::IssueError;
use time::{Duration, OffsetDateTime};

fn record(phone_hash: &str, code_hash: &str, now: OffsetDateTime) -> PhoneCodeRecord {
    PhoneCodeRecord {
        key: PhoneCodeKey {
            phone_hash: phone_hash.into(),
            purpose: CodePurpose::Login,
        },
        code_hash: code_hash.into(),
        user_id: Some(UserId::new_random()),
        attempts: 0,
        created_at: now,
        expires_at: now + Duration::minutes(5),
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

async fn guesses_count_until_the_code_dies(backend: &Backend) {
    let codes = backend.stores.phone_codes();
    let now = OffsetDateTime::now_utc();
    let code = record(&unique("n"), "h1", now);
    codes.issue_phone_code(Some(&code), &[], &[]).await.unwrap();
    for expected in 1..=5 {
        let seen = codes.attempt_phone_code(&code.key, 5, now).await.unwrap();
        let seen = seen.expect("alive");
        assert_eq!(seen.attempts, expected);
        assert_eq!(seen.code_hash, "h1");
        assert_eq!(seen.user_id, code.user_id);
    }
    assert!(codes
        .attempt_phone_code(&code.key, 5, now)
        .await
        .unwrap()
        .is_none());
    // A new code replaces it, guesses and all.
    let fresh = record(&code.key.phone_hash, "h2", now);
    codes
        .issue_phone_code(Some(&fresh), &[], &[])
        .await
        .unwrap();
    let seen = codes.attempt_phone_code(&code.key, 5, now).await.unwrap();
    assert_eq!(
        seen.map(|c| (c.attempts, c.code_hash)),
        Some((1, "h2".into()))
    );
    // Expired on read, whatever TTL has done.
    let later = now + Duration::minutes(5);
    assert!(codes
        .attempt_phone_code(&code.key, 5, later)
        .await
        .unwrap()
        .is_none());
    // Another purpose is another code.
    let signup = PhoneCodeKey {
        purpose: CodePurpose::Signup,
        ..code.key.clone()
    };
    assert!(codes
        .attempt_phone_code(&signup, 5, now)
        .await
        .unwrap()
        .is_none());
}

async fn codes_are_spent_once_by_hash(backend: &Backend) {
    let codes = backend.stores.phone_codes();
    let now = OffsetDateTime::now_utc();
    let code = record(&unique("n"), "h1", now);
    codes.issue_phone_code(Some(&code), &[], &[]).await.unwrap();
    let other = PhoneCodeRecord {
        code_hash: "h-other".into(),
        ..code.clone()
    };
    assert!(!codes.spend_phone_code(&other).await.unwrap());
    assert!(codes.spend_phone_code(&code).await.unwrap());
    assert!(!codes.spend_phone_code(&code).await.unwrap());
    assert!(codes
        .attempt_phone_code(&code.key, 5, now)
        .await
        .unwrap()
        .is_none());
}

async fn full_windows_refuse_and_store_nothing(backend: &Backend) {
    let codes = backend.stores.phone_codes();
    let now = OffsetDateTime::now_utc();
    let quota = Quota {
        max: 1,
        window: Duration::minutes(15),
    };
    let window = quota.window_at("otp-number", &unique("w"), now);
    let first = record(&unique("n"), "h1", now);
    codes
        .issue_phone_code(Some(&first), &[], std::slice::from_ref(&window))
        .await
        .unwrap();
    let second = record(&unique("n"), "h2", now);
    let refused = codes
        .issue_phone_code(Some(&second), &[], std::slice::from_ref(&window))
        .await;
    assert!(
        matches!(refused, Err(IssueError::RateLimited(0))),
        "{refused:?}"
    );
    assert!(codes
        .attempt_phone_code(&second.key, 5, now)
        .await
        .unwrap()
        .is_none());
    // Nothing to store still counts, and is refused alike.
    let refused = codes
        .issue_phone_code(None, &[], std::slice::from_ref(&window))
        .await;
    assert!(matches!(refused, Err(IssueError::RateLimited(0))));
}

integration_tests::contract_on_both_backends!(
    guesses_count_until_the_code_dies,
    codes_are_spent_once_by_hash,
    full_windows_refuse_and_store_nothing,
);
