//! The scheduled key rotation against Secrets Manager (on moto), on a
//! clock the test moves: a pending key when the signer is old, nothing
//! while it waits, the old key pruned once its tokens have expired; and
//! a key ring reading the same secret signs with the new key only from its
//! activation.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use integration_tests::moto::{create_secret, secrets_client};
use shared::adapters::secretsmanager::SecretsManagerSource;
use shared::ports::{Clock, ManualClock};
use shared::session_tokens::{ExposeSecret, KeyAlgorithm, KeyRing, KeySet, KeyState};
use shared::usecases::key_rotation::RotationPolicy;
use time::{Duration, OffsetDateTime};

fn sample() -> EventBridgeEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/key-rotation-schedule.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("schedule event")
}

#[tokio::test]
async fn the_schedule_adds_then_prunes_and_signers_follow() {
    let client = secrets_client();
    let start = OffsetDateTime::now_utc() - Duration::days(100);
    let first = KeySet::generate_with(KeyAlgorithm::EdDsa, start);
    let old = first.latest().kid().to_owned();
    let secret_id =
        create_secret(&client, "rotation", first.to_secret_json().expose_secret()).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let policy = RotationPolicy {
        algorithm: KeyAlgorithm::Es256,
        ..RotationPolicy::default()
    };
    let state = key_rotation::State {
        secrets: Arc::new(SecretsManagerSource::new(client.clone())),
        secret_id: secret_id.clone(),
        clock: clock.clone(),
        policy,
    };
    let read = || async {
        let value = client
            .get_secret_value()
            .secret_id(&secret_id)
            .send()
            .await
            .unwrap()
            .secret_string
            .unwrap();
        KeySet::parse(&value).unwrap()
    };

    let report = key_rotation::handle(&state, sample()).await.unwrap();
    let added = report.added.expect("a 100-day-old signer gets a successor");
    let now = clock.now();
    let keys = read().await;
    assert_eq!(keys.state_at(&added, now), Some(KeyState::Pending));
    assert_eq!(keys.find(&added).unwrap().algorithm(), KeyAlgorithm::Es256);

    // Running again while it waits writes nothing.
    let versions = || async {
        client
            .list_secret_version_ids()
            .secret_id(&secret_id)
            .send()
            .await
            .unwrap()
            .versions
            .unwrap_or_default()
            .len()
    };
    let before = versions().await;
    clock.advance(Duration::minutes(30));
    assert_eq!(
        key_rotation::handle(&state, sample()).await.unwrap(),
        Default::default()
    );
    assert_eq!(versions().await, before);

    // A ring on the secret signs with the old key until the activation.
    let ring = KeyRing::new(
        Arc::new(SecretsManagerSource::new(client.clone())),
        &secret_id,
        std::time::Duration::ZERO,
    );
    let loaded = ring.current().await.unwrap();
    assert_eq!(loaded.signer_at(clock.now()).unwrap().kid(), old);
    let activation = now + policy.publish;
    assert_eq!(loaded.signer_at(activation).unwrap().kid(), added);

    // Pruned only once the retention has passed after the switch.
    clock.advance(activation + policy.retention - Duration::SECOND - clock.now());
    key_rotation::handle(&state, sample()).await.unwrap();
    assert_eq!(read().await.keys().len(), 2);
    clock.advance(Duration::SECOND);
    let report = key_rotation::handle(&state, sample()).await.unwrap();
    assert_eq!(report.removed, [old]);
    let keys = read().await;
    assert_eq!(keys.keys().len(), 1);
    assert_eq!(keys.latest().kid(), added);
}
