//! MISP's error shape: `{"name", "message", "url"}` with the status MISP uses.
//!
//! Handlers return [`ApiError`], which only records status and message; the
//! [`render_misp_errors`] middleware writes the body, because it knows the URL the client
//! asked for. It also gives the router's own 404/405 answers MISP's shape for JSON clients.
use app::error::AppError;
use axum::extract::{OriginalUri, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Every reason of a rejected save, when there are several.
    pub errors: Option<Vec<String>>,
}

/// The message MISP gives a request without a valid API key.
pub const AUTH_FAILED: &str = "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        // MISP answers a missing or bad API key with 403 and this message.
        if err == AppError::Unauthenticated {
            return Self::new(StatusCode::FORBIDDEN, AUTH_FAILED);
        }
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let errors = match &err {
            AppError::Rejected { errors, .. } => Some(errors.clone()),
            _ => None,
        };
        Self {
            status,
            message: err.to_string(),
            errors,
        }
    }
}

/// Carried from the handler to [`render_misp_errors`] inside the response.
#[derive(Clone, Debug)]
struct PendingError(String, Option<Vec<String>>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response
            .extensions_mut()
            .insert(PendingError(self.message, self.errors));
        response
    }
}

pub async fn render_misp_errors(request: Request, next: Next) -> Response {
    let url = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let json = super::negotiate::wants_json(&request);
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let status = response.status();
    let (message, errors) = match response.extensions_mut().remove::<PendingError>() {
        Some(PendingError(message, errors)) => (message, errors),
        // The router adds the `Allow` header outside this layer, so it is not visible here.
        None if json && status == StatusCode::METHOD_NOT_ALLOWED => (
            format!("This endpoint does not accept {method} requests."),
            None,
        ),
        // axum's own rejections (bad query or path values, wrong content type) are plain text:
        // JSON clients get them in MISP's shape too.
        None if json && status.is_client_error() && response_is_not_json(&response) => {
            let body = std::mem::take(response.body_mut());
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            let message = if text.is_empty() {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                text
            };
            (message, None)
        }
        None => return response,
    };
    let mut body = serde_json::json!({"name": message, "message": message, "url": url});
    if let Some(errors) = errors {
        body["errors"] = serde_json::json!(errors);
    }
    let mut rendered = (status, Json(body)).into_response();
    // Headers the error set for the client (`Retry-After`, `WWW-Authenticate`, …) stay.
    for (name, value) in response.headers() {
        if name != http::header::CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    rendered
}

fn response_is_not_json(response: &Response) -> bool {
    !response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Leptos answers 500 for every server-function error it raises itself (a form it cannot read,
/// before the function runs); the body is then our [`AppError`], whose own status is right
/// (400 for bad input). This layer gives `/api/*` answers that status.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
