//! Workflow administration (MISP's `/workflows/*`): validated saves that never half-write,
//! stale-save detection, the trigger list, module switches, graph checks and synchronous runs.
use std::collections::HashMap;

use engine::{Graph, ModuleKind, ModuleSwitches, RunInput, RunReport, WorkflowInfo};
use sea_orm::TransactionTrait;
use serde_json::{json, Value};

use super::input::{check_text, loose_bool, optional_unix_time, optional_uuid};
use crate::backend::entities::workflow;
use crate::backend::store::{runs, settings, workflows};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// The server setting that switches a hook trigger on (MISP: `Plugin.Workflow_triggers_<id>`).
pub fn trigger_setting(trigger_id: &str) -> String {
    format!("Plugin.Workflow_triggers_{trigger_id}")
}

/// Enabled hook triggers, from their settings (one query).
async fn enabled_triggers(state: &AppState) -> Result<HashMap<String, bool>, AppError> {
    let prefix = trigger_setting("");
    Ok(settings::list_settings_with_prefix(&state.db, &prefix)
        .await?
        .into_iter()
        .map(|(name, value)| {
            (
                name[prefix.len()..].to_owned(),
                value.as_bool().unwrap_or(false),
            )
        })
        .collect())
}

/// MISP's `{"Workflow": {…}}` with `data` as JSON and the configs of the triggers it listens on.
fn workflow_json(
    model: &workflow::Model,
    state: &AppState,
    enabled: &HashMap<String, bool>,
) -> Value {
    let data: Value = serde_json::from_str(&model.data).unwrap_or_else(|_| json!({}));
    let registry = state.workflows.registry();
    let listening: Vec<Value> = Graph::from_value(&data)
        .map(|graph| {
            graph
                .nodes
                .iter()
                .filter_map(|node| registry.get(&node.module_id))
                .filter(|module| module.config().kind == ModuleKind::Trigger)
                .map(|module| {
                    let id = &module.config().id;
                    module
                        .config()
                        .to_misp_config(!enabled.get(id).copied().unwrap_or(false))
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"Workflow": {
        "id": model.id.to_string(),
        "uuid": model.uuid,
        "name": model.name,
        "description": model.description,
        "timestamp": model.timestamp.to_string(),
        "enabled": model.enabled,
        "counter": model.counter.to_string(),
        "trigger_id": model.trigger_id,
        "debug_enabled": model.debug_enabled,
        "data": data,
        "listening_triggers": listening,
    }})
}

/// Finds a workflow by numeric id or UUID.
async fn find(state: &AppState, id_or_uuid: &str) -> Result<workflow::Model, AppError> {
    let found = match id_or_uuid.parse::<i32>() {
        Ok(id) => workflows::find_workflow(&state.db, id).await?,
        Err(_) => workflows::find_workflow_by_uuid(&state.db, id_or_uuid).await?,
    };
    found.ok_or_else(|| AppError::NotFound("Invalid workflow.".into()))
}

pub async fn index_workflows(
    state: &AppState,
    actor: &Principal,
    filter: &workflows::WorkflowFilter,
    page: u64,
    limit: u64,
) -> Result<Vec<Value>, AppError> {
    actor.require_site_admin()?;
    let enabled = enabled_triggers(state).await?;
    Ok(
        workflows::list_workflows(&state.db, filter, page.max(1), limit.clamp(1, 1000))
            .await?
            .iter()
            .map(|m| workflow_json(m, state, &enabled))
            .collect(),
    )
}

pub async fn view_workflow(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let model = find(state, id_or_uuid).await?;
    Ok(workflow_json(
        &model,
        state,
        &enabled_triggers(state).await?,
    ))
}

/// The graph a client sends: a JSON string (MISP's form) or the object itself.
fn parse_graph_input(data: &Value) -> Result<Value, AppError> {
    match data {
        Value::String(text) => serde_json::from_str(text)
            .map_err(|e| AppError::Invalid(format!("The workflow data is not valid JSON: {e}"))),
        Value::Object(_) | Value::Array(_) => Ok(data.clone()),
        _ => Err(AppError::Invalid(
            "The workflow data must be a graph (JSON object).".into(),
        )),
    }
}

/// Checks a graph for saving on `trigger_id`; returns its canonical JSON.
fn validate_for_save(state: &AppState, trigger_id: &str, data: &Value) -> Result<String, AppError> {
    let graph = Graph::from_value(data).map_err(|e| AppError::Rejected {
        message: "Invalid workflow data.".into(),
        errors: vec![e.to_string()],
    })?;
    let registry = state.workflows.registry();
    let validation = engine::validate(&graph, registry, state.workflows.modules.as_ref());
    if !validation.is_valid() {
        let mut errors: Vec<String> = Vec::new();
        for e in &validation.errors {
            let m = e.to_string();
            if !errors.contains(&m) {
                errors.push(m);
            }
        }
        return Err(AppError::Rejected {
            message: validation.message(),
            errors,
        });
    }
    let graph_triggers: Vec<&str> = graph
        .nodes
        .iter()
        .filter(|n| {
            registry
                .get(&n.module_id)
                .is_some_and(|m| m.config().kind == ModuleKind::Trigger)
        })
        .map(|n| n.module_id.as_str())
        .collect();
    if graph_triggers != [trigger_id] {
        return Err(AppError::Rejected {
            message: "Cannot save a workflow whose trigger node differs from its trigger.".into(),
            errors: vec![format!(
                "The workflow's trigger is `{trigger_id}` but its graph starts with `{}`.",
                graph_triggers.join("`, `")
            )],
        });
    }
    Ok(graph.to_value().to_string())
}

fn check_trigger(state: &AppState, trigger_id: &str) -> Result<(), AppError> {
    match state.workflows.registry().get(trigger_id) {
        Some(module) if module.config().kind == ModuleKind::Trigger => Ok(()),
        _ => Err(AppError::Invalid(format!(
            "Unknown trigger `{trigger_id}`."
        ))),
    }
}

/// `POST /workflows/add` input (`{"Workflow": {…}}`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AddWorkflow {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub trigger_id: Option<String>,
    #[serde(default)]
    pub debug_enabled: Option<Value>,
    #[serde(default)]
    pub uuid: Option<String>,
}

pub async fn add_workflow(
    state: &AppState,
    actor: &Principal,
    input: AddWorkflow,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    let Some(trigger_id) = input
        .trigger_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(AppError::Invalid(
            "A trigger_id is required (ad-hoc workflows are not available yet).".into(),
        ));
    };
    check_trigger(state, trigger_id)?;
    let data = match &input.data {
        Some(data) if !matches!(data, Value::String(s) if s.trim().is_empty()) => {
            parse_graph_input(data)?
        }
        _ => {
            return Err(AppError::Invalid(
                "The workflow data (its graph) is required.".into(),
            ))
        }
    };
    let data = validate_for_save(state, trigger_id, &data)?;
    let uuid =
        optional_uuid(input.uuid.as_deref())?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let name = match input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => check_text("name", n, 191)?,
        None => format!("Workflow for trigger {trigger_id}"),
    };
    let description = check_text(
        "description",
        input.description.as_deref().unwrap_or(""),
        191,
    )?;
    if workflows::find_workflow_by_trigger(&state.db, trigger_id)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "A workflow already exists for trigger `{trigger_id}`: edit it instead."
        )));
    }
    if workflows::find_workflow_by_uuid(&state.db, &uuid)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "A workflow with this UUID already exists.".into(),
        ));
    }
    let model = workflows::insert_workflow(
        &state.db,
        workflows::NewWorkflow {
            uuid,
            name,
            description,
            timestamp: now(),
            trigger_id: trigger_id.to_owned(),
            debug_enabled: loose_bool(input.debug_enabled.as_ref()),
            data,
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("A workflow already exists for this trigger or UUID.".into())
        }
        _ => AppError::from(e),
    })?;
    Ok(workflow_json(
        &model,
        state,
        &enabled_triggers(state).await?,
    ))
}

/// `POST /workflows/edit/<id>` input. `timestamp` is the version the client last saw: when it
/// is given and no longer current, the save is refused instead of overwriting another edit.
#[derive(Debug, Default, serde::Deserialize)]
pub struct EditWorkflow {
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub debug_enabled: Option<Value>,
    #[serde(default)]
    pub timestamp: Option<Value>,
}

pub async fn edit_workflow(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    input: EditWorkflow,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    let current = find(state, id_or_uuid).await?;
    let expected = optional_unix_time(input.timestamp.as_ref())?;
    let data = match &input.data {
        Some(data) => validate_for_save(state, &current.trigger_id, &parse_graph_input(data)?)?,
        None => current.data.clone(),
    };
    let name = match &input.name {
        Some(n) if !n.trim().is_empty() => check_text("name", n, 191)?,
        _ => current.name.clone(),
    };
    let description = match &input.description {
        Some(d) => check_text("description", d, 191)?,
        None => current.description.clone(),
    };
    let debug_enabled = match &input.debug_enabled {
        Some(v) => loose_bool(Some(v)),
        None => current.debug_enabled,
    };
    if expected.is_some_and(|e| e != current.timestamp) {
        return Err(stale());
    }
    // A save in the same second as the previous one still gets a new version.
    let timestamp = now().max(current.timestamp + 1);
    let txn = state.db.begin().await?;
    let written = workflows::update_workflow(
        &txn,
        current.id,
        Some(expected.unwrap_or(current.timestamp)),
        workflows::WorkflowChanges {
            name,
            description,
            debug_enabled,
            data,
            timestamp,
        },
    )
    .await?;
    if !written {
        return Err(stale());
    }
    txn.commit().await?;
    view_workflow(state, actor, &current.id.to_string()).await
}

fn stale() -> AppError {
    AppError::Conflict(
        "The workflow was changed by someone else since you loaded it. Reload it and apply your changes again."
            .into(),
    )
}

pub async fn delete_workflow(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<i32, AppError> {
    actor.require_site_admin_writer()?;
    let model = find(state, id_or_uuid).await?;
    workflows::delete_workflow(&state.db, model.id).await?;
    Ok(model.id)
}

pub async fn set_debug(
    state: &AppState,
    actor: &Principal,
    id: &str,
    enabled: bool,
) -> Result<(), AppError> {
    actor.require_site_admin_writer()?;
    let model = find(state, id).await?;
    workflows::update_debug_enabled(&state.db, model.id, enabled).await?;
    Ok(())
}

/// `GET /workflows/triggers`: every hook trigger's config with its workflow, filterable.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TriggerFilter {
    pub scope: Option<String>,
    pub enabled: Option<bool>,
    pub blocking: Option<bool>,
}

pub async fn list_triggers(
    state: &AppState,
    actor: &Principal,
    filter: &TriggerFilter,
) -> Result<Vec<Value>, AppError> {
    actor.require_site_admin()?;
    let enabled = enabled_triggers(state).await?;
    let registry = state.workflows.registry();
    let triggers: Vec<_> = registry
        .of_kind(ModuleKind::Trigger)
        .map(|m| m.config().clone())
        .collect();
    let rows = workflows::find_workflows_by_triggers(
        &state.db,
        triggers.iter().map(|t| t.id.clone()).collect(),
    )
    .await?;
    let by_trigger: HashMap<&str, &workflow::Model> =
        rows.iter().map(|w| (w.trigger_id.as_str(), w)).collect();
    Ok(triggers
        .iter()
        .filter(|t| {
            let on = enabled.get(&t.id).copied().unwrap_or(false);
            filter
                .scope
                .as_deref()
                .is_none_or(|s| t.trigger.as_ref().is_some_and(|i| i.scope == s))
                && filter.enabled.is_none_or(|e| e == on)
                && filter.blocking.is_none_or(|b| b == t.blocking)
        })
        .map(|t| {
            let mut config = t.to_misp_config(!enabled.get(&t.id).copied().unwrap_or(false));
            let workflow = by_trigger
                .get(t.id.as_str())
                .map(|w| workflow_json(w, state, &enabled)["Workflow"].clone())
                .unwrap_or_else(|| json!({}));
            if let Value::Object(map) = &mut config {
                map.insert("Workflow".into(), workflow);
            }
            config
        })
        .collect())
}

/// `GET /workflows/moduleIndex?type=…`: module configs with their enable state.
pub async fn module_index(
    state: &AppState,
    actor: &Principal,
    kind: &str,
    enabled: Option<bool>,
) -> Result<Vec<Value>, AppError> {
    actor.require_site_admin()?;
    let kind = match kind {
        "" | "action" => Some(ModuleKind::Action),
        "logic" => Some(ModuleKind::Logic),
        "trigger" => Some(ModuleKind::Trigger),
        "all" => None,
        other => {
            return Err(AppError::Invalid(format!(
                "Unknown module type `{other}` (action, logic, trigger, all)."
            )))
        }
    };
    let triggers_on = enabled_triggers(state).await?;
    let switches = state.workflows.modules.as_ref();
    let registry = state.workflows.registry();
    Ok(registry
        .iter()
        .map(|m| m.config())
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter_map(|c| {
            let on = if c.kind == ModuleKind::Trigger {
                triggers_on.get(&c.id).copied().unwrap_or(false)
            } else {
                switches.is_enabled(&c.id)
            };
            enabled
                .is_none_or(|e| e == on)
                .then(|| c.to_misp_config(!on))
        })
        .collect())
}

pub async fn view_module(
    state: &AppState,
    actor: &Principal,
    module_id: &str,
) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let module = state
        .workflows
        .registry()
        .get(module_id)
        .ok_or_else(|| AppError::NotFound("Invalid module.".into()))?;
    let config = module.config();
    let on = if config.kind == ModuleKind::Trigger {
        enabled_triggers(state)
            .await?
            .get(module_id)
            .copied()
            .unwrap_or(false)
    } else {
        state.workflows.modules.is_enabled(module_id)
    };
    let mut json = config.to_misp_config(!on);
    if config.kind == ModuleKind::Trigger {
        let workflow = workflows::find_workflow_by_trigger(&state.db, module_id).await?;
        let enabled = enabled_triggers(state).await?;
        if let Value::Object(map) = &mut json {
            let wf = workflow
                .as_ref()
                .map(|w| workflow_json(w, state, &enabled)["Workflow"].clone());
            map.insert("Workflow".into(), wf.clone().unwrap_or_else(|| json!({})));
            map.insert(
                "listening_workflows".into(),
                json!(wf.into_iter().collect::<Vec<_>>()),
            );
        }
    }
    Ok(json)
}

/// Switches a module (or, with `is_trigger`, a hook trigger) on or off.
pub async fn toggle_module(
    state: &AppState,
    actor: &Principal,
    module_id: &str,
    enabled: bool,
    is_trigger: bool,
) -> Result<(), AppError> {
    actor.require_site_admin_writer()?;
    let module = state
        .workflows
        .registry()
        .get(module_id)
        .ok_or_else(|| AppError::NotFound("Invalid module.".into()))?;
    let trigger = module.config().kind == ModuleKind::Trigger;
    if trigger != is_trigger {
        return Err(AppError::Invalid(format!(
            "`{module_id}` is {}a trigger.",
            if trigger { "" } else { "not " }
        )));
    }
    if trigger {
        settings::upsert_setting(&state.db, &trigger_setting(module_id), &json!(enabled)).await?;
    } else {
        state
            .workflows
            .modules
            .set(&state.db, module_id, enabled)
            .await?;
    }
    Ok(())
}

/// `POST /workflows/checkGraph`: MISP's `{is_acyclic, multiple_output_connection, path_warnings}`.
pub fn check_graph(state: &AppState, actor: &Principal, graph: &Value) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let graph = Graph::from_value(&parse_graph_input(graph)?)
        .map_err(|e| AppError::Invalid(format!("Invalid workflow data: {e}")))?;
    Ok(engine::validate(
        &graph,
        state.workflows.registry(),
        state.workflows.modules.as_ref(),
    )
    .check_graph())
}

/// Runs a workflow synchronously on `input` (`executeWorkflow`) and keeps the run in the log.
pub async fn execute_workflow(
    state: &AppState,
    actor: &Principal,
    id: &str,
    input: Value,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    let model = find(state, id).await?;
    let graph_json: Value = serde_json::from_str(&model.data).map_err(|e| {
        tracing::error!(error = %e, workflow = model.id, "stored workflow data is not JSON");
        AppError::Internal
    })?;
    let graph = Graph::from_value(&graph_json).map_err(|e| {
        tracing::error!(error = %e, workflow = model.id, "stored workflow graph does not parse");
        AppError::Internal
    })?;
    let info = WorkflowInfo {
        id: i64::from(model.id),
        uuid: model.uuid.clone(),
        name: model.name.clone(),
        trigger_id: model.trigger_id.clone(),
        debug_enabled: model.debug_enabled,
    };
    let prepared = state
        .workflows
        .engine
        .prepare(info, graph)
        .map_err(|v| AppError::Rejected {
            message: v.message(),
            errors: v.errors.iter().map(|e| e.to_string()).collect(),
        })?;
    let started_at_us = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
    let clock = std::time::Instant::now();
    let report = state
        .workflows
        .engine
        .execute(&prepared, RunInput::Raw(input), None)
        .await;
    let duration_us = i64::try_from(clock.elapsed().as_micros()).unwrap_or(i64::MAX);
    let run_id = record_run(
        state,
        &model,
        actor.user.id,
        "executeWorkflow",
        i64::try_from(started_at_us).unwrap_or(0),
        duration_us,
        &report,
    )
    .await?;
    Ok(run_json(&report, run_id))
}

fn outcome_str(report: &RunReport) -> String {
    serde_json::to_value(report.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn record_run(
    state: &AppState,
    model: &workflow::Model,
    user_id: i32,
    action: &str,
    started_at_us: i64,
    duration_us: i64,
    report: &RunReport,
) -> Result<i64, AppError> {
    let nodes = report
        .nodes
        .iter()
        .map(|n| runs::NewRunNode {
            node_id: i32::try_from(n.node_id.0).unwrap_or(-1),
            module_id: n.module_id.clone(),
            status: serde_json::to_value(n.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            duration_us: i64::try_from(n.duration_us).unwrap_or(i64::MAX),
            errors: json!(n.errors).to_string(),
            data: None,
        })
        .collect();
    let txn = state.db.begin().await?;
    let id = runs::insert_run(
        &txn,
        runs::NewRun {
            workflow_id: model.id,
            trigger_id: model.trigger_id.clone(),
            started_at_us,
            duration_us,
            success: report.success,
            outcome: outcome_str(report),
            outcome_text: report.outcome_text.clone(),
            user_id,
            action: action.to_owned(),
            debug: model.debug_enabled,
            walk: json!({"walk_result": report.walk, "errors": report.errors}).to_string(),
        },
        nodes,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// MISP's `{success, outcome}` plus the walk result, per-node results and the run-log id.
pub fn run_json(report: &RunReport, run_id: i64) -> Value {
    json!({
        "success": report.success,
        "outcome": outcome_str(report),
        "outcome_text": report.outcome_text,
        "walk_result": report.walk,
        "errors": report.errors,
        "nodes": report.nodes,
        "run_id": run_id,
    })
}

/// A stored workflow's graph, for `?format=dot|mermaid`.
pub async fn workflow_graph(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<Graph, AppError> {
    actor.require_site_admin()?;
    let model = find(state, id_or_uuid).await?;
    serde_json::from_str::<Value>(&model.data)
        .ok()
        .and_then(|v| Graph::from_value(&v).ok())
        .ok_or_else(|| {
            tracing::error!(workflow = model.id, "stored workflow graph does not parse");
            AppError::Internal
        })
}

/// `massToggleField/enabled/<0|1>/<is_trigger>`: switches several modules (or triggers) at
/// once. Every id is checked first, so an unknown id changes nothing. Returns how many changed.
pub async fn mass_toggle(
    state: &AppState,
    actor: &Principal,
    module_ids: &[String],
    enabled: bool,
    is_trigger: bool,
) -> Result<usize, AppError> {
    actor.require_site_admin_writer()?;
    let registry = state.workflows.registry();
    for id in module_ids {
        let kind = registry
            .get(id)
            .map(|m| m.config().kind)
            .ok_or_else(|| AppError::NotFound(format!("Invalid module `{id}`.")))?;
        if (kind == ModuleKind::Trigger) != is_trigger {
            return Err(AppError::Invalid(format!(
                "`{id}` is {}a trigger.",
                if is_trigger { "not " } else { "" }
            )));
        }
    }
    for id in module_ids {
        toggle_module(state, actor, id, enabled, is_trigger).await?;
    }
    Ok(module_ids.len())
}
