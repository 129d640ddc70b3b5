//! A loopback stand-in for the Stripe API that records each request (path,
//! headers, form body) and answers what the test says, or forwards it to
//! an upstream (localstripe) — for what localstripe does not implement
//! (`/v1/checkout/sessions`) and for failures it cannot make.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Recorded {
    /// The form body's value of `name` (the first).
    pub fn field(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What to answer: `Some((status, json))`, or `None` to forward upstream
/// (404 without one).
pub type Answer = Arc<dyn Fn(&Recorded) -> Option<(u16, String)> + Send + Sync>;

pub struct StripeStub {
    pub url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl StripeStub {
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("stub lock").clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

/// A port nothing listens on (bound, then released).
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    drop(listener);
    url
}

pub async fn start(upstream: Option<String>, answer: Answer) -> StripeStub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let log = recorded.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let (log, answer, upstream) = (log.clone(), answer.clone(), upstream.clone());
            tokio::spawn(async move {
                let _ = serve_one(socket, &log, &answer, upstream.as_deref()).await;
            });
        }
    });
    StripeStub { url, recorded }
}

async fn serve_one(
    mut socket: tokio::net::TcpStream,
    log: &Mutex<Vec<Recorded>>,
    answer: &Answer,
    upstream: Option<&str>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    let request = Recorded {
        method,
        path,
        headers,
        body,
    };
    log.lock().expect("stub lock").push(request.clone());
    let (status, text) = match answer(&request) {
        Some(reply) => reply,
        None => match upstream {
            Some(base) => forward(base, &request).await,
            None => (
                404,
                r#"{"error":{"type":"invalid_request_error"}}"#.to_owned(),
            ),
        },
    };
    let reply = format!(
        "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    socket.write_all(reply.as_bytes()).await?;
    socket.shutdown().await
}

async fn forward(base: &str, request: &Recorded) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut call = client.request(
        request.method.parse().unwrap_or(reqwest::Method::POST),
        format!("{base}{}", request.path),
    );
    for name in ["authorization", "content-type", "idempotency-key"] {
        if let Some(value) = request.headers.get(name) {
            call = call.header(name, value);
        }
    }
    match call.body(request.body.clone()).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(_) => (502, "{}".to_owned()),
    }
}
