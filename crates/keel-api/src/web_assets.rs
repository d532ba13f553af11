//! The web app, embedded in the binary and served at `/`.
//!
//! `build.rs` points the `rust-embed` derive at `web/dist` (the output of
//! `scripts/build-web.sh`) or, when the web app was not built, at a placeholder page
//! saying how to build it. Every GET or HEAD that no route answers and that is not under
//! `/api`, `/healthz` or `/readyz` lands here:
//!
//! - a path naming an embedded file gets that file, with its content type;
//! - a missing file under `/assets/` is a 404 (a stale page asking for an old chunk must
//!   not get HTML back);
//! - anything else gets `index.html`, so deep links (`/companies/123`) work on reload.
//!
//! Vite's `/assets/*` names carry a content hash, so they are cached for a year as
//! immutable; everything else is `no-cache` (revalidated with its ETag, a hash of the
//! content, answered 304 when unchanged). Text files are gzipped for clients that
//! accept it, once per file, and kept in memory.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rust_embed::{EmbeddedFile, RustEmbed};

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "$KEEL_WEB_DIR"]
struct Dist;

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// Paths the web app never answers: they belong to the API (and get its problem+json 404).
fn is_api_path(path: &str) -> bool {
    ["/api", "/healthz", "/readyz"]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The router's fallback: the web app for pages, the API's errors for everything else.
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if is_api_path(path) {
        return ApiError::not_found().into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This resource does not support that method",
        )
        .into_response();
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    serve(path, req.headers())
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { INDEX } else { name };
    if let Some(file) = Dist::get(name) {
        let cache = if name.starts_with("assets/") { IMMUTABLE } else { NO_CACHE };
        return respond(name, &file, cache, headers);
    }
    if name.starts_with("assets/") {
        let mut res = (StatusCode::NOT_FOUND, "Not found\n").into_response();
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
        return res;
    }
    match Dist::get(INDEX) {
        Some(index) => respond(INDEX, &index, NO_CACHE, headers),
        None => ApiError::not_found().into_response(),
    }
}

fn respond(name: &str, file: &EmbeddedFile, cache: &'static str, headers: &HeaderMap) -> Response {
    let mime = file.metadata.mimetype();
    let gzipped = if compressible(mime) && accepts_gzip(headers) { gzip(name, &file.data) } else { None };
    let hash = file.metadata.sha256_hash();
    let tag = hex(&hash[..16]);
    let etag = if gzipped.is_some() { format!("\"{tag}-gz\"") } else { format!("\"{tag}\"") };

    let not_modified = if_none_match(headers, &tag);
    let mut res = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match &gzipped {
            Some(bytes) => Body::from(bytes.clone()).into_response(),
            None => Body::from(file.data.clone()).into_response(),
        }
    };
    let h = res.headers_mut();
    if !not_modified {
        if let Ok(v) = HeaderValue::from_str(mime) {
            h.insert(header::CONTENT_TYPE, v);
        }
        if gzipped.is_some() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if compressible(mime) {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// Does `If-None-Match` name this file's content, in either encoding (or `*`)?
fn if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |candidate| {
            let c = candidate.trim();
            let c = c.strip_prefix("W/").unwrap_or(c).trim_matches('"');
            c == "*" || c == tag || c.strip_suffix("-gz") == Some(tag)
        },
    )
}

fn compressible(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or_default().trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/javascript" | "application/json" | "application/manifest+json" | "image/svg+xml"
        )
}

/// Does the client take gzip (`Accept-Encoding: gzip`, not with `q=0`)?
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            name.eq_ignore_ascii_case("gzip") && q > 0.0
        },
    )
}

/// Gzipped files by name, made on first request. `None`: not worth compressing.
static GZIPPED: LazyLock<Mutex<HashMap<String, Option<Bytes>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn gzip(name: &str, data: &[u8]) -> Option<Bytes> {
    if let Some(cached) = GZIPPED.lock().ok().and_then(|m| m.get(name).cloned()) {
        return cached;
    }
    // Compressed outside the lock; two first requests racing both compress, same result.
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::default());
    let compressed = encoder.write_all(data).and_then(|()| encoder.finish()).ok();
    let entry = compressed.filter(|c| c.len() < data.len()).map(Bytes::from);
    if let Ok(mut m) = GZIPPED.lock() {
        m.insert(name.to_string(), entry.clone());
    }
    entry
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    #[test]
    fn api_paths_are_not_the_web_apps() {
        for p in ["/api", "/api/", "/api/v1/nope", "/healthz", "/readyz", "/healthz/x"] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/", "/apis", "/companies/1", "/api-keys", "/assets/a.js", "/readyzz"] {
            assert!(!is_api_path(p), "{p}");
        }
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")])));
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br;q=1.0, GZIP;q=0.5")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "br, identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etags_match_in_either_encoding() {
        let h = |v| headers(&[(header::IF_NONE_MATCH, v)]);
        assert!(if_none_match(&h("\"abc\""), "abc"));
        assert!(if_none_match(&h("W/\"abc-gz\""), "abc"));
        assert!(if_none_match(&h("\"x\", \"abc\""), "abc"));
        assert!(if_none_match(&h("*"), "abc"));
        assert!(!if_none_match(&h("\"abcd\""), "abc"));
        assert!(!if_none_match(&HeaderMap::new(), "abc"));
    }

    #[test]
    fn index_html_is_embedded() {
        let index = Dist::get(INDEX).expect("index.html is always embedded (the app or the placeholder)");
        assert_eq!(index.metadata.mimetype(), "text/html");
    }

    #[test]
    fn text_is_gzipped_once_and_round_trips() {
        let data = b"<p>hello</p>".repeat(100);
        let gz = gzip("test/round-trip.html", &data).expect("worth compressing");
        assert!(gz.len() < data.len());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).expect("gunzip");
        assert_eq!(out, &data[..]);
        // Cached: the same bytes come back.
        assert_eq!(gzip("test/round-trip.html", &data), Some(gz));
        assert!(compressible("text/javascript") && compressible("image/svg+xml"));
        assert!(!compressible("image/png") && !compressible("font/woff2"));
    }
}
