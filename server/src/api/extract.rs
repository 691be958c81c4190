//! Extractors for the principal the auth layer attached.
use app::backend::{AppState, Principal};
use app::error::AppError;
use axum::extract::FromRequestParts;
use http::request::Parts;

use super::error::ApiError;

/// Any authenticated user (API key or browser session).
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(ApiUser)
            .ok_or_else(|| ApiError::from(AppError::Unauthenticated))
    }
}
