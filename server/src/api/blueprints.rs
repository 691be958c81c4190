//! `/workflowBlueprints/*`: MISP's blueprint routes (site admin only).
use app::backend::services::blueprints::{self as service, BlueprintInput};
use app::backend::store::blueprints::BlueprintFilter;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::header;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
use super::workflows::{render_graph, saved, GraphFormat};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workflowBlueprints/index", get(index_blueprints))
        .route("/workflowBlueprints/view/{id}", get(view_blueprint))
        .route("/workflowBlueprints/add", post(add_blueprint))
        .route(
            "/workflowBlueprints/edit/{id}",
            post(edit_blueprint).put(edit_blueprint),
        )
        .route(
            "/workflowBlueprints/delete/{id}",
            post(delete_blueprint).delete(delete_blueprint),
        )
        .route("/workflowBlueprints/import", post(import_blueprint))
        .route("/workflowBlueprints/export/{id}", get(export_blueprint))
        .route("/workflowBlueprints/update", post(update_official))
        .route(
            "/workflowBlueprints/update/{force}",
            post(update_official_forced),
        )
}

#[derive(Debug, Default, Deserialize)]
struct IndexQuery {
    name: Option<String>,
    uuid: Option<String>,
    timestamp: Option<i64>,
}

async fn index_blueprints(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<IndexQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let filter = BlueprintFilter {
        name: q.name,
        uuid: q.uuid,
        timestamp: q.timestamp,
    };
    Ok(Json(
        service::index_blueprints(&state, &actor, &filter).await?,
    ))
}

async fn view_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    Query(format): Query<GraphFormat>,
) -> Result<Response, ApiError> {
    if format.format.is_some() {
        let graph = service::blueprint_graph(&state, &actor, &id).await?;
        return render_graph(&state, &graph, &format);
    }
    Ok(Json(service::view_blueprint(&state, &actor, &id).await?).into_response())
}

async fn add_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: BlueprintInput = body.into_model("WorkflowBlueprint")?;
    Ok(Json(service::add_blueprint(&state, &actor, input).await?))
}

async fn edit_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: BlueprintInput = body.into_model("WorkflowBlueprint")?;
    Ok(Json(
        service::edit_blueprint(&state, &actor, &id, input).await?,
    ))
}

async fn delete_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_blueprint(&state, &actor, &id).await?;
    Ok(saved("Blueprint deleted.", &uri))
}

/// Takes MISP's form (`{"WorkflowBlueprint": {"json": "<exported file>"}}`) or the exported
/// file itself as the body.
async fn import_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let inner = body.unwrap_model("WorkflowBlueprint");
    let file = match inner.get("json") {
        Some(Value::String(text)) => MispJson(serde_json::from_str(text).map_err(|e| {
            ApiError::new(
                http::StatusCode::BAD_REQUEST,
                format!("The imported file is not valid JSON: {e}"),
            )
        })?),
        _ => MispJson(inner),
    };
    let input: BlueprintInput = file.into_model("WorkflowBlueprint")?;
    Ok(Json(service::add_blueprint(&state, &actor, input).await?))
}

/// A download in MISP's export format and file name.
async fn export_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = service::view_blueprint(&state, &actor, &id).await?;
    let name = body["WorkflowBlueprint"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let file = service::export_file_name(&name);
    let disposition = format!("attachment; filename=\"{file}\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(body)).into_response())
}

async fn update_official(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    update(&state, &actor, false, &uri).await
}

async fn update_official_forced(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(force): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let force = matches!(force.as_str(), "1" | "true" | "force");
    update(&state, &actor, force, &uri).await
}

async fn update(
    state: &AppState,
    actor: &app::backend::Principal,
    force: bool,
    uri: &OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let summary = service::update_official(state, actor, force).await?;
    let message = format!(
        "Default blueprints updated: {} added, {} updated, {} unchanged.",
        summary.added, summary.updated, summary.unchanged
    );
    let Json(mut body) = saved(&message, uri);
    body["summary"] = json!(summary);
    Ok(Json(body))
}
