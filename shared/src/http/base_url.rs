//! The service's public base URL as a response names it (the discovery
//! document's links, Checkout's return pages).

use http::header::{HeaderMap, HOST};

/// `PUBLIC_BASE_URL` when configured; otherwise the address the request
/// came to: `http` on loopback (local runs), `https` elsewhere. A `Host`
/// that is empty or holds anything but a host name, address and port is
/// not echoed: `localhost` stands in.
pub fn public_base_url(configured: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(base) = configured {
        return base.to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    let loopback = ["127.", "localhost", "[::1]"]
        .iter()
        .any(|prefix| host.starts_with(prefix));
    format!("{}://{host}", if loopback { "http" } else { "https" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, host.parse().unwrap());
        headers
    }

    #[test]
    fn configured_first_then_the_host_by_its_kind() {
        let headers = with_host("127.0.0.1:3000");
        assert_eq!(
            public_base_url(Some("https://auth.example.com"), &headers),
            "https://auth.example.com"
        );
        assert_eq!(public_base_url(None, &headers), "http://127.0.0.1:3000");
        assert_eq!(
            public_base_url(None, &with_host("api.example.com")),
            "https://api.example.com"
        );
        assert_eq!(
            public_base_url(None, &with_host("evil.com/<script>")),
            "http://localhost"
        );
        assert_eq!(public_base_url(None, &with_host("")), "http://localhost");
        assert_eq!(public_base_url(None, &HeaderMap::new()), "http://localhost");
    }
}
