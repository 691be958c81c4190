//! Works out who each request comes from, once, and attaches it as a request extension
//! (`app::backend::Principal`) for REST handlers, pages and server functions alike.
//!
//! An `Authorization` header authenticates by API key only (a bad key is not rescued by a
//! session cookie); otherwise the session's user id is used. Browsers asking for a page while
//! logged out are sent to the login page.
use app::backend::services::auth;
use app::backend::AppState;
use app::session::SESSION_USER_ID;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, Method};
use tower_sessions::Session;

use crate::api::error::ApiError;

pub async fn resolve_principal(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let principal = if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        match value.to_str() {
            Ok(key) => auth::principal_for_authkey(&state.db, &state.principals, key).await,
            Err(_) => Ok(None),
        }
    } else if let Some(session) = request.extensions().get::<Session>().cloned() {
        match session.get::<i32>(SESSION_USER_ID).await {
            Ok(Some(user_id)) => {
                let principal =
                    auth::principal_for_user_id(&state.db, &state.principals, user_id).await;
                if matches!(principal, Ok(None)) {
                    // Disabled or deleted since login: end the session.
                    let _ = session.flush().await;
                }
                principal
            }
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable session");
                Ok(None)
            }
        }
    } else {
        Ok(None)
    };
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return ApiError::from(e).into_response(),
    };
    match principal {
        Some(principal) => {
            request.extensions_mut().insert(principal);
        }
        None if wants_login_page(&request) => {
            let target = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/");
            let location = format!("/users/login?redirect={}", urlencode(target));
            return Redirect::to(&location).into_response();
        }
        None => {}
    }
    next.run(request).await
}

/// A logged-out browser navigating to one of the app's pages (not the login page, static files,
/// server functions or a JSON API call).
fn wants_login_page(request: &Request) -> bool {
    if request.method() != Method::GET {
        return false;
    }
    let path = request.uri().path();
    if path == "/users/login"
        || path == "/users/logout"
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path == "/favicon.ico"
    {
        return false;
    }
    if request
        .extensions()
        .get::<crate::api::negotiate::JsonRequested>()
        .is_some()
    {
        return false;
    }
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Percent-encodes everything but unreserved characters and `/`.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::urlencode;

    #[test]
    fn redirect_targets_are_encoded() {
        assert_eq!(
            urlencode("/administration?x=1&y"),
            "/administration%3Fx%3D1%26y"
        );
    }
}
