//! The embedded web app at `/`: pages fall back to index.html, hashed assets are cached
//! for good, everything is revalidated by ETag, and the API keeps its own 404s.
//!
//! Without a built web app (`web/dist`), the binary embeds a placeholder page instead;
//! the tests then check the placeholder, and still that every page path serves it.

use keel_testkit::{TestApp, both_backends};
use reqwest::{Method, StatusCode};

const PLACEHOLDER: &str = "The web app was not built";

/// The first `src="/assets/…"` in a page (Vite's entry script).
fn asset_src(html: &str) -> Option<String> {
    let start = html.find("src=\"/assets/")? + "src=\"".len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_string())
}

/// A GET whose body is kept as bytes (a gzipped body is not text).
struct Raw {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn get_raw(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("body").to_vec();
    Raw { status, headers, body }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).expect("valid gzip");
    out
}

async fn web_app_is_served_at_the_root(app: &TestApp) {
    let c = app.anonymous();
    let index = c.get("/").await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.text);
    assert_eq!(index.header("content-type"), Some("text/html"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let csp = index.header("content-security-policy").expect("CSP on the page");
    assert!(csp.contains("default-src 'self'") && csp.contains("img-src 'self' data:"), "{csp}");
    assert!(!csp.contains("script-src"), "scripts stay same-origin only: {csp}");
    assert!(csp.contains("style-src 'self' 'unsafe-inline'"), "inline style only, for scroll locking: {csp}");
    let html = index.text.clone();
    assert!(html.to_ascii_lowercase().starts_with("<!doctype html>"), "{html}");
    let entry = asset_src(&html);
    assert!(
        entry.is_some() || html.contains(PLACEHOLDER),
        "index.html is neither the built app (a /assets/ script) nor the placeholder: {html}"
    );

    // Deep links (reloading a page of the app) get the same page; so does /index.html.
    for path in ["/companies/abc", "/deals/0195c3f2/edit?tab=notes", "/login", "/index.html"] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("text/html"), "{path}");
        assert_eq!(res.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(res.text, html, "{path} serves index.html");
        assert_eq!(res.header("etag"), index.header("etag"), "{path}");
    }

    // HEAD: the headers without the body.
    let head = c.send(Method::HEAD, "/companies/abc", None, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-type"), Some("text/html"));
    assert_eq!(head.header("content-length"), Some(html.len().to_string().as_str()));
    assert!(head.text.is_empty());

    // Revalidation: the page's ETag answers 304 with no body.
    let etag = index.header("etag").expect("an ETag on index.html").to_string();
    let again = c.send(Method::GET, "/", None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{}", again.text);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some("no-cache"));
    let changed = c.send(Method::GET, "/", None, &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(changed.status, StatusCode::OK);

    // Gzip for clients that take it, with its own ETag, which also revalidates.
    let gz = get_raw(app, "/", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
    assert_eq!(String::from_utf8(gunzip(&gz.body)).expect("UTF-8"), html);
    let gz_etag = gz.header("etag").expect("ETag").to_string();
    assert_ne!(gz_etag, etag, "the gzipped body has its own ETag");
    let gz_again =
        c.send(Method::GET, "/", None, &[("accept-encoding", "gzip"), ("if-none-match", gz_etag.as_str())]).await;
    assert_eq!(gz_again.status, StatusCode::NOT_MODIFIED);

    match entry {
        Some(src) => {
            // The built app: its entry script is a hashed, immutable asset.
            let js = c.get(&src).await;
            assert_eq!(js.status, StatusCode::OK, "{src}");
            assert_eq!(js.header("content-type"), Some("text/javascript"), "{src}");
            assert_eq!(js.header("cache-control"), Some("public, max-age=31536000, immutable"), "{src}");
            assert_ne!(js.text, html, "{src} is not the page");
            let tag = js.header("etag").expect("ETag on the asset").to_string();
            let again = c.send(Method::GET, &src, None, &[("if-none-match", &tag)]).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{src}");
            assert_eq!(again.header("cache-control"), Some("public, max-age=31536000, immutable"));
            let gz = get_raw(app, &src, &[("accept-encoding", "gzip")]).await;
            assert_eq!(gz.header("content-encoding"), Some("gzip"), "{src}");
            assert_eq!(String::from_utf8(gunzip(&gz.body)).expect("UTF-8"), js.text);
        }
        None => {
            // The placeholder: nothing under /assets/ but the missing-asset answer below.
            assert!(html.contains("make run"), "the placeholder says how to build the app: {html}");
        }
    }

    // A missing hashed asset is a 404, not the page (a script must never get HTML).
    let missing = c.get("/assets/index-00000000.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_ne!(missing.text, html);
    // Files of the app's public folder (not hashed) are served as themselves, revalidated.
    if html.contains("href=\"/favicon.svg\"") {
        let favicon = c.get("/favicon.svg").await;
        assert_eq!(favicon.status, StatusCode::OK);
        assert_eq!(favicon.header("content-type"), Some("image/svg+xml"));
        assert_eq!(favicon.header("cache-control"), Some("no-cache"));
        assert_ne!(favicon.text, html);
    }
}
both_backends!(web_app_is_served_at_the_root);

async fn api_paths_keep_their_json_errors(app: &TestApp) {
    let c = app.anonymous();
    // Signed in: an unknown API path is the API's 404 (anonymous, `/api/v1/{entity}` says 401).
    for path in ["/api/v1/nope", "/api/v1/nope/deeper/still", "/api/nope", "/api", "/api/", "/healthz/extra"] {
        let res = app.admin.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{path}: {}", res.text);
        assert_eq!(res.body["code"], "not_found", "{path}: {}", res.text);
    }
    for path in ["/api/nope", "/api", "/readyz/x"] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{path}: {}", res.text);
    }
    // The real endpoints still answer.
    assert_eq!(c.get("/healthz").await.body["status"], "ok");
    assert_eq!(c.get("/readyz").await.body["status"], "ready");
    assert_eq!(c.get("/api/openapi.json").await.status, StatusCode::OK);
    // Writes to a page path are not pages.
    let res = c.send(Method::POST, "/companies", Some(serde_json::json!({})), &[]).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}
both_backends!(api_paths_keep_their_json_errors);
