//! `/workflows/*`: MISP's workflow administration routes (site admin only).
use app::backend::services::input::loose_bool;
use app::backend::services::workflows::{
    self as service, AddWorkflow, EditWorkflow, TriggerFilter,
};
use app::backend::store::workflows::WorkflowFilter;
use app::backend::AppState;
use app::error::AppError;
use axum::extract::{FromRequestParts, OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, BodyBytes, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{
    ErrorResponses, ExecuteInput, GraphInput, MassToggleInput, MispError, RunResult, Saved,
    StatelessInput, StatelessResult, WorkflowEnvelope, WorkflowInput, RUNS, WORKFLOWS,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index_workflows))
        .routes(routes!(view_workflow))
        .routes(routes!(add_workflow))
        .routes(routes!(edit_workflow))
        .routes(routes!(delete_workflow))
        .routes(routes!(open_editor))
        .routes(routes!(list_triggers))
        .routes(routes!(list_adhoc))
        .routes(routes!(module_index))
        .routes(routes!(view_module))
        .routes(routes!(toggle_module))
        .routes(routes!(toggle_debug))
        .routes(routes!(check_graph))
        .routes(routes!(execute_workflow))
        .routes(routes!(module_stateless_execution))
        .routes(routes!(rebuild_redis))
        .routes(routes!(refresh_modules))
        .routes(routes!(module_servers))
        .routes(routes!(mass_toggle))
        .routes(routes!(list_runs))
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
        .routes(routes!(discard_job))
        .routes(routes!(view_run))
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

#[utoipa::path(get, path = "/workflows/index", tag = WORKFLOWS,
    summary = "List workflows",
    params(("name" = Option<String>, Query, description = "Exact name"),
           ("uuid" = Option<String>, Query, description = "Exact uuid"),
           ("quickFilter" = Option<String>, Query, description = "Substring of name, description, trigger (case-insensitive)"),
           ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
           ("limit" = Option<u64>, Query, description = "Page size (default 60)")),
    responses((status = 200, description = "Success", body = Vec<WorkflowEnvelope>), ErrorResponses))]
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
        Some("dot") => engine::export::to_dot(graph, &registry),
        Some("mermaid") => engine::export::to_mermaid(graph, &registry),
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

#[utoipa::path(get, path = "/workflows/view/{id}", tag = WORKFLOWS,
    summary = "One workflow (or its graph as DOT / Mermaid text)",
    params(("id" = String, Path, description = "Numeric id or uuid"),
           ("format" = Option<String>, Query, description = "`dot` or `mermaid`: the graph as text/plain")),
    responses((status = 200, description = "Success", body = WorkflowEnvelope), ErrorResponses))]
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

#[utoipa::path(post, path = "/workflows/add", tag = WORKFLOWS,
    summary = "Create a workflow (validated first; one per trigger)",
    request_body = WorkflowInput,
    responses((status = 200, description = "Success", body = WorkflowEnvelope), ErrorResponses))]
async fn add_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let input: AddWorkflow = body.into_model("Workflow")?;
    Ok(Json(service::add_workflow(&state, &actor, input).await?))
}

#[utoipa::path(method(post, put), path = "/workflows/edit/{id}", tag = WORKFLOWS,
    summary = "Save a workflow (validated first; a rejected save changes nothing)",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = WorkflowInput,
    responses((status = 200, description = "Success", body = WorkflowEnvelope),
              (status = 409, description = "The workflow changed since the client's `timestamp`", body = MispError), ErrorResponses))]
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

#[utoipa::path(method(post, delete), path = "/workflows/delete/{id}", tag = WORKFLOWS,
    summary = "Delete a workflow",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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

#[utoipa::path(get, path = "/workflows/editor/{id}", tag = WORKFLOWS,
    summary = "The workflow the editor opens; a hook trigger's workflow is created on first open",
    params(("id" = String, Path, description = "Workflow id or uuid, or a trigger id (`event-publish`)")),
    responses((status = 200, description = "Success", body = WorkflowEnvelope), ErrorResponses))]
async fn open_editor(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // As in MISP, a browser asking for HTML gets the editor page at the same address.
    if super::negotiate::wants_html(&request) {
        return Ok(crate::render_page(state, request).await);
    }
    let (mut parts, _) = request.into_parts();
    let ApiUser(actor) = ApiUser::from_request_parts(&mut parts, &state).await?;
    Ok(Json(service::open_editor(&state, &actor, &id).await?).into_response())
}

#[utoipa::path(get, path = "/workflows/triggers", tag = WORKFLOWS,
    summary = "Trigger modules with their enable state, blocking flag and workflow",
    params(("scope" = Option<String>, Query, description = "Trigger scope (`event`, `attribute`, …)"),
           ("enabled" = Option<String>, Query, description = "`0` or `1`"),
           ("blocking" = Option<String>, Query, description = "`0` or `1`")),
    responses((status = 200, description = "Success", body = Vec<Object>), ErrorResponses))]
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

#[utoipa::path(get, path = "/workflows/moduleIndex", tag = WORKFLOWS,
    summary = "The module catalogue (MISP's module config shape)",
    params(("type" = Option<String>, Query, description = "`action` (default), `logic`, `trigger`, `custom` or `all`"),
           ("enabled" = Option<String>, Query, description = "`0` or `1`")),
    responses((status = 200, description = "Success", body = Vec<Object>), ErrorResponses))]
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

#[utoipa::path(get, path = "/workflows/moduleView/{module_id}", tag = WORKFLOWS,
    summary = "One module's config",
    params(("module_id" = String, Path)),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn view_module(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(module_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::view_module(&state, &actor, &module_id).await?,
    ))
}

#[utoipa::path(post, path = "/workflows/toggleModule/{module_id}/{enabled}/{is_trigger}", tag = WORKFLOWS,
    summary = "Enable or disable a module or trigger",
    params(("module_id" = String, Path), ("enabled" = String, Path, description = "`0` or `1`"),
           ("is_trigger" = String, Path, description = "`0` or `1`")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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

#[utoipa::path(post, path = "/workflows/debugToggleField/{id}/{enabled}", tag = WORKFLOWS,
    summary = "Switch a workflow's debug mode",
    params(("id" = String, Path), ("enabled" = String, Path, description = "`0` or `1`")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
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

#[utoipa::path(post, path = "/workflows/checkGraph", tag = WORKFLOWS,
    summary = "Validate a graph without saving it (cycles, multiple connections, path warnings)",
    request_body = GraphInput,
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
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
/// "Invalid JSON" outcome. A bare MISP event is handed to the engine as its bytes, indexed
/// ([`engine::EventSource`]): a core-format workflow that only reads tags and forwards the
/// event never builds a tree of it.
#[utoipa::path(post, path = "/workflows/executeWorkflow/{id}", tag = WORKFLOWS,
    summary = "Run a workflow on supplied data, synchronously (kept in the run log)",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = ExecuteInput,
    responses((status = 200, description = "Success", body = RunResult), ErrorResponses))]
async fn execute_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    BodyBytes(bytes): BodyBytes,
) -> Result<Json<Value>, ApiError> {
    if let Some(src) = engine::EventSource::index(&bytes) {
        let input = engine::RunInput::Source(src);
        return Ok(Json(
            service::execute_workflow_input(&state, &actor, &id, input).await?,
        ));
    }
    let input = match MispJson::parse(&bytes)?.0 {
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

/// MISP's form: `input_data` a JSON string (a JSON value is accepted too), `module_indexed_param`
/// the node's params, `convert_data` whether to build the core format first (absent ⇒ no, as in
/// MISP's controller).
#[utoipa::path(post, path = "/workflows/moduleStatelessExecution/{module_id}", tag = WORKFLOWS,
    summary = "Run one module on supplied data, outside any workflow",
    params(("module_id" = String, Path)),
    request_body = StatelessInput,
    responses((status = 200, description = "Success", body = StatelessResult), ErrorResponses))]
async fn module_stateless_execution(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(module_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    // Refuse non-admins before saying anything about their body.
    actor.require_site_admin_writer()?;
    let invalid = |m: String| ApiError::from(AppError::Invalid(m));
    let mut body = match body.unwrap_model("Workflow") {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        _ => return Err(invalid("The request body must be a JSON object.".into())),
    };
    let input = match body.remove("input_data") {
        Some(Value::String(text)) if text.trim().is_empty() => json!([]),
        Some(Value::String(text)) => serde_json::from_str(&text)
            .map_err(|e| invalid(format!("`input_data` is not valid JSON: {e}")))?,
        Some(Value::Null) | None => json!([]),
        Some(other) => other,
    };
    let params = body.remove("module_indexed_param").unwrap_or(Value::Null);
    let convert = loose_bool(body.get("convert_data"));
    Ok(Json(
        service::module_stateless_execution(&state, &actor, &module_id, input, &params, convert)
            .await?,
    ))
}

/// Enable state and listening indexes live in the database: there is nothing to rebuild.
#[utoipa::path(method(get, post), path = "/workflows/rebuildRedis", tag = WORKFLOWS,
    summary = "MISP compatibility: nothing to rebuild (state is in the database)",
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn rebuild_redis(ApiUser(actor): ApiUser, uri: OriginalUri) -> Result<Json<Value>, ApiError> {
    service::rebuild_redis(&actor)?;
    Ok(saved(
        "Nothing to rebuild: workflow state is kept in the database.",
        &uri,
    ))
}

/// Flowgate: asks the misp-modules and custom module servers for their action modules now.
#[utoipa::path(post, path = "/workflows/refreshModules", tag = WORKFLOWS,
    summary = "Discover the action modules of the module servers now (Flowgate)",
    responses((status = 200, description = "Each server's status", body = Object), ErrorResponses))]
async fn refresh_modules(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::action_modules::refresh_now(&state, &actor).await?,
    ))
}

/// Flowgate: each module server's status at the last discovery.
#[utoipa::path(get, path = "/workflows/moduleServers", tag = WORKFLOWS,
    summary = "Module servers and what they answered at the last discovery (Flowgate)",
    responses((status = 200, description = "Each server's status", body = Object), ErrorResponses))]
async fn module_servers(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(app::backend::services::action_modules::statuses(
        &state, &actor,
    )?))
}

/// `GET /workflows/logs`: runs newest first; filters `workflow_id`, `trigger_id`, `outcome`,
/// `from`/`to` (Unix seconds); `limit` and the `before` cursor for paging.
#[utoipa::path(get, path = "/workflows/logs", tag = RUNS,
    summary = "Runs, newest first, filtered and paged by cursor",
    params(("workflow_id" = Option<i32>, Query), ("trigger_id" = Option<String>, Query),
           ("outcome" = Option<String>, Query, description = "`success`, `failure` or `blocked`"),
           ("from" = Option<i64>, Query, description = "Unix seconds"), ("to" = Option<i64>, Query, description = "Unix seconds"),
           ("before" = Option<String>, Query, description = "Cursor: `next` of the previous page"),
           ("limit" = Option<u64>, Query)),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn list_runs(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<app::backend::services::runs::RunQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::runs::list_runs(&state, &actor, &q).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct JobQuery {
    status: Option<String>,
    limit: Option<u64>,
}

/// `GET /workflows/jobs` (Flowgate's): the durable queue's jobs, newest first; `status` one of
/// queued, running, retrying, dead, done, `all` (default: every unfinished one).
#[utoipa::path(get, path = "/workflows/jobs", tag = RUNS,
    summary = "Background jobs (concurrent-task branches): queued, running, retrying or dead, with their errors",
    params(("status" = Option<String>, Query, description = "`queued`, `running`, `retrying`, `dead`, `done` or `all`"),
           ("limit" = Option<u64>, Query)),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn list_jobs(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<JobQuery>,
) -> Result<Json<Value>, ApiError> {
    let rows = app::backend::services::jobs::list(
        &state,
        &actor,
        q.status.as_deref().unwrap_or(""),
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(app::backend::services::jobs::list_json(&rows)))
}

/// `POST /workflows/jobs/retry/<id>`: a dead or retrying job back in the queue, attempts reset.
#[utoipa::path(post, path = "/workflows/jobs/retry/{id}", tag = RUNS,
    summary = "Queue a dead or retrying job again",
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn retry_job(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    app::backend::services::jobs::retry(&state, &actor, &id).await?;
    Ok(saved("Job queued again.", &uri))
}

/// `POST /workflows/jobs/discard/<id>`: removes a job that is not running.
#[utoipa::path(post, path = "/workflows/jobs/discard/{id}", tag = RUNS,
    summary = "Discard a job that is not running",
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn discard_job(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    app::backend::services::jobs::discard(&state, &actor, &id).await?;
    Ok(saved("Job discarded.", &uri))
}

/// `GET /workflows/logs/<run_id>`: one run with its per-node trace.
#[utoipa::path(get, path = "/workflows/logs/{run_id}", tag = RUNS,
    summary = "One run with its per-node trace",
    params(("run_id" = String, Path)),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
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
#[utoipa::path(post, path = "/workflows/massToggleField/enabled/{enabled}/{is_trigger}", tag = WORKFLOWS,
    summary = "Enable or disable several modules at once (all or nothing)",
    params(("enabled" = String, Path, description = "`0` or `1`"), ("is_trigger" = String, Path, description = "`0` or `1`")),
    request_body = MassToggleInput,
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn mass_toggle(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((enabled, is_trigger)): Path<(String, String)>,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    // Refuse non-admins before saying anything about their body.
    actor.require_site_admin_writer()?;
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
#[utoipa::path(get, path = "/workflows/adhoc", tag = WORKFLOWS,
    summary = "Ad-hoc workflows with their data-input scope and filters",
    params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query)),
    responses((status = 200, description = "Success", body = Vec<Object>), ErrorResponses))]
async fn list_adhoc(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // A browser asking for HTML gets the Ad-hoc workflows page at the same address.
    if super::negotiate::wants_html(&request) {
        return Ok(crate::render_page(state, request).await);
    }
    let (mut parts, _) = request.into_parts();
    let ApiUser(actor) = ApiUser::from_request_parts(&mut parts, &state).await?;
    Ok(
        Json(
            service::list_adhoc(&state, &actor, q.page.unwrap_or(1), q.limit.unwrap_or(60)).await?,
        )
        .into_response(),
    )
}
