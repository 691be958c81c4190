//! `admin/logs/index`: the audit log as MISP serves it (PyMISP's `search_logs`).
use app::backend::services::audit;
use app::backend::AppState;
use app::error::AppError;
use axum::extract::State;
use axum::Json;
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, Filters, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, AUDIT};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(logs_index))
}

#[utoipa::path(method(get, post), path = "/admin/logs/index", tag = AUDIT,
    summary = "Search the audit log (site admins); filters in the body or the query string",
    request_body = Object,
    responses((status = 200, description = "`[{\"Log\": {...}}]`, newest first", body = Object), ErrorResponses))]
async fn logs_index(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Filters(query): Filters,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let mut filters: Map<String, Value> = match body.0 {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => return Err(AppError::Invalid("The filters must be a JSON object.".into()).into()),
    };
    for (k, v) in query {
        filters.entry(k).or_insert(v);
    }
    Ok(Json(Value::Array(
        audit::search(&state, &actor, &filters).await?,
    )))
}
