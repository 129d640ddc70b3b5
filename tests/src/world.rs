//! A whole local app over one backend, on a clock the test moves: for
//! session tests that span sign-up, login, refresh and expiry.

use std::sync::Arc;

use http::HeaderMap;
use lambda_http::Body;
use serde_json::{json, Value};
use shared::background::Queues;
use shared::ports::ManualClock;
use shared::session_tokens::keyring::KeyRing;
use shared::session_tokens::keyset::KeySet;
use shared::usecases::task_runner::TaskRunner;
use time::OffsetDateTime;

use crate::requests::{read_any, request_from, signup_body, SOURCE_IP};
use crate::{default_config, Backend};

pub const PASSWORD: &str = "Tr1cky-Vole-Lantern";

pub struct World {
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub app: local_api::LocalApp,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl World {
    pub fn new(backend: Backend) -> Self {
        let ring = Arc::new(KeyRing::fixed(KeySet::generate(OffsetDateTime::now_utc())));
        Self::with_ring(backend, ring)
    }

    pub fn with_ring(backend: Backend, ring: Arc<KeyRing>) -> Self {
        Self::build(backend, ring, default_config(), None)
    }

    /// With these keys and this configuration.
    pub fn with_config(
        backend: Backend,
        ring: Arc<KeyRing>,
        config: shared::config::Config,
    ) -> Self {
        Self::build(backend, ring, config, None)
    }

    /// With these queues and task runner instead of in-process queues and
    /// the standard tasks, and this configuration.
    pub fn with_background(
        backend: Backend,
        config: shared::config::Config,
        queues: Option<Queues>,
        runner: Arc<dyn TaskRunner>,
    ) -> Self {
        let ring = Arc::new(KeyRing::fixed(KeySet::generate(OffsetDateTime::now_utc())));
        Self::build_with(backend, ring, config, queues, Some(runner))
    }

    /// Over this bucket, its forms and links signed by `signer` (S3 on
    /// moto; the default is the local stand-in bucket over memory).
    pub fn with_bucket(
        mut backend: Backend,
        objects: Arc<dyn shared::ports::avatars::ObjectStore>,
        signer: Arc<shared::adapters::bucket_signer::BucketSigner>,
    ) -> Self {
        let config = default_config();
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        backend.stores = backend
            .stores
            .clone()
            .with_clock(clock.clone())
            .with_objects(objects);
        let ring = Arc::new(KeyRing::fixed(KeySet::generate(OffsetDateTime::now_utc())));
        let app = local_api::LocalApp::assemble(
            &backend.stores,
            &config,
            ring,
            Queues::memory(config.task_max_receives),
            shared::app::task_runner(&backend.stores),
            local_api::admin_token::AdminToken::random(),
            signer,
        )
        .expect("valid app");
        Self {
            backend,
            clock,
            app,
        }
    }

    fn build(
        backend: Backend,
        ring: Arc<KeyRing>,
        config: shared::config::Config,
        queues: Option<Queues>,
    ) -> Self {
        Self::build_with(backend, ring, config, queues, None)
    }

    fn build_with(
        mut backend: Backend,
        ring: Arc<KeyRing>,
        config: shared::config::Config,
        queues: Option<Queues>,
        runner: Option<Arc<dyn TaskRunner>>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        backend.stores = backend.stores.clone().with_clock(clock.clone());
        // The runner of a deployment (account tasks included), on this clock.
        let runner = runner.unwrap_or_else(|| shared::app::task_runner(&backend.stores));
        let queues = queues.unwrap_or_else(|| Queues::memory(config.task_max_receives));
        let app =
            local_api::LocalApp::with_background(&backend.stores, &config, ring, queues, runner)
                .expect("valid app");
        Self {
            backend,
            clock,
            app,
        }
    }

    pub async fn call_from(
        &self,
        ip: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
    ) -> Reply {
        let (content_type, payload) = match body {
            Some(body) => (Some("application/json"), Body::from(body.to_string())),
            None => (None, Body::Empty),
        };
        let mut request = request_from(ip, method, path, content_type, payload);
        if let Some(token) = bearer {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("header"),
            );
        }
        let response = self.app.dispatch(request).await;
        let (status, body) = read_any(&response);
        Reply {
            status,
            body,
            headers: response.headers().clone(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        bearer: Option<&str>,
    ) -> Reply {
        self.call_from(SOURCE_IP, method, path, body, bearer).await
    }

    pub async fn sign_up(&self, username: &str, email: &str) -> String {
        let reply = self
            .call(
                "POST",
                "/auth/signup/",
                Some(&signup_body(username, email, json!({}))),
                None,
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["data"]["user"]["userId"]
            .as_str()
            .expect("user id")
            .to_owned()
    }

    pub async fn log_in_with(&self, body: Value) -> Reply {
        self.call("POST", "/auth/login", Some(&body), None).await
    }

    pub async fn log_in(&self, login: &str, password: &str) -> Tokens {
        let reply = self
            .log_in_with(json!({"login": login, "password": password}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        tokens(&reply.body)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.call(
            "POST",
            "/auth/token/refresh",
            Some(&json!({ "refresh_token": refresh_token })),
            None,
        )
        .await
    }

    pub async fn me(&self, access: &str) -> Reply {
        self.call("GET", "/users/me", None, Some(access)).await
    }
}

pub fn tokens(body: &Value) -> Tokens {
    Tokens {
        access: body["data"]["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
        refresh: body["data"]["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_owned(),
    }
}
