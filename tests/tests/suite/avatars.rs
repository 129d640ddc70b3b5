//! Avatars (#19): the upload form, the processor's verdict by the bytes,
//! `avatar_url`, removal, ownership and erasure with the account. On both
//! stores with the local stand-in bucket, and on S3 (moto) with real
//! form posts.

use std::sync::Arc;

use integration_tests::images::{self, contains, SECRET};
use integration_tests::world::{Tokens, World, PASSWORD};
use integration_tests::Backend;
use serde_json::{json, Value};
use shared::domain::avatar::user_prefixes;
use shared::domain::UserId;

async fn member(world: &World, name: &str) -> (UserId, Tokens) {
    let id = world.sign_up(name, &format!("{name}@example.com")).await;
    let tokens = world.log_in(name, PASSWORD).await;
    (UserId::from_uuid(id.parse().unwrap()), tokens)
}

fn form_fields(reply: &Value) -> Vec<(String, String)> {
    reply["data"]["upload"]["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

async fn ask_form(world: &World, tokens: &Tokens, content_type: &str, size: usize) -> Value {
    let reply = world
        .call(
            "POST",
            "/users/me/avatar",
            Some(&json!({"content_type": content_type, "size": size})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

/// Asks for a form and posts `file` to the local bucket with it.
async fn upload_locally(
    world: &World,
    tokens: &Tokens,
    content_type: &str,
    file: &[u8],
) -> Result<String, local_api::bucket::Refusal> {
    let form = ask_form(world, tokens, content_type, file.len()).await;
    world
        .app
        .receive_upload(&form_fields(&form), file.to_vec())
        .await
}

async fn avatar(world: &World, tokens: &Tokens) -> Value {
    let reply = world
        .call("GET", "/users/me/avatar", None, Some(&tokens.access))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// The bytes a presigned link of the local bucket serves.
async fn fetch_locally(world: &World, url: &str) -> Option<Vec<u8>> {
    let (path, query) = url.split_once('?').expect("a presigned link");
    let key = path
        .split_once(shared::app::LOCAL_BUCKET_PATH)
        .expect("the local bucket")
        .1
        .trim_start_matches('/');
    world.app.presigned_object(key, query).await
}

fn assert_clean(bytes: &[u8], content_type: &str) {
    assert!(!contains(bytes, SECRET.as_bytes()), "metadata survived");
    let decoded = image::load_from_memory(bytes).expect("a stored avatar decodes");
    assert_eq!((decoded.width(), decoded.height()), (96, 64));
    let format = image::guess_format(bytes).unwrap();
    assert_eq!(format.to_mime_type(), content_type);
}

async fn png_jpeg_and_webp_become_the_avatar_without_their_metadata(world: World) {
    let (_, tokens) = member(&world, "ada").await;
    assert_eq!(avatar(&world, &tokens).await, json!({"status": "none"}));
    let me = world.me(&tokens.access).await;
    assert_eq!(me.body["data"]["user"]["avatar_url"], Value::Null);
    for (content_type, file) in [
        ("image/png", images::png(96, 64)),
        ("image/jpeg", images::jpeg(96, 64)),
        ("image/webp", images::webp(96, 64)),
    ] {
        assert!(contains(&file, SECRET.as_bytes()));
        let form = ask_form(&world, &tokens, content_type, file.len()).await;
        let upload = &form["data"]["upload"];
        assert_eq!(form["data"]["max_bytes"], file.len());
        assert_eq!(upload["expires_in"], 600);
        assert!(upload["url"].as_str().unwrap().ends_with("/_local/bucket"));
        let fields = &upload["fields"];
        assert_eq!(fields["Content-Type"], content_type);
        assert!(fields["key"].as_str().unwrap().starts_with("uploads/"));
        for name in [
            "policy",
            "x-amz-signature",
            "x-amz-credential",
            "x-amz-date",
        ] {
            assert!(fields[name].is_string(), "{name} in {form}");
        }
        assert_eq!(avatar(&world, &tokens).await["status"], "processing");

        world
            .app
            .receive_upload(&form_fields(&form), file)
            .await
            .expect("the bucket takes the upload");
        let state = avatar(&world, &tokens).await;
        assert_eq!(state["status"], "ready", "{content_type}: {state}");
        let url = state["url"].as_str().unwrap();
        let stored = fetch_locally(&world, url).await.expect("the link works");
        assert_clean(&stored, content_type);

        let me = world.me(&tokens.access).await;
        let avatar_url = me.body["data"]["user"]["avatar_url"].as_str().unwrap();
        assert_eq!(fetch_locally(&world, avatar_url).await.unwrap(), stored);
    }
    // One avatar at a time: the earlier images and every upload are gone.
    let user = world.backend.stores.objects.list("").await.unwrap();
    assert_eq!(user.len(), 1, "{user:?}");
    assert!(user[0].ends_with(".webp"));
}

async fn what_is_not_an_image_is_rejected_as_unsupported_file(world: World) {
    let (id, tokens) = member(&world, "mallory").await;
    let whole = images::png(96, 64);
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "text named .png",
            b"just words, whatever the name avatar.png says\n".to_vec(),
        ),
        ("truncated", whole[..whole.len() / 2].to_vec()),
        ("bomb", images::bomb(100_000, 100_000)),
        ("over the pixel limit", images::bomb(8_000, 8_000)),
    ];
    for (case, file) in cases {
        upload_locally(&world, &tokens, "image/png", &file)
            .await
            .expect("the bucket takes any bytes within the policy");
        let state = avatar(&world, &tokens).await;
        assert_eq!(
            state,
            json!({"status": "rejected", "error": "unsupported_file"}),
            "{case}"
        );
        let me = world.me(&tokens.access).await;
        assert_eq!(me.body["data"]["user"]["avatar_url"], Value::Null);
        // The rejected upload is not kept.
        for prefix in user_prefixes(id) {
            assert!(world
                .backend
                .stores
                .objects
                .list(&prefix)
                .await
                .unwrap()
                .is_empty());
        }
    }
}

async fn the_form_binds_size_type_and_key(world: World) {
    let (_, tokens) = member(&world, "bob").await;
    let file = images::png(96, 64);
    let form = ask_form(&world, &tokens, "image/png", file.len()).await;
    let fields = form_fields(&form);
    let app = &world.app;

    let mut larger = file.clone();
    larger.push(0);
    let refused = app.receive_upload(&fields, larger).await.unwrap_err();
    assert_eq!(refused.code, "EntityTooLarge");

    let with = |name: &str, value: &str| {
        let mut changed = fields.clone();
        changed.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_owned();
        changed
    };
    for (name, value) in [
        ("Content-Type", "text/html"),
        ("key", "avatars/someone-else/evil.png"),
        ("x-amz-date", "20200101T000000Z"),
    ] {
        let refused = app
            .receive_upload(&with(name, value), file.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code, "AccessDenied", "{name}");
    }
    let refused = app
        .receive_upload(&with("policy", "e30="), file.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "AccessDenied");
    app.receive_upload(&fields, file)
        .await
        .expect("the form as issued");

    // Requests the route refuses.
    for body in [
        json!({"content_type": "image/gif", "size": 10}),
        json!({"content_type": "image/png", "size": 5 * 1024 * 1024 + 1}),
        json!({"content_type": "image/png"}),
    ] {
        let reply = world
            .call(
                "POST",
                "/users/me/avatar",
                Some(&body),
                Some(&tokens.access),
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
    }
    let anonymous = world
        .call(
            "POST",
            "/users/me/avatar",
            Some(&json!({"content_type": "image/png", "size": 10})),
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn another_users_avatar_is_untouchable(world: World) {
    let (alice_id, alice) = member(&world, "alice").await;
    let (_, eve) = member(&world, "eve").await;
    upload_locally(&world, &alice, "image/png", &images::png(96, 64))
        .await
        .unwrap();
    let url = avatar(&world, &alice).await["url"]
        .as_str()
        .unwrap()
        .to_owned();

    // Eve's own form cannot write to Alice's keys.
    let file = images::png(96, 64);
    let form = ask_form(&world, &eve, "image/png", file.len()).await;
    let mut fields = form_fields(&form);
    let alice_key = format!("uploads/{alice_id}/{}", "0".repeat(32));
    fields.iter_mut().find(|(n, _)| n == "key").unwrap().1 = alice_key;
    assert_eq!(
        world
            .app
            .receive_upload(&fields, file)
            .await
            .unwrap_err()
            .code,
        "AccessDenied"
    );
    // Eve's routes are about Eve alone.
    assert_eq!(avatar(&world, &eve).await["status"], "processing");
    let removed = world
        .call("DELETE", "/users/me/avatar", None, Some(&eve.access))
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(avatar(&world, &alice).await["status"], "ready");
    assert!(fetch_locally(&world, &url).await.is_some());
    // A link for another key, or altered, reads nothing.
    let forged = url.replace(
        &alice_id.to_string(),
        &UserId::from_uuid(uuid::Uuid::new_v4()).to_string(),
    );
    assert!(fetch_locally(&world, &forged).await.is_none());

    // Alice removes hers: status none, files gone.
    let removed = world
        .call("DELETE", "/users/me/avatar", None, Some(&alice.access))
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(avatar(&world, &alice).await, json!({"status": "none"}));
    assert!(fetch_locally(&world, &url).await.is_none());
}

async fn deleting_the_account_removes_its_avatar_files(world: World) {
    let (id, tokens) = member(&world, "della").await;
    let (other_id, other) = member(&world, "otto").await;
    upload_locally(&world, &tokens, "image/jpeg", &images::jpeg(96, 64))
        .await
        .unwrap();
    upload_locally(&world, &other, "image/png", &images::png(96, 64))
        .await
        .unwrap();
    // An upload that was never processed stays under uploads/ too.
    let form = ask_form(&world, &tokens, "image/png", 10).await;
    let pending = form["data"]["upload"]["fields"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    world
        .backend
        .stores
        .objects
        .put(&pending, b"0123456789".to_vec(), "image/png")
        .await
        .unwrap();
    let reply = world
        .call(
            "DELETE",
            "/users/me",
            Some(&json!({"password": PASSWORD})),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    world.app.settle().await;
    for prefix in user_prefixes(id) {
        assert!(
            world
                .backend
                .stores
                .objects
                .list(&prefix)
                .await
                .unwrap()
                .is_empty(),
            "{prefix}"
        );
    }
    assert!(world
        .backend
        .stores
        .avatars()
        .avatar(id)
        .await
        .unwrap()
        .is_none());
    // The other account keeps its avatar.
    assert_eq!(
        world
            .backend
            .stores
            .objects
            .list(&user_prefixes(other_id)[1])
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A form that is never used leaves the avatar `processing` only until the
/// form and the processor's retries are surely over; then it reads `none`,
/// and a new upload works as usual.
async fn an_abandoned_upload_reads_as_none(world: World) {
    let (_, tokens) = member(&world, "walter").await;
    ask_form(&world, &tokens, "image/png", 1_000).await;
    assert_eq!(
        avatar(&world, &tokens).await,
        json!({"status": "processing"})
    );
    let waited = time::Duration::try_from(shared::usecases::avatars::ABANDONED_AFTER).unwrap();
    world.clock.advance(waited);
    // Access tokens live less than that: sign in again on the moved clock.
    let tokens = world.log_in("walter", PASSWORD).await;
    assert_eq!(
        avatar(&world, &tokens).await,
        json!({"status": "processing"})
    );
    world.clock.advance(time::Duration::seconds(1));
    assert_eq!(avatar(&world, &tokens).await, json!({"status": "none"}));

    upload_locally(&world, &tokens, "image/png", &images::png(96, 64))
        .await
        .expect("a new form works");
    assert_eq!(avatar(&world, &tokens).await["status"], "ready");
}

integration_tests::on_both_backends!(
    an_abandoned_upload_reads_as_none,
    png_jpeg_and_webp_become_the_avatar_without_their_metadata,
    what_is_not_an_image_is_rejected_as_unsupported_file,
    the_form_binds_size_type_and_key,
    another_users_avatar_is_untouchable,
    deleting_the_account_removes_its_avatar_files,
);

/// Through the local server's own routes: the form is posted over HTTP to
/// the URL the API handed out, and the link is fetched the same way.
#[tokio::test]
async fn the_local_server_takes_the_upload_and_serves_the_link() {
    let base = integration_tests::start_local_server(&Backend::memory()).await;
    let http = reqwest::Client::new();
    let signup = integration_tests::requests::signup_body("lou", "lou@example.com", json!({}));
    let created = http
        .post(format!("{base}/auth/signup/"))
        .json(&signup)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"login": "lou", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["data"]["access_token"].as_str().unwrap();
    let file = images::webp(96, 64);
    let form: Value = http
        .post(format!("{base}/users/me/avatar"))
        .bearer_auth(access)
        .json(&json!({"content_type": "image/webp", "size": file.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The test server has no PUBLIC_BASE_URL: the path is the local bucket's.
    let url = form["data"]["upload"]["url"].as_str().unwrap();
    let path = &url[url.find(shared::app::LOCAL_BUCKET_PATH).unwrap()..];
    let (content_type, body) = images::form(&form_fields(&form), &file);
    let posted = http
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 204, "{}", posted.text().await.unwrap());
    let me: Value = http
        .get(format!("{base}/users/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = me["data"]["user"]["avatar_url"]
        .as_str()
        .expect("avatar_url");
    let link = &link[link.find(shared::app::LOCAL_BUCKET_PATH).unwrap()..];
    let image = http.get(format!("{base}{link}")).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/webp");
    assert_clean(&image.bytes().await.unwrap(), "image/webp");
    let tampered = http
        .get(format!(
            "{base}{}",
            link.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 403);
}

mod s3 {
    //! The same flow on S3 (moto): the form is POSTed to moto's bucket
    //! over HTTP, the processor runs on the S3 event sample, the link is
    //! read from moto.

    use super::*;
    use shared::adapters::bucket_signer::BucketSigner;
    use shared::adapters::s3::S3Objects;

    pub(super) fn client() -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(integration_tests::moto::endpoint())
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A bucket of its own on moto, and a world over it.
    async fn world_on_s3(backend: Backend) -> (World, String) {
        let bucket = format!("avatars-{}", uuid::Uuid::new_v4().simple());
        let client = client();
        client
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket on moto");
        let credentials = aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
        );
        let signer = Arc::new(BucketSigner::new(
            &bucket,
            Some(&integration_tests::moto::endpoint()),
            "us-east-1",
            credentials,
        ));
        let objects = Arc::new(S3Objects::new(client, bucket.clone()));
        (World::with_bucket(backend, objects, signer), bucket)
    }

    /// S3's event for `key`, from the sample the template's trigger sends.
    fn s3_event(bucket: &str, key: &str) -> aws_lambda_events::event::s3::S3Event {
        let path = crate::routes_and_events::workspace_file("events/avatar-processor-s3.json");
        let (user, upload) = key
            .strip_prefix("uploads/")
            .and_then(|rest| rest.split_once('/'))
            .expect("an upload key");
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("USER_ID", user)
            .replace("UPLOAD_ID", upload)
            .replace("users-avatars-123456789012-us-east-1", bucket);
        serde_json::from_str(&text).expect("an S3 event")
    }

    async fn post_form(form: &Value, file: &[u8]) -> reqwest::Response {
        let (content_type, body) = images::form(&form_fields(form), file);
        reqwest::Client::new()
            .post(form["data"]["upload"]["url"].as_str().unwrap())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn uploads_to_s3_are_processed_and_served(backend: Backend) {
        let (world, bucket) = world_on_s3(backend).await;
        let (id, tokens) = member(&world, "sam").await;
        let processor = avatar_processor::State {
            stores: world.backend.stores.clone(),
        };
        for (content_type, file) in [
            ("image/png", images::png(96, 64)),
            ("image/jpeg", images::jpeg(96, 64)),
            ("image/webp", images::webp(96, 64)),
            ("image/png", b"not an image at all".to_vec()),
        ] {
            let form = ask_form(&world, &tokens, content_type, file.len()).await;
            let url = form["data"]["upload"]["url"].as_str().unwrap();
            assert!(url.ends_with(&bucket), "{url}");
            let posted = post_form(&form, &file).await;
            assert!(posted.status().is_success(), "{}", posted.status());
            let key = form["data"]["upload"]["fields"]["key"].as_str().unwrap();
            avatar_processor::handle(&processor, s3_event(&bucket, key))
                .await
                .expect("processed");
            let state = avatar(&world, &tokens).await;
            if file.starts_with(b"not") {
                assert_eq!(
                    state,
                    json!({"status": "rejected", "error": "unsupported_file"})
                );
                continue;
            }
            assert_eq!(state["status"], "ready", "{state}");
            let link = state["url"].as_str().unwrap();
            assert!(link.contains("X-Amz-Signature="), "{link}");
            let served = reqwest::get(link).await.unwrap();
            assert_eq!(served.status(), 200);
            assert_clean(&served.bytes().await.unwrap(), content_type);
        }
        // Only the processed upload's image is left, nothing under uploads/.
        let objects = world.backend.stores.objects.list("").await.unwrap();
        assert!(
            objects.is_empty(),
            "the rejected upload removed the rest: {objects:?}"
        );
        let _ = id;
    }

    /// moto 5.2.5 stores a POSTed object without checking the form's
    /// policy (moto/s3/responses.py `_bucket_response_post`), so the
    /// policy's refusal itself is tested against the local bucket, which
    /// checks it as S3 documents (`the_form_binds_size_type_and_key`).
    /// Here: the policy the form carries names the bound S3 enforces.
    async fn the_s3_form_carries_its_bounds_in_the_policy(backend: Backend) {
        let (world, _) = world_on_s3(backend).await;
        let (id, tokens) = member(&world, "pat").await;
        let form = ask_form(&world, &tokens, "image/png", 1234).await;
        let policy = form["data"]["upload"]["fields"]["policy"].as_str().unwrap();
        use base64::Engine;
        let policy: Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(policy)
                .unwrap(),
        )
        .unwrap();
        let conditions = policy["conditions"].as_array().unwrap();
        assert!(
            conditions.contains(&json!(["content-length-range", 1, 1234])),
            "{policy}"
        );
        assert!(
            conditions.contains(&json!({"Content-Type": "image/png"})),
            "{policy}"
        );
        let key = form["data"]["upload"]["fields"]["key"].as_str().unwrap();
        assert!(key.starts_with(&format!("uploads/{id}/")));
        assert!(conditions.contains(&json!({"key": key})), "{policy}");
    }

    async fn deleting_the_account_empties_its_s3_prefixes(backend: Backend) {
        let (world, bucket) = world_on_s3(backend).await;
        let (id, tokens) = member(&world, "dora").await;
        let processor = avatar_processor::State {
            stores: world.backend.stores.clone(),
        };
        let file = images::png(96, 64);
        let form = ask_form(&world, &tokens, "image/png", file.len()).await;
        assert!(post_form(&form, &file).await.status().is_success());
        let key = form["data"]["upload"]["fields"]["key"].as_str().unwrap();
        avatar_processor::handle(&processor, s3_event(&bucket, key))
            .await
            .unwrap();
        assert_eq!(
            world
                .backend
                .stores
                .objects
                .list(&user_prefixes(id)[1])
                .await
                .unwrap()
                .len(),
            1
        );
        let reply = world
            .call(
                "DELETE",
                "/users/me",
                Some(&json!({"password": PASSWORD})),
                Some(&tokens.access),
            )
            .await;
        assert_eq!(reply.status, 202);
        world.app.settle().await;
        for prefix in user_prefixes(id) {
            assert!(world
                .backend
                .stores
                .objects
                .list(&prefix)
                .await
                .unwrap()
                .is_empty());
        }
    }

    mod memory {
        #[tokio::test]
        async fn uploads_to_s3_are_processed_and_served() {
            super::uploads_to_s3_are_processed_and_served(super::Backend::memory()).await;
        }
        #[tokio::test]
        async fn the_s3_form_carries_its_bounds_in_the_policy() {
            super::the_s3_form_carries_its_bounds_in_the_policy(super::Backend::memory()).await;
        }
        #[tokio::test]
        async fn deleting_the_account_empties_its_s3_prefixes() {
            super::deleting_the_account_empties_its_s3_prefixes(super::Backend::memory()).await;
        }
    }

    mod dynamodb {
        #[tokio::test]
        async fn uploads_to_s3_are_processed_and_served() {
            super::uploads_to_s3_are_processed_and_served(super::Backend::dynamo().await).await;
        }
        #[tokio::test]
        async fn deleting_the_account_empties_its_s3_prefixes() {
            super::deleting_the_account_empties_its_s3_prefixes(super::Backend::dynamo().await)
                .await;
        }
    }
}

/// The bucket port's contract, on every adapter: memory, a folder, S3.
async fn object_store_contract(objects: &dyn shared::ports::avatars::ObjectStore) {
    let user = uuid::Uuid::new_v4();
    let a = format!("avatars/{user}/a.png");
    let b = format!("avatars/{user}/b.png");
    let upload = format!("uploads/{user}/{}", "f".repeat(32));
    assert_eq!(objects.get(&a).await.unwrap(), None);
    objects.put(&a, b"one".to_vec(), "image/png").await.unwrap();
    objects.put(&b, b"two".to_vec(), "image/png").await.unwrap();
    objects
        .put(&upload, b"three".to_vec(), "image/png")
        .await
        .unwrap();
    assert_eq!(objects.get(&a).await.unwrap().as_deref(), Some(&b"one"[..]));
    objects.put(&a, b"uno".to_vec(), "image/png").await.unwrap();
    assert_eq!(objects.get(&a).await.unwrap().as_deref(), Some(&b"uno"[..]));
    assert_eq!(
        objects.list(&format!("avatars/{user}/")).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    objects.delete(&b).await.unwrap();
    objects.delete(&b).await.unwrap(); // absent: no error
    assert_eq!(objects.get(&b).await.unwrap(), None);
    objects
        .delete_prefix(&format!("avatars/{user}/"))
        .await
        .unwrap();
    assert!(objects
        .list(&format!("avatars/{user}/"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        objects.list(&format!("uploads/{user}/")).await.unwrap(),
        vec![upload]
    );
}

#[tokio::test]
async fn every_bucket_adapter_keeps_the_same_contract() {
    use shared::ports::avatars::ObjectStore;
    object_store_contract(&shared::adapters::objects::MemoryObjects::default()).await;
    let folder = std::env::temp_dir().join(format!("avatars-contract-{}", uuid::Uuid::new_v4()));
    let objects = shared::adapters::objects::FolderObjects::new(&folder);
    object_store_contract(&objects).await;
    // The folder refuses keys that would leave it.
    assert!(objects
        .put("../escape", b"x".to_vec(), "image/png")
        .await
        .is_err());
    assert!(objects.get("avatars/../../etc/passwd").await.is_err());
    let _ = std::fs::remove_dir_all(folder);

    let bucket = format!("contract-{}", uuid::Uuid::new_v4().simple());
    let client = s3::client();
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    object_store_contract(&shared::adapters::s3::S3Objects::new(client, bucket)).await;
}

/// Only the processor links the image decoders (the local server runs the
/// processor, and the tests make images): no other function does.
#[test]
fn only_the_processor_links_image() {
    let functions = crate::routes_and_events::workspace_file("functions");
    for entry in std::fs::read_dir(functions).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let links_image = manifest
            .lines()
            .any(|line| line.trim_start().starts_with("image"));
        assert_eq!(
            links_image,
            name == "avatar-processor",
            "{name}: only avatar-processor may depend on image"
        );
    }
    let shared = std::fs::read_to_string(crate::routes_and_events::workspace_file(
        "shared/Cargo.toml",
    ))
    .unwrap();
    assert!(!shared
        .lines()
        .any(|line| line.trim_start().starts_with("image")));
    let workspace =
        std::fs::read_to_string(crate::routes_and_events::workspace_file("Cargo.toml")).unwrap();
    let image = workspace
        .lines()
        .find(|line| line.starts_with("image ="))
        .expect("the workspace pins image");
    assert!(image.contains("default-features = false"), "{image}");
    assert!(
        image.contains(r#"features = ["png", "jpeg", "webp"]"#),
        "{image}"
    );
}
