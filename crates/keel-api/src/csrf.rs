//! CSRF protection for requests authenticated by the session cookie. A browser attaches
//! the cookie to requests other sites make it send, so a write (any method but GET, HEAD,
//! OPTIONS, TRACE) with the cookie must come from a page of this origin: its `Origin`
//! header (or, when a browser left that out, its `Referer`) must name the host the
//! request was sent to (`Host`, or `X-Forwarded-Host` behind a proxy; a cross-site page
//! cannot set that header without a CORS preflight, which Keel never grants).
//!
//! A request with neither header is let through: browsers send `Origin` on every
//! cross-origin write, so its absence means a non-browser client, which a forged page
//! cannot drive. Bearer-token requests are not checked at all (no ambient credential).
//! This adds to the JSON-only rule for writes (`extract.rs`) rather than replacing it.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};

use crate::error::ApiError;

fn rejected(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_rejected",
        format!("Cross-site request refused: {why}. Send writes from Keel's own pages, or use an API token"),
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// `host[:port]`, lowercased, without the scheme's default port.
fn normalize(authority: &str, scheme: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    let default = match scheme {
        "http" | "ws" => Some(":80"),
        "https" | "wss" => Some(":443"),
        _ => None,
    };
    match default {
        Some(port) => a.strip_suffix(port).map_or_else(|| a.clone(), str::to_string),
        None => a,
    }
}

/// The hosts this request was addressed to.
fn expected_hosts(parts: &Parts) -> Vec<String> {
    let header_value = |headers: &HeaderMap, name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_string())
    };
    let mut hosts = Vec::new();
    if let Some(h) = header_value(&parts.headers, header::HOST).or_else(|| parts.uri.authority().map(|a| a.to_string()))
    {
        hosts.push(h);
    }
    if let Some(h) = header_value(&parts.headers, header::HeaderName::from_static("x-forwarded-host")) {
        hosts.push(h);
    }
    hosts.retain(|h| !h.is_empty());
    hosts
}

/// Refuse a cookie-authenticated write that another site's page could have sent.
pub fn check(parts: &Parts) -> Result<(), ApiError> {
    if is_safe(&parts.method) {
        return Ok(());
    }
    let source = parts.headers.get(header::ORIGIN).or_else(|| parts.headers.get(header::REFERER));
    let Some(source) = source else {
        return Ok(());
    };
    let source = source.to_str().map_err(|_| rejected("unreadable Origin"))?.trim();
    if source.eq_ignore_ascii_case("null") {
        return Err(rejected("opaque origin"));
    }
    let uri: Uri = source.parse().map_err(|_| rejected("unreadable Origin"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(rejected("unreadable Origin"));
    };
    // A Referer may carry user info (`user@host`); the host is what follows it.
    let host = authority.as_str().rsplit('@').next().unwrap_or_default();
    let origin_host = normalize(host, scheme);
    if expected_hosts(parts).iter().any(|h| normalize(h, scheme) == origin_host) {
        Ok(())
    } else {
        Err(rejected("the Origin does not match this host"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut req = Request::builder().method(method).uri("/api/v1/companies");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).expect("request").into_parts().0
    }

    #[test]
    fn same_origin_writes_pass_and_cross_origin_ones_do_not() {
        let host = ("host", "crm.example.com");
        assert!(check(&parts(Method::POST, &[host, ("origin", "https://crm.example.com")])).is_ok());
        assert!(check(&parts(Method::POST, &[host, ("origin", "https://CRM.example.com:443")])).is_ok());
        assert!(check(&parts(Method::PATCH, &[host, ("origin", "https://evil.example")])).is_err());
        assert!(check(&parts(Method::DELETE, &[host, ("origin", "null")])).is_err());
        assert!(check(&parts(Method::POST, &[host, ("origin", "https://crm.example.com:8443")])).is_err());
    }

    #[test]
    fn referer_stands_in_for_a_missing_origin() {
        let host = ("host", "localhost:8080");
        assert!(check(&parts(Method::POST, &[host, ("referer", "http://localhost:8080/deals?x=1")])).is_ok());
        assert!(check(&parts(Method::POST, &[host, ("referer", "http://evil.example/localhost:8080")])).is_err());
    }

    #[test]
    fn reads_and_header_less_clients_are_not_checked() {
        let host = ("host", "crm.example.com");
        assert!(check(&parts(Method::GET, &[host, ("origin", "https://evil.example")])).is_ok());
        assert!(check(&parts(Method::POST, &[host])).is_ok());
    }

    #[test]
    fn a_proxy_may_name_the_public_host() {
        let headers = [
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "crm.example.com"),
            ("origin", "https://crm.example.com"),
        ];
        assert!(check(&parts(Method::POST, &headers)).is_ok());
    }
}
