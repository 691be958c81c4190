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

/// A JSON body as MISP clients send it; malformed JSON is a MISP 400, not axum's plain text.
/// MISP wraps objects in their model name (`{"Workflow": {…}}`): [`MispJson::unwrap_model`]
/// accepts both forms.
pub struct MispJson(pub serde_json::Value);

impl<S: Send + Sync> axum::extract::FromRequest<S> for MispJson {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, state).await?;
        MispJson::parse(&bytes)
    }
}

/// The request body as bytes, for a handler that looks at them before (or instead of) parsing
/// them; a body that cannot be read is answered as [`MispJson`] answers it.
pub struct BodyBytes(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(BodyBytes)
            .map_err(|e| ApiError::new(e.status(), e.body_text()))
    }
}

impl MispJson {
    /// Parses a body: blank is `null`, malformed JSON a MISP 400.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MispJson(serde_json::Value::Null));
        }
        serde_json::from_slice(bytes)
            .map(MispJson)
            .map_err(|e| ApiError::new(http::StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")))
    }

    /// The object under `model` if the body is wrapped, else the body itself.
    pub fn unwrap_model(self, model: &str) -> serde_json::Value {
        match self.0 {
            serde_json::Value::Object(mut map) if map.contains_key(model) => {
                map.remove(model).unwrap_or_default()
            }
            other => other,
        }
    }

    /// Deserialises the (unwrapped) body into `T`, with a MISP 400 on mismatch.
    pub fn into_model<T: serde::de::DeserializeOwned>(self, model: &str) -> Result<T, ApiError> {
        let value = match self.unwrap_model(model) {
            serde_json::Value::Null => serde_json::json!({}),
            v => v,
        };
        serde_json::from_value(value).map_err(|e| {
            ApiError::new(
                http::StatusCode::BAD_REQUEST,
                format!("Invalid {model}: {e}"),
            )
        })
    }
}

/// Filters of an index route, from the query string (`?deleted=0`) and CakePHP's named
/// parameters (`/deleted:0`), as strings; a query-string value wins over a named one.
pub struct Filters(pub serde_json::Map<String, serde_json::Value>);

impl<S: Send + Sync> FromRequestParts<S> for Filters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut map = serde_json::Map::new();
        if let Some(named) = parts.extensions.get::<super::negotiate::NamedParams>() {
            for (k, v) in &named.0 {
                map.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map_err(
                |e| {
                    ApiError::new(
                        http::StatusCode::BAD_REQUEST,
                        format!("Invalid query string: {e}"),
                    )
                },
            )?;
        for (k, v) in pairs {
            map.insert(k, serde_json::Value::String(v));
        }
        Ok(Filters(map))
    }
}
