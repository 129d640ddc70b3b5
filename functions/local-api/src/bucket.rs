//! The local server's stand-in for the avatar bucket: it takes the upload
//! forms `POST /users/me/avatar` hands out (checking their signature and
//! policy as S3 would), keeps the files in the configured folder, runs the
//! avatar processor on each upload in this process, and serves presigned
//! links. Only the local server has these routes.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use shared::domain::avatar::MAX_AVATAR_BYTES;

use crate::LocalApp;

/// Room for the form's other fields beside the largest file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// Why the bucket refused an upload, in S3's terms.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
            self.code, self.message
        );
        (self.status, [("content-type", "application/xml")], body).into_response()
    }
}

fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

impl LocalApp {
    /// One received upload form: stored if its signature and policy admit
    /// it, then processed before the answer (on AWS that happens just
    /// after, on S3's event: local answers are deterministic this way).
    pub async fn receive_upload(
        &self,
        fields: &[(String, String)],
        file: Vec<u8>,
    ) -> Result<String, Refusal> {
        let key = self
            .bucket_signer
            .check_post(fields, file.len() as u64, SystemTime::now())
            .await
            .map_err(|problem| {
                if problem.starts_with("EntityTooLarge") {
                    refused(StatusCode::BAD_REQUEST, "EntityTooLarge", problem)
                } else {
                    refused(StatusCode::FORBIDDEN, "AccessDenied", problem)
                }
            })?;
        let content_type = fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
            .unwrap_or("application/octet-stream");
        let stored = self.stores.objects.put(&key, file, content_type).await;
        stored.map_err(|error| {
            tracing::error!(error = %error, "the local bucket could not store an upload");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "not stored",
            )
        })?;
        if let Err(error) = avatar_processor::process_upload(&self.stores, &key).await {
            tracing::error!(error = %error, "the avatar processor failed");
        }
        Ok(key)
    }

    /// The object a presigned link names, if the link is valid now.
    pub async fn presigned_object(&self, key: &str, query: &str) -> Option<Vec<u8>> {
        let key = self
            .bucket_signer
            .check_get(key, query, SystemTime::now())
            .await?;
        self.stores.objects.get(&key).await.ok().flatten()
    }
}

async fn upload(State(app): State<Arc<LocalApp>>, mut form: Multipart) -> Response {
    let mut fields = Vec::new();
    let mut file = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let Ok(bytes) = field.bytes().await else {
                    return refused(
                        StatusCode::BAD_REQUEST,
                        "EntityTooLarge",
                        "the form is too large",
                    )
                    .into_response();
                };
                // S3 ignores fields after the file.
                if name == "file" {
                    file = Some(bytes.to_vec());
                    break;
                }
                fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
            Ok(None) => break,
            Err(_) => {
                return refused(
                    StatusCode::BAD_REQUEST,
                    "MalformedPOSTRequest",
                    "not a form (or too large)",
                )
                .into_response()
            }
        }
    }
    let Some(file) = file else {
        return refused(StatusCode::BAD_REQUEST, "InvalidArgument", "no file field")
            .into_response();
    };
    match app.receive_upload(&fields, file).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn download(
    State(app): State<Arc<LocalApp>>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match app
        .presigned_object(&key, query.as_deref().unwrap_or(""))
        .await
    {
        Some(bytes) => {
            let content_type = match key.rsplit('.').next() {
                Some("png") => "image/png",
                Some("jpg") => "image/jpeg",
                Some("webp") => "image/webp",
                _ => "application/octet-stream",
            };
            (StatusCode::OK, [("content-type", content_type)], bytes).into_response()
        }
        None => refused(StatusCode::FORBIDDEN, "AccessDenied", "not a valid link").into_response(),
    }
}

/// The bucket's routes, under `shared::app::LOCAL_BUCKET_PATH`.
pub fn routes() -> axum::Router<Arc<LocalApp>> {
    let path = shared::app::LOCAL_BUCKET_PATH;
    axum::Router::new()
        .route(
            path,
            axum::routing::post(upload).layer(DefaultBodyLimit::max(
                MAX_AVATAR_BYTES as usize + FORM_OVERHEAD,
            )),
        )
        .route(&format!("{path}/{{*key}}"), axum::routing::get(download))
}
