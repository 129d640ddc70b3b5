//! Documents served the same to everyone (`/openapi.json`, the pages'
//! files), gzip-compressed once per process, on the first request that
//! accepts gzip (not at cold start, which has a budget of its own), and
//! sent compressed to the browsers that accept it: API Gateway's HTTP APIs
//! do not compress, and the sign-up page must stay under 50 KiB on the
//! wire.

use std::io::Write;
use std::sync::OnceLock;

use flate2::write::GzEncoder;
use flate2::Compression;
use http::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, VARY};
use http::{HeaderMap, StatusCode};

use super::Reply;

/// A body and, once asked for and when it is smaller so, its gzip form.
#[derive(Debug)]
pub struct Precompressed {
    plain: Vec<u8>,
    gzip: OnceLock<Option<Vec<u8>>>,
}

impl Precompressed {
    pub fn new(plain: Vec<u8>) -> Self {
        Self {
            plain,
            gzip: OnceLock::new(),
        }
    }

    fn gzip(&self) -> Option<&Vec<u8>> {
        self.gzip
            .get_or_init(|| {
                let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
                // Writing to a Vec cannot fail.
                encoder
                    .write_all(&self.plain)
                    .and_then(|()| encoder.finish())
                    .ok()
                    .filter(|gzip| gzip.len() < self.plain.len())
            })
            .as_ref()
    }

    pub fn plain(&self) -> &[u8] {
        &self.plain
    }

    /// A 200 with the gzip form when the request accepts it (and says so
    /// in `Vary`, for caches between), the plain one otherwise.
    pub fn reply(&self, request_headers: &HeaderMap) -> Reply {
        let reply = Reply {
            status: StatusCode::OK,
            body: Vec::new(),
            headers: Vec::new(),
        }
        .with_header(VARY, HeaderValue::from_static("accept-encoding"));
        let gzip = accepts_gzip(request_headers).then(|| self.gzip()).flatten();
        match gzip {
            Some(gzip) => Reply {
                body: gzip.clone(),
                ..reply
            }
            .with_header(CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            _ => Reply {
                body: self.plain.clone(),
                ..reply
            },
        }
    }
}

/// `Accept-Encoding` names gzip (or `*`) without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        headers
    }

    #[test]
    fn gzip_only_when_accepted_and_it_round_trips() {
        let text = "the same words again and again ".repeat(100).into_bytes();
        let body = Precompressed::new(text.clone());
        let zipped = body.reply(&headers("gzip, deflate, br"));
        assert!(zipped.body.len() < text.len());
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&zipped.body[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        for refused in ["br", "gzip;q=0", "identity"] {
            assert_eq!(body.reply(&headers(refused)).body, text, "{refused}");
        }
        assert_eq!(body.reply(&HeaderMap::new()).body, text);
    }

    #[test]
    fn tiny_bodies_stay_plain() {
        let body = Precompressed::new(b"{}".to_vec());
        assert_eq!(body.reply(&headers("gzip")).body, b"{}");
    }
}
