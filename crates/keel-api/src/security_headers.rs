//! Security headers on every response: a strict Content-Security-Policy (only this
//! origin, plus `data:` images; no framing), `nosniff`, a same-origin referrer policy,
//! `X-Frame-Options` for old browsers, and HSTS when Keel is served over HTTPS (`--secure-cookies`, or a proxy
//! saying `X-Forwarded-Proto: https`). A handler that sets one of them itself keeps its own.
//!
//! Pages of the web app (every path outside `/api/` and the health checks) also allow
//! inline *style* (never script): the accessible dialog and menu components lock page
//! scrolling by adding a small `<style>` element at run time, and CSP nonces would need
//! a per-response rewrite of the embedded index.html. API responses keep the strict policy.
//!
//! The `/api/docs` page is one self-contained file with an inline `<script>` and
//! `<style>` (it works offline, with no CDN), so that route alone also allows inline
//! script and style. Everything it renders from data goes through text nodes.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// API responses: this origin only (images may also be `data:` URLs).
const CSP: &str = "default-src 'self'; img-src 'self' data:; base-uri 'self'; form-action 'self'; object-src 'none'; \
                   frame-ancestors 'none'";
const APP_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'self'; \
                       form-action 'self'; object-src 'none'; frame-ancestors 'none'";
const DOCS_PATH: &str = "/api/docs";
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
                        base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'";
/// One year. No `includeSubDomains`: other services may share the parent domain.
const HSTS: &str = "max-age=31536000";

/// Is this request served over TLS (directly, or as the proxy in front says)?
pub fn is_https(secure_cookies: bool, headers: &HeaderMap) -> bool {
    secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let csp = if path == DOCS_PATH {
        DOCS_CSP
    } else if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        CSP
    } else {
        APP_CSP
    };
    let https = is_https(state.secure_cookies, req.headers());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    set_default(h, header::CONTENT_SECURITY_POLICY, csp);
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(h, header::REFERRER_POLICY, "same-origin");
    set_default(h, header::X_FRAME_OPTIONS, "DENY");
    if https {
        set_default(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    res
}
