//! `cargo run -p local-api`: every route on http://127.0.0.1:3000.

use std::sync::Arc;

use shared::app::Stores;
use shared::config::{Config, StorageKind};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    let addr = std::env::var("LOCAL_API_ADDR").unwrap_or_else(|_| {
        let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
        format!("127.0.0.1:{port}")
    });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    // The server's own address is its public base URL unless one is set:
    // the tokens' issuer and the discovery document name it.
    let config = Config::from_lookup(|name| {
        std::env::var(name)
            .ok()
            .or_else(|| (name == "PUBLIC_BASE_URL").then(|| url.clone()))
    })?;
    let stores = Stores::from_config(&config).await?;
    let ring = shared::app::key_ring(&config).await?;
    let queues = shared::background::Queues::from_config(&config).await?;
    let runner = shared::app::task_runner(&stores);
    // Avatars: the local bucket (files under AVATAR_DIR or a temporary
    // folder), or S3 when AVATAR_BUCKET names one.
    let signer = shared::app::bucket_signer(&config).await?;
    let app = Arc::new(local_api::LocalApp::assemble(
        &stores,
        &config,
        ring,
        queues,
        runner,
        local_api::admin_token::AdminToken::from_env(),
        signer,
    )?);
    // The outbox relay and both queue workers, in this process, unless
    // LOCAL_BACKGROUND=off: the cold-start harness uses this server only to
    // hand out accounts and tokens, and the relay's polling of a moto table
    // would take CPU from the functions it times.
    if !matches!(
        std::env::var("LOCAL_BACKGROUND").as_deref(),
        Ok("off" | "false" | "0")
    ) {
        app.spawn_background();
    }
    let storage = match config.storage {
        StorageKind::Memory => "in-memory storage (data is lost on exit)".to_owned(),
        StorageKind::DynamoDb => format!("DynamoDB table {}", config.table_name),
    };
    println!("User service listening on {url} with {storage}");
    println!("Pages for people (sign up, sign in, your account): {url}/ui/");
    println!("Try:");
    println!(
        "  curl -s -X POST {url}/auth/signup/ -H 'content-type: application/json' -d \
         '{{\"username\":\"alice\",\"email\":\"alice@example.com\",\"password\":\"Tr1cky-Vole-Lantern\",\
         \"confirm_password\":\"Tr1cky-Vole-Lantern\",\"rank\":\"Captain\",\"unitname\":\"Signals\",\
         \"designation\":\"Officer\",\"mobileNo\":\"+919876543210\",\"personalNo\":\"+919876543211\",\
         \"phoneNo\":\"+919876543212\"}}'"
    );
    println!("  curl -s {url}/health");
    if let shared::config::AvatarStorage::Folder(folder) = &config.avatars {
        println!(
            "Avatar uploads go to {url}{} and are kept in {}",
            shared::app::LOCAL_BUCKET_PATH,
            folder.display()
        );
    }
    println!(
        "Emails (confirmation and reset links) and texted codes land in {url}{}",
        local_api::LOCAL_OUTBOX_PATH
    );
    if app.local_checkout.is_some() {
        println!(
            "No STRIPE_API_KEY: POST /billing/checkout answers a local pay page under {url}{}/…",
            shared::adapters::local_checkout::LOCAL_CHECKOUT_PATH
        );
    }
    // A random token is printed once, for the operator at this terminal
    // (stdout, not the log): the `/admin/` routes and `cargo run -p admin`
    // take it. One set in ADMIN_TOKEN is the operator's own already.
    if app.admin_token.generated() {
        println!(
            "Admin token (Authorization: Bearer …): {}",
            app.admin_token.expose()
        );
    } else {
        println!("Admin token: the one in ADMIN_TOKEN");
    }
    println!("  ADMIN_TOKEN=… ADMIN_API_URL={url} cargo run -q -p admin -- users list");
    local_api::serve_on(listener, app).await?;
    Ok(())
}
