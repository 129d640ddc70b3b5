//! Background tasks and the operational routes: health, this document and
//! the page that renders it.

use serde_json::{json, Value};
use utoipa::openapi::path::Operation;

use super::operation::Op;
use super::response_schemas::*;
use super::schemas::*;
use crate::http::views::TaskView;

const TASK_ID: &str = "The task's id (another user's task is 404).";

fn task_example() -> Value {
    json!({
        "task_id": "3c2b1a09-8f7e-4d6c-5b4a-392817161514", "type": "add", "status": "SUCCESS",
        "result": 8, "attempts": 1,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:01Z"
    })
}

pub fn task_create() -> Operation {
    Op::new(
        "createTask",
        "tasks",
        "Queue a background task",
        "`add` (`x`, `y`), `long_running` (`seconds`, 1–3600) or `process_data` (`data`); \
         poll it under `/tasks/{id}`.",
    )
    .bearer()
    .body::<TaskCreateRequest>(json!({"type": "add", "x": 5, "y": 3}))
    .data::<TaskQueued>(
        202,
        "Task queued",
        json!({"task_id": "3c2b1a09-8f7e-4d6c-5b4a-392817161514", "status": "PENDING"}),
    )
    .retry_later(
        429,
        "The user already has `MAX_OPEN_TASKS` unfinished tasks (`rate_limited`); a slot frees \
         when one finishes or is revoked.",
    )
    .error(
        402,
        "The task type costs credits (`CREDIT_COSTS`) and the balance does not cover it \
         (`insufficient_credits`): nothing is charged or queued. A paid task that ends in \
         FAILURE gives its credits back.",
    )
    .uses_storage()
    .build()
}

pub fn task_get() -> Operation {
    Op::new(
        "getTask",
        "tasks",
        "A task's state",
        "`result` once it succeeded (for `add`, the sum), `error` once it failed, `progress` \
         while a long task runs. An export's result is in the first response that has it only, \
         and at most a day after it finished.",
    )
    .bearer()
    .path_parameter("id", TASK_ID)
    .data::<TaskView>(200, "Task found", task_example())
    .error(404, "No such task for this user (`not_found`).")
    .uses_storage()
    .build()
}

pub fn task_revoke() -> Operation {
    let mut revoked = task_example();
    revoked["status"] = json!("REVOKED");
    revoked["attempts"] = json!(0);
    if let Some(object) = revoked.as_object_mut() {
        object.remove("result");
    }
    Op::new(
        "revokeTask",
        "tasks",
        "Revoke a task that has not started",
        "A PENDING or RETRY task becomes REVOKED.",
    )
    .bearer()
    .path_parameter("id", TASK_ID)
    .data::<TaskView>(200, "Task revoked", revoked)
    .error(404, "No such task for this user (`not_found`).")
    .error(409, "The task already started or finished.")
    .uses_storage()
    .build()
}

pub fn root() -> Operation {
    Op::new(
        "root",
        "operations",
        "The service and where to go next",
        "Name, version and the paths of the reference page, the OpenAPI document, the health \
         check, the signing keys and the service's own pages.",
    )
    .data::<ServiceIndex>(
        200,
        "users-service",
        json!({"name": "users-service", "version": crate::VERSION, "links": {
            "docs": "/docs", "openapi": "/openapi.json", "health": "/health",
            "jwks": "/.well-known/jwks.json", "ui": "/ui/"
        }}),
    )
    .build()
}

pub fn health() -> Operation {
    Op::new(
        "health",
        "operations",
        "Dependency health",
        "The table and both queues, checked concurrently. 503 names the failed ones under \
         `errors` and lists every check under `checks`.",
    )
    .data::<Health>(
        200,
        "Healthy",
        json!({"status": "ok", "checks": [
            {"name": "table", "status": "ok", "latency_ms": 3.2},
            {"name": "tasks_queue", "status": "ok", "latency_ms": 2.1},
            {"name": "notifications_queue", "status": "ok", "latency_ms": 2.4}
        ]}),
    )
    .error(503, "A dependency failed (`unavailable`, under its name).")
    .build()
}

pub fn openapi() -> Operation {
    Op::new(
        "openapi",
        "operations",
        "This document",
        "The OpenAPI 3.1 description of every route, as bare JSON (no envelope).",
    )
    .bare::<OpenApiDocument>(
        200,
        "The OpenAPI document",
        json!({"openapi": "3.1.0", "info": {"title": "users-service", "version": "0.1.0"},
               "paths": {}, "components": {}}),
    )
    .build()
}

pub fn docs() -> Operation {
    Op::new(
        "docs",
        "operations",
        "The API reference page",
        "An HTML page that renders `/openapi.json` with Swagger UI, loaded from \
         `/docs/assets/` (no third-party hosts).",
    )
    .text(200, "The page", &["text/html"])
    .build()
}

/// The files the reference page loads (`functions/docs`'s `ASSETS`; a test
/// holds the two lists together).
pub const DOCS_ASSETS: &[&str] = &["swagger-ui-bundle.js", "swagger-ui.css", "docs.js"];

pub fn docs_asset() -> Operation {
    Op::new(
        "docsAsset",
        "operations",
        "A file of the API reference page",
        "The renderer's script and style sheet, and the page's own script.",
    )
    .path_choice("file", "The file name.", DOCS_ASSETS)
    .text(200, "The file", &["application/javascript", "text/css"])
    .error(404, "No such file (`not_found`).")
    .build()
}

/// The pages under `/ui/` (`functions/pages`'s `PAGES`; a test holds the
/// two lists together).
pub const UI_PAGES: &[&str] = &[
    "signup",
    "login",
    "account",
    "confirm-email",
    "reset-password",
];

pub fn ui() -> Operation {
    Op::new(
        "ui",
        "pages",
        "The sign-in page",
        "The service's own pages for people start here: sign-in by username, email or a \
         texted code, with links to sign-up and the password reset. No third-party hosts, \
         a strict Content-Security-Policy, `no-cache`.",
    )
    .text(200, "The page", &["text/html"])
    .build()
}

pub fn ui_page() -> Operation {
    Op::new(
        "uiPage",
        "pages",
        "One of the service's pages",
        "`signup` (the fields of `POST /auth/signup` as this document describes them), \
         `login`, `account`, and the targets of the mailed links, `confirm-email` and \
         `reset-password`, which read the token from the URL fragment (`#token=…`).",
    )
    .path_choice("page", "The page.", UI_PAGES)
    .text(200, "The page", &["text/html"])
    .error(404, "No such page (`not_found`).")
    .build()
}

pub fn ui_asset() -> Operation {
    Op::new(
        "uiAsset",
        "pages",
        "A file of the pages",
        "The pages' scripts (ES modules) and style sheet, named by a fingerprint of their \
         content and cached for a year (`immutable`).",
    )
    .path_pattern(
        "file",
        "The fingerprinted file name, as the pages link it (`app.3f9c0a1b2d.js`); \
         another deployment's names are 404.",
        r"^[a-z]+\.[0-9a-f]{10}\.(js|css)$",
    )
    .text(200, "The file", &["application/javascript", "text/css"])
    .error(404, "No such file (`not_found`).")
    .build()
}
