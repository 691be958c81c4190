//! `/servers/*`: what a MISP client asks first.
use app::backend::services::settings;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, Saved, SettingValue, SERVERS};

/// The MISP version whose API Flowgate follows; PyMISP compares it with its own.
pub const MISP_COMPAT_VERSION: &str = "2.4.199";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_version))
        .routes(routes!(server_settings))
        .routes(routes!(edit_server_setting))
}

/// `GET /servers/serverSettings`: the settings Flowgate knows, MISP's `finalSettings` shape.
#[utoipa::path(get, path = "/servers/serverSettings", tag = SERVERS,
    summary = "Settings with their values and descriptions (site admins)",
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn server_settings(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(settings::list_settings(&state, &actor).await?))
}

/// `POST /servers/serverSettingsEdit/<setting>` with `{"value": …}`.
#[utoipa::path(post, path = "/servers/serverSettingsEdit/{setting}", tag = SERVERS,
    summary = "Change one setting (validated; site admins)",
    params(("setting" = String, Path, description = "e.g. `Plugin.Workflow_enable`")),
    request_body = SettingValue,
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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
#[utoipa::path(get, path = "/servers/getVersion", tag = SERVERS,
    summary = "The MISP API version Flowgate follows, and the caller's permissions",
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
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
