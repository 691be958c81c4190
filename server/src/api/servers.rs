//! `/servers/*`: what a MISP client asks first.
use app::backend::services::settings;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};

/// The MISP version whose API Flowgate follows; PyMISP compares it with its own.
pub const MISP_COMPAT_VERSION: &str = "2.4.199";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/servers/getVersion", get(get_version))
        .route("/servers/serverSettings", get(server_settings))
        .route(
            "/servers/serverSettingsEdit/{setting}",
            post(edit_server_setting),
        )
}

/// `GET /servers/serverSettings`: the settings Flowgate knows, MISP's `finalSettings` shape.
async fn server_settings(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(settings::list_settings(&state, &actor).await?))
}

/// `POST /servers/serverSettingsEdit/<setting>` with `{"value": …}`.
async fn edit_server_setting(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(setting): Path<String>,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let body = body.unwrap_model("Server");
    let value = body.get("value").ok_or_else(|| {
        ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "The request needs a `value`.",
        )
    })?;
    let stored = settings::edit_setting(&state, &actor, &setting, value).await?;
    let Json(mut answer) = super::workflows::saved("Field updated", &uri);
    answer["value"] = stored;
    Ok(Json(answer))
}

/// `GET /servers/getVersion`: the version and the caller's sync-related permissions.
async fn get_version(ApiUser(principal): ApiUser) -> Json<Value> {
    Json(json!({
        "version": MISP_COMPAT_VERSION,
        "pymisp_recommended_version": MISP_COMPAT_VERSION,
        "perm_sync": principal.role.perm_sync,
        "perm_sighting": principal.role.perm_sighting,
        "perm_galaxy_editor": principal.role.perm_galaxy_editor,
        "request_encoding": [],
        "filter_sightings": true,
        "flowgate_version": env!("CARGO_PKG_VERSION"),
    }))
}
