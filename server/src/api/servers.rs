//! `/servers/*`: what a MISP client asks first.
use app::backend::AppState;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::ApiUser;

/// The MISP version whose API Flowgate follows; PyMISP compares it with its own.
pub const MISP_COMPAT_VERSION: &str = "2.4.199";

pub fn router() -> Router<AppState> {
    Router::new().route("/servers/getVersion", get(get_version))
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
