//! `/workflows/*`: MISP's workflow administration routes (site admin only).
use app::backend::services::workflows::{
    self as service, AddWorkflow, EditWorkflow, TriggerFilter,
};
use app::backend::store::workflows::WorkflowFilter;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows/index", get(index_workflows))
        .route("/workflows/view/{id}", get(view_workflow))
        .route("/workflows/add", post(add_workflow))
        .route(
            "/workflows/edit/{id}",
            post(edit_workflow).put(edit_workflow),
        )
        .route(
            "/workflows/delete/{id}",
            post(delete_workflow).delete(delete_workflow),
        )
        .route("/workflows/triggers", get(list_triggers))
        .route("/workflows/adhoc", get(list_adhoc))
        .route("/workflows/moduleIndex", get(module_index))
        .route("/workflows/moduleView/{module_id}", get(view_module))
        .route(
            "/workflows/toggleModule/{module_id}/{enabled}/{is_trigger}",
            post(toggle_module),
        )
        .route(
            "/workflows/debugToggleField/{id}/{enabled}",
            post(toggle_debug),
        )
        .route("/workflows/checkGraph", post(check_graph))
        .route("/workflows/executeWorkflow/{id}", post(execute_workflow))
        .route(
            "/workflows/rebuildRedis",
            get(rebuild_redis).post(rebuild_redis),
        )
        .route(
            "/workflows/massToggleField/enabled/{enabled}/{is_trigger}",
            post(mass_toggle),
        )
        .route("/workflows/logs", get(list_runs))
        .route("/workflows/logs/{run_id}", get(view_run))
}

/// MISP's answer to a successful state change.
pub(crate) fn saved(message: &str, uri: &OriginalUri) -> Json<Value> {
    Json(
        json!({"saved": true, "success": true, "name": message, "message": message, "url": uri.0.path()}),
    )
}

/// `0`/`1` path flags.
fn flag(value: &str) -> Result<bool, ApiError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        other => Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            format!("Expected 0 or 1, not `{other}`."),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexQuery {
    name: Option<String>,
    uuid: Option<String>,
    quick_filter: Option<String>,
    page: Option<u64>,
    limit: Option<u64>,
}

async fn index_workflows(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<IndexQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let filter = WorkflowFilter {
        name: q.name,
        uuid: q.uuid,
        quick: q.quick_filter,
        adhoc: None,
    };
    Ok(Json(
        service::index_workflows(
            &state,
            &actor,
            &filter,
            q.page.unwrap_or(1),
            q.limit.unwrap_or(60),
        )
        .await?,
    ))
}

/// `?format=dot|mermaid` on the view routes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GraphFormat {
    pub format: Option<String>,
}

/// A graph as Graphviz DOT or Mermaid text.
pub(crate) fn render_graph(
    state: &AppState,
    graph: &engine::Graph,
    format: &GraphFormat,
) -> Result<Response, ApiError> {
    let registry = state.workflows.registry();
    let text = match format.format.as_deref() {
        Some("dot") => engine::export::to_dot(graph, registry),
        Some("mermaid") => engine::export::to_mermaid(graph, registry),
        Some(other) => {
            return Err(ApiError::new(
                http::StatusCode::BAD_REQUEST,
                format!("Unknown format `{other}` (dot, mermaid)."),
            ))
        }
        None => {
            return Err(ApiError::new(
                http::StatusCode::BAD_REQUEST,
                "A format is required.",
            ))
        }
    };
    Ok((
        [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response())
}

async fn view_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    Query(format): Query<GraphFormat>,
) -> Result<Response, ApiError> {
    if format.format.is_some() {
        let graph = service::workflow_graph(&state, &actor, &id).await?;
        return render_graph(&state, &graph, &format);
    }
    Ok(Json(service::view_workflow(&state, &actor, &id).await?).into_response())
}

async fn add_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: AddWorkflow = body.into_model("Workflow")?;
    Ok(Json(service::add_workflow(&state, &actor, input).await?))
}

async fn edit_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: EditWorkflow = body.into_model("Workflow")?;
    Ok(Json(
        service::edit_workflow(&state, &actor, &id, input).await?,
    ))
}

async fn delete_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_workflow(&state, &actor, &id).await?;
    Ok(saved("Workflow deleted.", &uri))
}

#[derive(Debug, Default, Deserialize)]
struct TriggerQuery {
    scope: Option<String>,
    enabled: Option<String>,
    blocking: Option<String>,
}

async fn list_triggers(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<TriggerQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let filter = TriggerFilter {
        scope: q.scope.filter(|s| !s.is_empty()),
        enabled: q.enabled.as_deref().map(flag).transpose()?,
        blocking: q.blocking.as_deref().map(flag).transpose()?,
    };
    Ok(Json(service::list_triggers(&state, &actor, &filter).await?))
}

#[derive(Debug, Default, Deserialize)]
struct ModuleQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    enabled: Option<String>,
}

async fn module_index(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<ModuleQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let enabled = q.enabled.as_deref().map(flag).transpose()?;
    Ok(Json(
        service::module_index(
            &state,
            &actor,
            q.kind.as_deref().unwrap_or("action"),
            enabled,
        )
        .await?,
    ))
}

async fn view_module(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(module_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::view_module(&state, &actor, &module_id).await?,
    ))
}

async fn toggle_module(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((module_id, enabled, is_trigger)): Path<(String, String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let enabled = flag(&enabled)?;
    service::toggle_module(&state, &actor, &module_id, enabled, flag(&is_trigger)?).await?;
    let verb = if enabled { "Enabled" } else { "Disabled" };
    Ok(saved(&format!("{verb} module {module_id}"), &uri))
}

async fn toggle_debug(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, enabled)): Path<(String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let enabled = flag(&enabled)?;
    service::set_debug(&state, &actor, &id, enabled).await?;
    Ok(saved(
        if enabled {
            "Debug mode enabled"
        } else {
            "Debug mode disabled"
        },
        &uri,
    ))
}

async fn check_graph(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let graph = match body.unwrap_model("Workflow") {
        Value::Object(mut map) if map.contains_key("graph") => {
            map.remove("graph").unwrap_or_default()
        }
        other => other,
    };
    Ok(Json(service::check_graph(&state, &actor, &graph)?))
}

/// Accepts MISP's `{"Workflow": {"data": "<JSON string>"}}` and, so that large events are not
/// parsed twice, a bare JSON body. A data string that is not JSON answers MISP's
/// "Invalid JSON" outcome.
async fn execute_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input = match body.0 {
        Value::Object(mut map)
            if map.len() == 1 && map.get("Workflow").is_some_and(|w| w.get("data").is_some()) =>
        {
            match map
                .remove("Workflow")
                .and_then(|mut w| w.get_mut("data").map(Value::take))
            {
                Some(Value::String(text)) if text.trim().is_empty() => json!([]),
                Some(Value::String(text)) => match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(_) => {
                        return Ok(Json(json!({"success": false, "outcome": "Invalid JSON"})))
                    }
                },
                Some(other) => other,
                None => json!([]),
            }
        }
        Value::Null => json!([]),
        other => other,
    };
    Ok(Json(
        service::execute_workflow(&state, &actor, &id, input).await?,
    ))
}

/// Enable state and listening indexes live in the database: there is nothing to rebuild.
async fn rebuild_redis(ApiUser(actor): ApiUser, uri: OriginalUri) -> Result<Json<Value>, ApiError> {
    service::rebuild_redis(&actor)?;
    Ok(saved(
        "Nothing to rebuild: workflow state is kept in the database.",
        &uri,
    ))
}

/// `GET /workflows/logs`: runs newest first; filters `workflow_id`, `trigger_id`, `outcome`,
/// `from`/`to` (Unix seconds); `limit` and the `before` cursor for paging.
async fn list_runs(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<app::backend::services::runs::RunQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::runs::list_runs(&state, &actor, &q).await?,
    ))
}

/// `GET /workflows/logs/<run_id>`: one run with its per-node trace.
async fn view_run(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(run_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = run_id
        .parse()
        .map_err(|_| ApiError::new(http::StatusCode::NOT_FOUND, "Invalid workflow run."))?;
    Ok(Json(
        app::backend::services::runs::view_run(&state, &actor, id).await?,
    ))
}

/// `POST /workflows/massToggleField/enabled/<0|1>/<is_trigger>` with `Workflow.module_ids`
/// (a JSON list, or that list as a JSON string as MISP's UI sends it).
async fn mass_toggle(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((enabled, is_trigger)): Path<(String, String)>,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let bad = || {
        ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "`module_ids` must be a list of module ids.",
        )
    };
    let ids = match body.unwrap_model("Workflow").get("module_ids").cloned() {
        Some(Value::String(text)) => {
            serde_json::from_str::<Vec<String>>(&text).map_err(|_| bad())?
        }
        Some(list @ Value::Array(_)) => {
            serde_json::from_value::<Vec<String>>(list).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    let enabled = flag(&enabled)?;
    let count = service::mass_toggle(&state, &actor, &ids, enabled, flag(&is_trigger)?).await?;
    let verb = if enabled { "enabled" } else { "disabled" };
    let Json(mut body) = saved(&format!("{count} modules {verb}"), &uri);
    body["count"] = json!(count);
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    page: Option<u64>,
    limit: Option<u64>,
}

/// `GET /workflows/adhoc`: ad-hoc workflows with their trigger's scope and filters.
async fn list_adhoc(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<PageQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(
        service::list_adhoc(&state, &actor, q.page.unwrap_or(1), q.limit.unwrap_or(60)).await?,
    ))
}
