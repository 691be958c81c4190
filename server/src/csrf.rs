//! Cross-site request forgery protection for every state-changing browser request.
//!
//! Browsers mark each request with `Sec-Fetch-Site` (and `Origin` on every non-GET request):
//! a state-changing request is allowed only when it comes from this site's own pages or from
//! the user typing the address. This is the token-less check of Go's
//! `http.CrossOriginProtection`, made stricter: a cookie-carrying request that has neither
//! header is refused too. Requests authenticated by an API key (`Authorization` header) are not
//! browser requests and are exempt: a cross-site page cannot set that header without a CORS
//! preflight, which Flowgate never grants. Session cookies are also `SameSite=Lax`.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, Method, StatusCode};

/// The message a refused request gets.
pub const CSRF_REFUSED: &str =
    "Cross-site request refused. Please reload the page and submit the form again.";

pub async fn cross_origin_protection(request: Request, next: Next) -> Response {
    if is_allowed(&request) {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "cross-origin request refused");
        crate::api::error::ApiError::new(StatusCode::FORBIDDEN, CSRF_REFUSED).into_response()
    }
}

/// Logging out is a GET in MISP, so it is checked like a state-changing request.
fn changes_state(request: &Request) -> bool {
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.uri().path() == "/users/logout"
}

fn is_allowed(request: &Request) -> bool {
    if !changes_state(request) {
        return true;
    }
    let headers = request.headers();
    if headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, rest)| rest));
        return matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h));
    }
    // Neither header: not a current browser. Allowed only if it carries no session to abuse.
    !headers.contains_key(header::COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/api/x");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn same_origin_and_typed_navigation_pass() {
        assert!(is_allowed(&post(&[
            ("sec-fetch-site", "same-origin"),
            ("cookie", "a=b")
        ])));
        assert!(is_allowed(&post(&[("sec-fetch-site", "none")])));
    }

    #[test]
    fn cross_site_and_same_site_are_refused() {
        assert!(!is_allowed(&post(&[
            ("sec-fetch-site", "cross-site"),
            ("cookie", "a=b")
        ])));
        assert!(!is_allowed(&post(&[("sec-fetch-site", "same-site")])));
    }

    #[test]
    fn origin_must_match_host_when_fetch_metadata_is_missing() {
        assert!(is_allowed(&post(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_allowed(&post(&[
            ("origin", "http://evil.test"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_allowed(&post(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
    }

    #[test]
    fn headerless_requests_pass_only_without_cookies() {
        assert!(is_allowed(&post(&[])));
        assert!(!is_allowed(&post(&[("cookie", "flowgate_session=x")])));
    }

    #[test]
    fn api_key_requests_and_safe_methods_are_exempt() {
        assert!(is_allowed(&post(&[
            ("authorization", "k"),
            ("cookie", "a=b")
        ])));
        let get = http::Request::builder()
            .uri("/")
            .header("cookie", "a=b")
            .body(Body::empty())
            .unwrap();
        assert!(is_allowed(&get));
    }

    #[test]
    fn logout_by_get_is_checked() {
        let forged = http::Request::builder()
            .uri("/users/logout")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap();
        assert!(!is_allowed(&forged));
    }
}
