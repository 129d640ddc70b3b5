//! One contract for the user store and audit log, run against every
//! adapter: the in-memory store may never be more lenient than DynamoDB.

use integration_tests::Backend;
use shared::domain::{
    AuditAction, AuditOutcome, AuditRecord, ContactNumber, Email, PasswordHash, Profile,
    ProfileText, User, UserId, UserStatus, Username,
};
use shared::ports::{Conflicts, CreateUserError};
use time::macros::datetime;
use time::OffsetDateTime;

fn user(username: &str, email: &str) -> User {
    let now = OffsetDateTime::now_utc();
    User {
        id: UserId::new_random(),
        username: Some(Username::parse(username).unwrap()),
        email: Email::parse(email).unwrap(),
        email_verified: false,
        pending_email: None,
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        ),
        status: UserStatus::Active,
        profile: Profile {
            rank: Some(ProfileText::parse("Captain", 100).unwrap()),
            unitname: Some(ProfileText::parse("Signals", 200).unwrap()),
            designation: Some(ProfileText::parse("Officer", 200).unwrap()),
            mobile_no: Some(ContactNumber::parse("+919876543210").unwrap()),
            personal_no: Some(ContactNumber::parse("+919876543211").unwrap()),
            phone_no: Some(ContactNumber::parse("+919876543212").unwrap()),
            ..Profile::default()
        },
        created_at: now,
        updated_at: now,
        last_login: None,
    }
}

fn audit_for(user: &User, at: OffsetDateTime) -> AuditRecord {
    AuditRecord {
        id: uuid::Uuid::new_v4(),
        at,
        action: AuditAction::SignUp,
        outcome: AuditOutcome::Success,
        user_id: Some(user.id),
        subject: Some(user.subject().to_owned()),
        source_ip: Some("203.0.113.9".into()),
        device_id: Some("device-1".into()),
        request_id: "req-1".into(),
        client_request_id: Some("client-1".into()),
        reasons: vec![],
        actor: None,
    }
}

async fn created_user_reads_back_identically(backend: &Backend) {
    let users = backend.stores.users();
    let alice = user("Alice", "alice@example.com");
    users
        .create(&alice, &audit_for(&alice, alice.created_at), None, &[])
        .await
        .unwrap();
    assert_eq!(users.get(alice.id).await.unwrap().as_ref(), Some(&alice));
    assert_eq!(
        users.find_by_username("alice").await.unwrap(),
        Some(alice.id)
    );
    assert_eq!(
        users.find_by_email("alice@example.com").await.unwrap(),
        Some(alice.id)
    );
    assert_eq!(users.get(UserId::new_random()).await.unwrap(), None);
    assert_eq!(users.find_by_username("bob").await.unwrap(), None);
}

async fn taken_username_conflicts_and_writes_nothing(backend: &Backend) {
    let users = backend.stores.users();
    let first = user("carol", "carol@example.com");
    users
        .create(&first, &audit_for(&first, first.created_at), None, &[])
        .await
        .unwrap();
    let second = user("CAROL", "other@example.com");
    let error = users
        .create(&second, &audit_for(&second, second.created_at), None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CreateUserError::Conflict(Conflicts {
                username: true,
                email: false
            })
        ),
        "{error:?}"
    );
    assert_eq!(users.get(second.id).await.unwrap(), None);
    assert_eq!(
        users.find_by_email("other@example.com").await.unwrap(),
        None,
        "no half-written claim"
    );
    assert_eq!(
        users.find_by_username("carol").await.unwrap(),
        Some(first.id)
    );
}

async fn taken_email_conflicts(backend: &Backend) {
    let users = backend.stores.users();
    let first = user("dave", "dave@example.com");
    users
        .create(&first, &audit_for(&first, first.created_at), None, &[])
        .await
        .unwrap();
    let second = user("david", "Dave@Example.com");
    let error = users
        .create(&second, &audit_for(&second, second.created_at), None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CreateUserError::Conflict(Conflicts {
                username: false,
                email: true
            })
        ),
        "{error:?}"
    );
    assert_eq!(
        users.find_by_username("david").await.unwrap(),
        None,
        "no half-written claim"
    );
}

async fn both_taken_are_both_named(backend: &Backend) {
    let users = backend.stores.users();
    let first = user("erin", "erin@example.com");
    users
        .create(&first, &audit_for(&first, first.created_at), None, &[])
        .await
        .unwrap();
    let again = user("Erin", "ERIN@example.com");
    let error = users
        .create(&again, &audit_for(&again, again.created_at), None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CreateUserError::Conflict(Conflicts {
                username: true,
                email: true
            })
        ),
        "{error:?}"
    );
}

async fn taken_reports_each_claim(backend: &Backend) {
    let users = backend.stores.users();
    let frank = user("frank", "frank@example.com");
    users
        .create(&frank, &audit_for(&frank, frank.created_at), None, &[])
        .await
        .unwrap();
    let check = |u: Option<&'static str>, e: Option<&'static str>| async move {
        users.taken(u, e).await.unwrap()
    };
    assert_eq!(
        check(Some("frank"), Some("frank@example.com")).await,
        Conflicts {
            username: true,
            email: true
        }
    );
    assert_eq!(
        check(Some("frank"), Some("new@example.com")).await,
        Conflicts {
            username: true,
            email: false
        }
    );
    assert_eq!(
        check(Some("newbie"), Some("frank@example.com")).await,
        Conflicts {
            username: false,
            email: true
        }
    );
    assert_eq!(check(None, None).await, Conflicts::default());
    assert_eq!(
        check(None, Some("frank@example.com")).await,
        Conflicts {
            username: false,
            email: true
        }
    );
}

async fn audit_records_by_day_in_order(backend: &Backend) {
    let audit = backend.stores.audit();
    let grace = user("grace", "grace@example.com");
    let later = audit_for(&grace, datetime!(2031-05-06 10:00:00.5 UTC));
    let earlier = audit_for(&grace, datetime!(2031-05-06 09:00 UTC));
    let next_day = audit_for(&grace, datetime!(2031-05-07 00:00 UTC));
    for record in [&later, &earlier, &next_day] {
        audit.record(record).await.unwrap();
    }
    let day = audit
        .list_day(datetime!(2031-05-06 00:00 UTC).date())
        .await
        .unwrap();
    assert_eq!(day, vec![earlier, later]);
}

async fn creation_writes_its_audit_record_and_a_conflict_does_not(backend: &Backend) {
    let at = datetime!(2032-01-01 12:00 UTC);
    let heidi = user("heidi", "heidi@example.com");
    let audit = audit_for(&heidi, at);
    backend
        .stores
        .users()
        .create(&heidi, &audit, None, &[])
        .await
        .unwrap();
    let clash = user("heidi", "heidi2@example.com");
    let clash_audit = audit_for(&clash, at);
    backend
        .stores
        .users()
        .create(&clash, &clash_audit, None, &[])
        .await
        .unwrap_err();
    let records = backend.stores.audit().list_day(at.date()).await.unwrap();
    assert_eq!(records, vec![audit]);
}

/// A login sets `last_login` without touching `updated_at`: a profile
/// update that read the user before that login must not write the old
/// value back (it is refused as stale, and the use case reads again).
async fn a_profile_update_keeps_a_login_that_happened_meanwhile(backend: &Backend) {
    let world = integration_tests::world::World::new(backend.clone());
    let id = world.sign_up("lena", "lena@example.com").await;
    let id = UserId::from_uuid(id.parse().unwrap());
    let users = backend.stores.users();
    let current = users.get(id).await.unwrap().unwrap();
    assert_eq!(current.last_login, None);
    world
        .log_in("lena", integration_tests::world::PASSWORD)
        .await;
    let mut updated = current.clone();
    updated.profile.first_name = Some(ProfileText::parse("Lena", 150).unwrap());
    updated.updated_at = current.updated_at + time::Duration::seconds(1);
    let audit = audit_for(&current, updated.updated_at);
    match users.update(&current, &updated, &audit, &[]).await {
        Ok(()) | Err(shared::ports::UpdateUserError::Stale) => {}
        Err(error) => panic!("{error:?}"),
    }
    let stored = users.get(id).await.unwrap().unwrap();
    assert!(
        stored.last_login.is_some(),
        "the login's timestamp was lost"
    );
}

integration_tests::contract_on_both_backends!(
    created_user_reads_back_identically,
    taken_username_conflicts_and_writes_nothing,
    taken_email_conflicts,
    both_taken_are_both_named,
    taken_reports_each_claim,
    audit_records_by_day_in_order,
    creation_writes_its_audit_record_and_a_conflict_does_not,
    unread_counts_stop_short_of_the_lock,
    a_profile_update_keeps_a_login_that_happened_meanwhile,
);

/// The unread count (login's lock, issue #17 item 3) on both adapters:
/// it counts while the count cannot lock, then hands over to the versioned
/// path, and what it returns is what a read shows.
async fn unread_counts_stop_short_of_the_lock(backend: &Backend) {
    use shared::domain::{LockoutPolicy, LoginThrottle, ThrottleKey};
    use shared::ports::sessions::{LoginKeys, UnreadCount};
    let sessions = backend.stores.sessions();
    let key = ThrottleKey::login_account(UserId::new_random(), None);
    let policy = LockoutPolicy::default();
    let at = OffsetDateTime::now_utc();
    let count = UnreadCount {
        key: &key,
        owner: None,
        policy,
        at,
    };
    let read = || async {
        let keys = LoginKeys {
            username_key: None,
            email: None,
            throttle: Some(&key),
            ceiling: None,
            ip_window: None,
            now: at,
        };
        sessions.lookup_login(&keys).await.unwrap().throttle
    };
    let mut expected = LoginThrottle::default();
    for _ in 1..policy.max_failures {
        let (before, after) = sessions
            .count_attempt_unread(&count)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(before, expected);
        assert_eq!(after, before.after_failure(&policy, at));
        assert_eq!(read().await, after);
        expected = after;
    }
    // The next failure locks: not without reading the lock first.
    assert_eq!(sessions.count_attempt_unread(&count).await.unwrap(), None);
    assert_eq!(read().await, expected);
    // A window that has run out restarts on the versioned path too.
    let later = UnreadCount {
        at: at + policy.window,
        ..count
    };
    assert_eq!(sessions.count_attempt_unread(&later).await.unwrap(), None);
}
