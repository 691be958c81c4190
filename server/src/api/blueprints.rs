//! `/workflowBlueprints/*`: MISP's blueprint routes (site admin only).
use app::backend::services::blueprints::{self as service, BlueprintInput};
use app::backend::store::blueprints::BlueprintFilter;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{
    BlueprintEnvelope, BlueprintImport, BlueprintInput as BlueprintInputDoc, ErrorResponses, Saved,
    BLUEPRINTS,
};
use super::workflows::{render_graph, saved, GraphFormat};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index_blueprints))
        .routes(routes!(view_blueprint))
        .routes(routes!(add_blueprint))
        .routes(routes!(edit_blueprint))
        .routes(routes!(delete_blueprint))
        .routes(routes!(import_blueprint))
        .routes(routes!(export_blueprint))
        .routes(routes!(update_official))
        .routes(routes!(update_official_forced))
}

#[derive(Debug, Default, Deserialize)]
struct IndexQuery {
    name: Option<String>,
    uuid: Option<String>,
    timestamp: Option<i64>,
}

#[utoipa::path(get, path = "/workflowBlueprints/index", tag = BLUEPRINTS,
    summary = "List blueprints",
    params(("name" = Option<String>, Query), ("uuid" = Option<String>, Query), ("timestamp" = Option<i64>, Query)),
    responses((status = 200, description = "Success", body = Vec<BlueprintEnvelope>), ErrorResponses))]
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

#[utoipa::path(get, path = "/workflowBlueprints/view/{id}", tag = BLUEPRINTS,
    summary = "One blueprint (or its nodes as DOT / Mermaid text)",
    params(("id" = String, Path, description = "Numeric id or uuid"),
           ("format" = Option<String>, Query, description = "`dot` or `mermaid`: text/plain")),
    responses((status = 200, description = "Success", body = BlueprintEnvelope), ErrorResponses))]
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

#[utoipa::path(post, path = "/workflowBlueprints/add", tag = BLUEPRINTS,
    summary = "Create a blueprint from a list of nodes (e.g. a selection in the editor)",
    request_body = BlueprintInputDoc,
    responses((status = 200, description = "Success", body = BlueprintEnvelope), ErrorResponses))]
async fn add_blueprint(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: BlueprintInput = body.into_model("WorkflowBlueprint")?;
    Ok(Json(service::add_blueprint(&state, &actor, input).await?))
}

#[utoipa::path(method(post, put), path = "/workflowBlueprints/edit/{id}", tag = BLUEPRINTS,
    summary = "Change a blueprint",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = BlueprintInputDoc,
    responses((status = 200, description = "Success", body = BlueprintEnvelope), ErrorResponses))]
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

#[utoipa::path(method(post, delete), path = "/workflowBlueprints/delete/{id}", tag = BLUEPRINTS,
    summary = "Delete a blueprint",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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
#[utoipa::path(post, path = "/workflowBlueprints/import", tag = BLUEPRINTS,
    summary = "Import MISP's blueprint export file",
    request_body = BlueprintImport,
    responses((status = 200, description = "Success", body = BlueprintEnvelope), ErrorResponses))]
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
#[utoipa::path(get, path = "/workflowBlueprints/export/{id}", tag = BLUEPRINTS,
    summary = "Download a blueprint in MISP's export format and file name",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = BlueprintEnvelope, content_type = "application/json"), ErrorResponses))]
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

#[utoipa::path(post, path = "/workflowBlueprints/update", tag = BLUEPRINTS,
    summary = "Load the official blueprints shipped with Flowgate (newer ones replace older)",
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn update_official(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    update(&state, &actor, false, &uri).await
}

#[utoipa::path(post, path = "/workflowBlueprints/update/{force}", tag = BLUEPRINTS,
    summary = "Load the official blueprints; `force` also replaces edited copies",
    params(("force" = String, Path, description = "`1`, `true` or `force`")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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
