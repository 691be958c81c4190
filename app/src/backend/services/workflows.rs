//! Workflow administration (MISP's `/workflows/*`): validated saves that never half-write,
//! stale-save detection, the trigger list, module switches, graph checks and synchronous runs.
use std::collections::HashMap;
use std::sync::Arc;

use engine::{
    Graph, ModuleKind, ModuleSwitches, RunInput, RunReport, StatelessError, WorkflowInfo,
};
use sea_orm::TransactionTrait;
use serde_json::{json, Value};

use super::audit::{self, diff, Entry};
use super::input::{check_text, loose_bool, optional_unix_time, optional_uuid};
use crate::backend::entities::workflow;
use crate::backend::runtime::PreparedWorkflow;
use crate::backend::store::{runs, settings, workflows};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// The server setting that switches a hook trigger on (MISP: `Plugin.Workflow_triggers_<id>`).
pub fn trigger_setting(trigger_id: &str) -> String {
    format!("Plugin.Workflow_triggers_{trigger_id}")
}

/// Highest page number accepted by the list routes (deeper pages are refused by clamping).
const MAX_PAGE: u64 = 1_000_000;

/// The number `n` of an ad-hoc trigger id `adhoc_<n>`.
pub fn adhoc_number(trigger_id: &str) -> Option<u64> {
    trigger_id.strip_prefix("adhoc_")?.parse().ok()
}

/// The config of a hook trigger (from the registry) or of an ad-hoc trigger `adhoc_<n>`.
pub(crate) fn trigger_config(state: &AppState, trigger_id: &str) -> Option<engine::ModuleConfig> {
    use engine::Module;
    match state.workflows.registry().get(trigger_id) {
        Some(module) if module.config().kind == ModuleKind::Trigger => {
            Some(module.config().clone())
        }
        Some(_) => None,
        None => adhoc_number(trigger_id).map(|n| {
            engine::modules::triggers::Trigger::adhoc(n)
                .config()
                .clone()
        }),
    }
}

/// Whether a trigger is switched on: hook triggers by their setting, ad-hoc ones by their
/// module switch (MISP: the Redis set of enabled ad-hoc workflows).
fn trigger_enabled(state: &AppState, enabled: &HashMap<String, bool>, trigger_id: &str) -> bool {
    if adhoc_number(trigger_id).is_some() {
        state.workflows.modules.is_enabled(trigger_id)
    } else {
        enabled.get(trigger_id).copied().unwrap_or(false)
    }
}

/// Whether any module is switched on: triggers by [`trigger_enabled`], logic and action modules
/// by their switch.
fn module_enabled(
    state: &AppState,
    enabled: &HashMap<String, bool>,
    config: &engine::ModuleConfig,
) -> bool {
    if config.kind == ModuleKind::Trigger {
        trigger_enabled(state, enabled, &config.id)
    } else {
        state.workflows.modules.is_enabled(&config.id)
    }
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
    let listening: Vec<Value> = Graph::from_value(&data)
        .map(|graph| {
            graph
                .triggers()
                .filter_map(|node| trigger_config(state, &node.module_id))
                .map(|config| config.to_misp_config(!trigger_enabled(state, enabled, &config.id)))
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
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
    let enabled = enabled_triggers(state).await?;
    Ok(workflows::list_workflows(
        &state.db,
        filter,
        page.clamp(1, MAX_PAGE),
        limit.clamp(1, 1000),
    )
    .await?
    .iter()
    .map(|m| workflow_json(m, state, &enabled))
    .collect())
}

pub async fn view_workflow(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
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
    let validation = engine::validate(&graph, &registry, state.workflows.modules.as_ref());
    if !validation.is_valid() {
        return Err(AppError::Rejected {
            message: validation.message(),
            errors: validation.messages(),
        });
    }
    let graph_triggers: Vec<&str> = graph.triggers().map(|n| n.module_id.as_str()).collect();
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
    match trigger_config(state, trigger_id) {
        Some(_) => Ok(()),
        None => Err(AppError::Invalid(format!(
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
    let requested = input
        .trigger_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let data_given = match &input.data {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(Value::Array(list)) => !list.is_empty(),
        Some(Value::Object(map)) => !map.is_empty(),
        Some(_) => true,
    };
    let (trigger_id, data) = match (requested, &input.data) {
        (Some(t), _) if adhoc_number(t).is_some() => {
            return Err(AppError::Invalid(
                "Ad-hoc trigger ids are given by the server: send empty data and no trigger_id to add an ad-hoc workflow.".into(),
            ))
        }
        (Some(t), Some(data)) if data_given => {
            check_trigger(state, t)?;
            (t.to_owned(), validate_for_save(state, t, &parse_graph_input(data)?)?)
        }
        (Some(t), _) => {
            check_trigger(state, t)?;
            return Err(AppError::Invalid("The workflow data (its graph) is required.".into()));
        }
        (None, _) if data_given => {
            return Err(AppError::Invalid(
                "A trigger_id is required (send empty data and no trigger_id to add an ad-hoc workflow).".into(),
            ))
        }
        // MISP: empty data makes an ad-hoc workflow `adhoc_<max(id)+1>` holding only its trigger.
        (None, _) => {
            let n = u64::try_from(workflows::max_workflow_id(&state.db).await?).unwrap_or(0) + 1;
            (format!("adhoc_{n}"), adhoc_graph(n).to_string())
        }
    };
    let trigger_id = trigger_id.as_str();
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
    let txn = state.db.begin().await?;
    let model = workflows::insert_workflow(
        &txn,
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
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Workflow", model.id, "add", workflow_title(&model)),
    )
    .await?;
    txn.commit().await?;
    crate::backend::runtime::forget_workflows();
    super::hooks::refresh_listeners(state).await;
    Ok(workflow_json(
        &model,
        state,
        &enabled_triggers(state).await?,
    ))
}

/// The graph of a new ad-hoc workflow: its trigger alone. Unlike MISP, whose default scope
/// (`passed_filters`) is not one of the options and collects nothing, a new ad-hoc trigger runs
/// on the data it is given (`passed_roaming_data`).
fn adhoc_graph(n: u64) -> Value {
    use engine::Module;
    let trigger = engine::modules::triggers::Trigger::adhoc(n);
    trigger_graph(
        trigger.config(),
        json!({"scope": "passed_roaming_data", "filters": "{}"}),
    )
}

/// A graph holding only `config`'s trigger node, as MISP's editor creates it (spec §9).
fn trigger_graph(config: &engine::ModuleConfig, params: Value) -> Value {
    let mut data = config.to_misp_config(false);
    data["indexed_params"] = params;
    json!({"1": {
        "id": 1,
        "name": config.name,
        "class": "block-type-trigger",
        "typenode": false,
        "data": data,
        "inputs": [],
        "outputs": {"output_1": {"connections": []}},
        "pos_x": 0,
        "pos_y": 0,
    }})
}

/// `GET /workflows/editor/<id|uuid|trigger_id>`: the workflow the editor opens. A hook trigger
/// without a workflow gets one on first open, as in MISP: "Workflow for trigger <id>", holding
/// only the trigger node.
pub async fn open_editor(state: &AppState, actor: &Principal, id: &str) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
    let by_id = match id.parse::<i32>() {
        Ok(n) => workflows::find_workflow(&state.db, n).await?,
        Err(_) => workflows::find_workflow_by_uuid(&state.db, id).await?,
    };
    let model = match by_id {
        Some(m) => m,
        None => match workflows::find_workflow_by_trigger(&state.db, id).await? {
            Some(m) => m,
            None => {
                let Some(config) = trigger_config(state, id).filter(|_| adhoc_number(id).is_none())
                else {
                    return Err(AppError::NotFound("Invalid workflow or trigger.".into()));
                };
                actor.require_site_admin_writer()?;
                let created = workflows::insert_workflow(
                    &state.db,
                    workflows::NewWorkflow {
                        uuid: uuid::Uuid::new_v4().to_string(),
                        name: format!("Workflow for trigger {id}"),
                        description: String::new(),
                        timestamp: now(),
                        trigger_id: id.to_owned(),
                        debug_enabled: false,
                        data: trigger_graph(&config, json!({})).to_string(),
                    },
                )
                .await;
                match created {
                    Ok(m) => {
                        crate::backend::runtime::forget_workflows();
                        super::hooks::refresh_listeners(state).await;
                        m
                    }
                    // Two first opens at once: the other one created it.
                    Err(e)
                        if matches!(
                            e.sql_err(),
                            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                        ) =>
                    {
                        workflows::find_workflow_by_trigger(&state.db, id)
                            .await?
                            .ok_or(AppError::Internal)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        },
    };
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
    let (name_after, description_after) = (name.clone(), description.clone());
    let data_changed = data != current.data;
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
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Workflow", current.id, "edit", workflow_title(&current)).change(diff([
            ("name", current.name.clone(), name_after.clone()),
            (
                "description",
                current.description.clone(),
                description_after.clone(),
            ),
            (
                "debug_enabled",
                current.debug_enabled.to_string(),
                debug_enabled.to_string(),
            ),
            (
                "data",
                String::new(),
                if data_changed {
                    "(graph saved)".to_owned()
                } else {
                    String::new()
                },
            ),
        ])),
    )
    .await?;
    txn.commit().await?;
    crate::backend::runtime::forget_workflows();
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
    let txn = state.db.begin().await?;
    workflows::delete_workflow(&txn, model.id).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Workflow", model.id, "delete", workflow_title(&model)),
    )
    .await?;
    txn.commit().await?;
    crate::backend::runtime::forget_workflows();
    super::hooks::refresh_listeners(state).await;
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
    let txn = state.db.begin().await?;
    workflows::update_debug_enabled(&txn, model.id, enabled).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Workflow", model.id, "edit", workflow_title(&model)).change(diff([(
            "debug_enabled",
            model.debug_enabled.to_string(),
            enabled.to_string(),
        )])),
    )
    .await?;
    txn.commit().await?;
    crate::backend::runtime::forget_workflows();
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
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
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
            let on = module_enabled(state, &enabled, t);
            filter
                .scope
                .as_deref()
                .is_none_or(|s| t.trigger.as_ref().is_some_and(|i| i.scope == s))
                && filter.enabled.is_none_or(|e| e == on)
                && filter.blocking.is_none_or(|b| b == t.blocking)
        })
        .map(|t| {
            let mut config = t.to_misp_config(!module_enabled(state, &enabled, t));
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
    state.workflows.modules.refresh(&state.db).await?;
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
    let registry = state.workflows.registry();
    Ok(registry
        .iter()
        .map(|m| m.config())
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .filter_map(|c| {
            let on = module_enabled(state, &triggers_on, c);
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
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
    state.workflows.modules.refresh(&state.db).await?;
    let registry = state.workflows.registry();
    let module = registry
        .get(module_id)
        .ok_or_else(|| AppError::NotFound("Invalid module.".into()))?;
    let config = module.config();
    let enabled = enabled_triggers(state).await?;
    let mut json = config.to_misp_config(!module_enabled(state, &enabled, config));
    if config.kind == ModuleKind::Trigger {
        let workflow = workflows::find_workflow_by_trigger(&state.db, module_id).await?;
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
    let target = toggle_target(state, module_id, is_trigger).await?;
    let txn = state.db.begin().await?;
    apply_toggle(&txn, module_id, target, enabled).await?;
    audit::record(&txn, Some(actor), toggle_entry(module_id, enabled)).await?;
    txn.commit().await?;
    super::settings::forget_settings();
    remember_toggle(state, module_id, target, enabled);
    super::hooks::refresh_listeners(state).await;
    Ok(())
}

fn toggle_entry(module_id: &str, enabled: bool) -> Entry {
    Entry::new(
        "WorkflowModule",
        0,
        if enabled { "enable" } else { "disable" },
        format!("Workflow module {module_id}"),
    )
}

fn workflow_title(w: &workflow::Model) -> String {
    format!("Workflow ({}): {} [{}]", w.id, w.name, w.trigger_id)
}

/// Where a module's switch lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    /// A hook trigger: the `Plugin.Workflow_triggers_<id>` setting.
    HookTrigger,
    /// A logic/action module or an ad-hoc trigger: the module switch table.
    Module,
}

/// Checks that `module_id` exists and is (or is not) a trigger as the caller says.
async fn toggle_target(
    state: &AppState,
    module_id: &str,
    is_trigger: bool,
) -> Result<Switch, AppError> {
    let (trigger, switch) = if adhoc_number(module_id).is_some() {
        if workflows::find_workflow_by_trigger(&state.db, module_id)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound(format!("Invalid module `{module_id}`.")));
        }
        (true, Switch::Module)
    } else {
        let registry = state.workflows.registry();
        let module = registry
            .get(module_id)
            .ok_or_else(|| AppError::NotFound(format!("Invalid module `{module_id}`.")))?;
        match module.config().kind {
            ModuleKind::Trigger => (true, Switch::HookTrigger),
            _ => (false, Switch::Module),
        }
    };
    if trigger != is_trigger {
        return Err(AppError::Invalid(format!(
            "`{module_id}` is {}a trigger.",
            if trigger { "" } else { "not " }
        )));
    }
    Ok(switch)
}

/// Writes a switch; the in-memory cache is updated by [`remember_toggle`] once committed.
async fn apply_toggle(
    db: &impl sea_orm::ConnectionTrait,
    module_id: &str,
    target: Switch,
    enabled: bool,
) -> Result<(), AppError> {
    match target {
        Switch::HookTrigger => {
            settings::upsert_setting(db, &trigger_setting(module_id), &json!(enabled)).await?
        }
        Switch::Module => {
            crate::backend::store::module_states::upsert_module_state(db, module_id, enabled)
                .await?
        }
    }
    Ok(())
}

fn remember_toggle(state: &AppState, module_id: &str, target: Switch, enabled: bool) {
    if target == Switch::Module {
        state.workflows.modules.remember(module_id, enabled);
    }
}

/// `POST /workflows/checkGraph`: MISP's `{is_acyclic, multiple_output_connection, path_warnings}`.
pub fn check_graph(state: &AppState, actor: &Principal, graph: &Value) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let graph = Graph::from_value(&parse_graph_input(graph)?)
        .map_err(|e| AppError::Invalid(format!("Invalid workflow data: {e}")))?;
    Ok(engine::validate(
        &graph,
        &state.workflows.registry(),
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
    execute_workflow_input(state, actor, id, RunInput::Raw(input)).await
}

/// [`execute_workflow`] on input in any of the engine's forms, e.g. an event received as bytes
/// and indexed ([`engine::EventSource`]), which a core-format workflow runs on without parsing it
/// into a tree.
pub async fn execute_workflow_input(
    state: &AppState,
    actor: &Principal,
    id: &str,
    input: RunInput,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    run_workflow(state, actor, id, input, "executeWorkflow", None).await
}

/// A workflow's row and its graph validated for running (or why it does not validate), from the
/// runtime's cache while fresh (see `runtime::PreparedCache`), else loaded with `find`, parsed
/// and validated. Only valid workflows are cached. Module switches are re-read when more than a
/// second old, so switches flipped by another process count within a second.
async fn workflow_for_run<F, Fut>(
    state: &AppState,
    key: String,
    find: F,
) -> Result<
    (
        Arc<workflow::Model>,
        Result<Arc<engine::Prepared>, engine::Validation>,
    ),
    AppError,
>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<workflow::Model, AppError>>,
{
    let runtime = &state.workflows;
    runtime
        .modules
        .refresh_if_older(&state.db, crate::backend::runtime::MODULE_STATES_MAX_AGE)
        .await?;
    let engine = runtime.engine();
    let registry = engine.registry_arc();
    let switches = runtime.modules.version();
    let same_validation =
        |w: &PreparedWorkflow| w.switches == switches && Arc::ptr_eq(&w.registry, &registry);
    if let Some(w) = runtime.prepared.get(&key, same_validation) {
        return Ok((w.model, Ok(w.prepared)));
    }
    let generation = runtime.prepared.generation();
    let model = Arc::new(find().await?);
    let graph = serde_json::from_str::<Value>(&model.data)
        .ok()
        .and_then(|v| Graph::from_value(&v).ok())
        .ok_or_else(|| {
            tracing::error!(workflow = model.id, "stored workflow graph does not parse");
            AppError::Internal
        })?;
    let info = WorkflowInfo {
        id: i64::from(model.id),
        uuid: model.uuid.clone(),
        name: model.name.clone(),
        trigger_id: model.trigger_id.clone(),
        debug_enabled: model.debug_enabled,
    };
    match engine.prepare(info, graph) {
        Ok(prepared) => {
            let prepared = Arc::new(prepared);
            let cached = PreparedWorkflow {
                model: model.clone(),
                prepared: prepared.clone(),
                switches,
                registry,
            };
            runtime.prepared.put(key, cached, generation);
            Ok((model, Ok(prepared)))
        }
        Err(v) => Ok((model, Err(v))),
    }
}

/// Runs a workflow on `input`, or, for an ad-hoc workflow, on what its data-input scope
/// collects (spec §6.6): the payload itself (`passed_roaming_data`), the events the payload's
/// filters select (`passed_event_ids`) or the events the trigger's `filters` select (`events`),
/// one run per event, each kept in the run log. Answers the last run's result.
/// `only_scope` refuses ad-hoc workflows with another scope.
async fn run_workflow(
    state: &AppState,
    actor: &Principal,
    id: &str,
    input: RunInput,
    action: &str,
    only_scope: Option<&str>,
) -> Result<Value, AppError> {
    let key = match id.parse::<i32>() {
        Ok(n) => format!("id:{n}"),
        Err(_) => format!("uuid:{id}"),
    };
    let (model, prepared) = workflow_for_run(state, key, || find(state, id)).await?;
    let prepared = prepared.map_err(|v| AppError::Rejected {
        message: v.message(),
        errors: v.errors.iter().map(|e| e.to_string()).collect(),
    });
    let inputs = if adhoc_number(&model.trigger_id).is_some() {
        let input = match input {
            RunInput::Raw(v) | RunInput::Normalized(v) => v,
            RunInput::Data(d) => d.into_value(),
            RunInput::Source(src) => src.to_value(),
        };
        if !state.workflows.modules.is_enabled(&model.trigger_id) {
            return Ok(
                json!({"success": false, "outcome": "The ad-hoc trigger is disabled: nothing was run."}),
            );
        }
        let graph = &prepared.as_ref().map_err(Clone::clone)?.graph;
        let scope = adhoc_setting(graph, "scope", "passed_filters");
        if let Some(wanted) = only_scope {
            if scope != wanted {
                return Err(AppError::Invalid(format!(
                    "Workflow {} takes `{scope}` data, not `{wanted}`.",
                    model.id
                )));
            }
        }
        match scope.as_str() {
            "passed_roaming_data" => vec![RunInput::Raw(input)],
            // A payload that is already event data runs as it is.
            "passed_event_ids" if input.get("Event").is_some() => vec![RunInput::Raw(input)],
            "passed_event_ids" => raw_inputs(collect_events(state, actor, &input).await?),
            "events" => {
                let text = adhoc_setting(graph, "filters", "{}");
                let filters: Value = serde_json::from_str(&text).map_err(|e| {
                    AppError::Invalid(format!("The trigger's search filters are not JSON: {e}"))
                })?;
                raw_inputs(collect_events(state, actor, &filters).await?)
            }
            _ => Vec::new(),
        }
    } else {
        vec![input]
    };
    if inputs.is_empty() {
        return Ok(json!({"success": false, "outcome": "No data collected."}));
    }
    let prepared = prepared?;
    let mut last = Value::Null;
    for input in inputs {
        let (report, run_id) =
            execute_and_record(state, &model, &prepared, input, actor, action).await?;
        last = run_json(&report, run_id);
    }
    Ok(last)
}

/// Runs `prepared` on raw `input` and keeps the run in the run log (a debug run also keeps each
/// node's output, for the Logs viewer). Returns the report and the run's id.
async fn execute_and_record(
    state: &AppState,
    model: &workflow::Model,
    prepared: &engine::Prepared,
    input: RunInput,
    actor: &Principal,
    action: &str,
) -> Result<(RunReport, i64), AppError> {
    let timer = RunTimer::start();
    // The run of a queued job records the job's end with itself.
    let end = crate::backend::jobs::take_attempt_end();
    // Modules that act on the store do so as SYSTEM, one step down the chain (loop guard).
    let context = crate::backend::modules::RunContext::new(state.clone(), actor.chain_depth);
    let extension: Option<&(dyn std::any::Any + Send + Sync)> = Some(&context);
    // A concurrent-task job this run queues runs at the same depth.
    let (report, captured) = crate::backend::jobs::CHAIN_DEPTH
        .scope(actor.chain_depth, async {
            if model.debug_enabled {
                let (engine, sink) = state.workflows.capturing_engine();
                let report = engine.execute(prepared, input, extension).await;
                (report, sink.take())
            } else {
                let report = state
                    .workflows
                    .engine()
                    .execute(prepared, input, extension)
                    .await;
                (report, Vec::new())
            }
        })
        .await;
    let meta = timer.meta(actor.user.id, action);
    let run_id = record_run(state, model, meta, &report, captured, end).await?;
    Ok((report, run_id))
}

/// Runs the workflow of a blocking hook trigger (spec §3, §6.1) on `data`, inline, when
/// workflows are on (`Plugin.Workflow_enable`), the trigger is enabled and a workflow listens on
/// it; the run is kept in the run log with `action`. Returns the workflow's errors when it
/// blocks the action (the caller then changes nothing), `None` when the action may go on.
pub async fn run_blocking_hook(
    state: &AppState,
    trigger_id: &str,
    data: Value,
    action: &str,
    actor: &Principal,
) -> Result<Option<Vec<String>>, AppError> {
    if !state.workflows.listeners.listens(trigger_id) {
        return Ok(None);
    }
    Ok(run_hook(state, trigger_id, data, action, actor)
        .await?
        .and_then(|report| (!report.success).then(|| report.errors.clone())))
}

/// Runs the workflow saved for hook trigger `trigger_id` on `data` and keeps the run in the run
/// log with `action`; `None` when no workflow is saved for it.
pub async fn run_hook(
    state: &AppState,
    trigger_id: &str,
    data: Value,
    action: &str,
    actor: &Principal,
) -> Result<Option<RunReport>, AppError> {
    let found = workflow_for_run(state, format!("trigger:{trigger_id}"), || async {
        workflows::find_workflow_by_trigger(&state.db, trigger_id)
            .await?
            .ok_or_else(|| AppError::NotFound("Invalid workflow.".into()))
    })
    .await;
    let (model, prepared) = match found {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let prepared = prepared.map_err(|v| {
        tracing::error!(workflow = model.id, reason = %v.message(), "stored workflow does not validate");
        AppError::Internal
    })?;
    let (report, _) =
        execute_and_record(state, &model, &prepared, RunInput::Raw(data), actor, action).await?;
    Ok(Some(report))
}

fn raw_inputs(values: Vec<Value>) -> Vec<RunInput> {
    values.into_iter().map(RunInput::Raw).collect()
}

/// The events an ad-hoc run collects: each as `events/view` shows it to a site admin (MISP
/// fetches them as the executing user elevated to site admin, spec §6.7).
async fn collect_events(
    state: &AppState,
    actor: &Principal,
    filters: &Value,
) -> Result<Vec<Value>, AppError> {
    let filter = event_search(filters)?;
    let rows =
        crate::backend::store::events::list_events(&state.db, &filter.0, 1, filter.1).await?;
    let mut elevated = actor.clone();
    elevated.role.perm_site_admin = true;
    let mut out = Vec::with_capacity(rows.len());
    for ev in &rows {
        out.push(super::events::event_document(state, &elevated, ev).await?);
    }
    Ok(out)
}

/// The restSearch filters an ad-hoc run understands: `eventid` / `uuid` (one or a list),
/// `published`, `org`, `tags` (one tag name), `timestamp` (Unix seconds), `limit` (≤ 1,000).
fn event_search(
    filters: &Value,
) -> Result<(crate::backend::store::events::EventFilter, u64), AppError> {
    let Value::Object(map) = filters else {
        return Err(AppError::Invalid(
            "Event filters must be a JSON object, e.g. {\"eventid\": [12]}.".into(),
        ));
    };
    let mut filter = crate::backend::store::events::EventFilter::default();
    let mut limit = 100;
    let many = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Value::String(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
            Value::Number(n) => vec![n.to_string()],
            _ => Vec::new(),
        }
    };
    for (key, value) in map {
        match key.as_str() {
            "eventid" | "event_id" | "id" => {
                let ids = many(value);
                let parsed: Vec<i32> = ids.iter().filter_map(|i| i.parse().ok()).collect();
                if parsed.len() != ids.len() {
                    return Err(AppError::Invalid("`eventid` must hold event ids.".into()));
                }
                filter.ids = Some(parsed);
            }
            "uuid" => filter.uuid = many(value).into_iter().next(),
            "published" => filter.published = Some(loose_bool(Some(value))),
            "timestamp" => {
                filter.timestamp_from = value
                    .as_i64()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            }
            "limit" => {
                limit = value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(100)
                    .clamp(1, 1000)
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "Event filter `{other}` is not supported here (eventid, uuid, published, timestamp, limit)."
                )))
            }
        }
    }
    Ok((filter, limit))
}

/// `POST /events/runWorkflow/<event_id>` with `{"Event": {"<workflow id>": 1, …}}`: runs each
/// selected ad-hoc workflow whose scope is `passed_event_ids` on the event (payload
/// `{"eventid": [id]}`). The caller must be able to edit the event. Answers each run's result.
pub async fn run_workflows_on_event(
    state: &AppState,
    actor: &Principal,
    event_id: &str,
    selected: &Value,
) -> Result<Vec<(String, Value)>, AppError> {
    let ev = super::events::editable_event(state, actor, event_id).await?;
    let Value::Object(map) = selected else {
        return Err(AppError::Invalid(
            "Select workflows as {\"Event\": {\"<workflow id>\": 1}}.".into(),
        ));
    };
    let ids: Vec<&String> = map
        .iter()
        .filter(|(_, v)| loose_bool(Some(v)))
        .map(|(k, _)| k)
        .collect();
    if ids.is_empty() {
        return Err(AppError::Invalid("No workflow selected.".into()));
    }
    let mut out = Vec::new();
    for id in ids {
        let model = find(state, id).await?;
        if adhoc_number(&model.trigger_id).is_none() {
            return Err(AppError::Invalid(format!(
                "Workflow {id} is not an ad-hoc workflow."
            )));
        }
        let action = format!("events/runWorkflow/{}", ev.id);
        let result = run_workflow(
            state,
            actor,
            id,
            RunInput::Raw(json!({"eventid": [ev.id]})),
            &action,
            Some("passed_event_ids"),
        )
        .await?;
        out.push((id.clone(), result));
    }
    Ok(out)
}

/// MISP's `moduleStatelessExecution` (spec §15): runs one module on `input_data` with
/// `indexed_params`, outside any workflow; `convert` builds the core format first (MISP's
/// `convert_data`). Answers MISP's `{success, errors}` plus `data`, the roaming data the module
/// left (what an editor shows when an admin tries a module out).
pub async fn module_stateless_execution(
    state: &AppState,
    actor: &Principal,
    module_id: &str,
    input_data: Value,
    indexed_params: &Value,
    convert: bool,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    state.workflows.modules.refresh(&state.db).await?;
    let input = if convert {
        RunInput::Raw(input_data)
    } else {
        RunInput::Normalized(input_data)
    };
    let run = state
        .workflows
        .engine()
        .execute_module(module_id, indexed_params, input, None)
        .await
        .map_err(|e| match e {
            StatelessError::UnknownModule(_) => AppError::NotFound(e.to_string()),
            other => AppError::Invalid(other.to_string()),
        })?;
    Ok(json!({"success": run.success, "errors": run.errors, "data": run.data}))
}

fn outcome_str(report: &RunReport) -> String {
    serde_json::to_value(report.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// When a run started (wall clock, for the log) and how long it took (monotonic).
struct RunTimer {
    started_at_us: i64,
    clock: std::time::Instant,
}

impl RunTimer {
    fn start() -> Self {
        RunTimer {
            started_at_us: crate::backend::jobs::now_us(),
            clock: std::time::Instant::now(),
        }
    }

    /// The run's record of who ran it and why, timed until now.
    fn meta<'a>(&self, user_id: i32, action: &'a str) -> RunMeta<'a> {
        RunMeta {
            user_id,
            action,
            started_at_us: self.started_at_us,
            duration_us: i64::try_from(self.clock.elapsed().as_micros()).unwrap_or(i64::MAX),
        }
    }
}

/// Who ran a workflow, why, and when.
struct RunMeta<'a> {
    user_id: i32,
    /// What fired the run (`executeWorkflow`, `events/publish/12`, …).
    action: &'a str,
    started_at_us: i64,
    duration_us: i64,
}

/// Keeps a run and its nodes in the run log; `captured` (debug runs) gives each node's output,
/// matched to the node records in execution order.
async fn record_run(
    state: &AppState,
    model: &workflow::Model,
    meta: RunMeta<'_>,
    report: &RunReport,
    captured: Vec<crate::backend::runtime::CapturedNode>,
    end: Option<crate::backend::jobs::PendingEnd>,
) -> Result<i64, AppError> {
    let end = end.map(|e| e.finish(job_error(report)));
    let mut captured = captured.into_iter().peekable();
    let nodes = report
        .nodes
        .iter()
        .map(|n| runs::NewRunNode {
            data: captured
                .next_if(|c| c.node_id == n.node_id.0)
                .map(|c| c.data),
            node_id: i32::try_from(n.node_id.0).unwrap_or(-1),
            module_id: n.module_id.clone(),
            status: serde_json::to_value(n.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            duration_us: i64::try_from(n.duration_us).unwrap_or(i64::MAX),
            errors: n.errors.clone(),
        })
        .collect();
    let run = runs::NewRun {
        workflow_id: model.id,
        trigger_id: model.trigger_id.clone(),
        started_at_us: meta.started_at_us,
        duration_us: meta.duration_us,
        success: report.success,
        outcome: outcome_str(report),
        outcome_text: report.outcome_text.clone(),
        user_id: meta.user_id,
        action: meta.action.to_owned(),
        debug: model.debug_enabled,
        walk: json!({"walk_result": report.walk, "errors": report.errors}).to_string(),
    };
    let writer = &state.workflows.runs;
    let id = match end {
        None => writer.log(run, nodes).await?,
        Some(end) => writer
            .log_job_run(run, nodes, end)
            .await
            .map_err(|e| match e {
                // Not a store failure: the job runs (and is logged) elsewhere.
                sea_orm::DbErr::Custom(m)
                    if m.starts_with(crate::backend::run_writer::LOST_JOB) =>
                {
                    AppError::Conflict(m)
                }
                e => e.into(),
            })?,
    };
    Ok(id)
}

/// Why the queued job a run belongs to failed: the run's errors, unless a `stop-execution`
/// node stopped it (a stop is the workflow's decision, not a failure to retry).
pub(crate) fn job_error(report: &RunReport) -> Option<String> {
    (report.outcome != engine::Outcome::Blocked && !report.errors.is_empty())
        .then(|| report.errors.join(" "))
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
    let mut targets = Vec::with_capacity(module_ids.len());
    for id in module_ids {
        targets.push(toggle_target(state, id, is_trigger).await?);
    }
    let txn = state.db.begin().await?;
    for (id, target) in module_ids.iter().zip(&targets) {
        apply_toggle(&txn, id, *target, enabled).await?;
        audit::record(&txn, Some(actor), toggle_entry(id, enabled)).await?;
    }
    txn.commit().await?;
    super::settings::forget_settings();
    for (id, target) in module_ids.iter().zip(targets) {
        remember_toggle(state, id, target, enabled);
    }
    super::hooks::refresh_listeners(state).await;
    Ok(module_ids.len())
}

/// A parameter of a graph's trigger node, as text (`default` when unset).
fn adhoc_setting(graph: &Graph, param: &str, default: &str) -> String {
    graph
        .triggers()
        .next()
        .and_then(|t| t.param(param))
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `GET /workflows/adhoc`: each ad-hoc trigger's config with its `Workflow`, `trigger_scope`
/// and `trigger_filters`.
pub async fn list_adhoc(
    state: &AppState,
    actor: &Principal,
    page: u64,
    limit: u64,
) -> Result<Vec<Value>, AppError> {
    actor.require_site_admin()?;
    // The counters shown must count every run answered so far.
    state.workflows.runs.settle().await;
    let filter = workflows::WorkflowFilter {
        adhoc: Some(true),
        ..Default::default()
    };
    let rows = workflows::list_workflows(
        &state.db,
        &filter,
        page.clamp(1, MAX_PAGE),
        limit.clamp(1, 1000),
    )
    .await?;
    let enabled = enabled_triggers(state).await?;
    Ok(rows
        .iter()
        .filter_map(|w| {
            let config = trigger_config(state, &w.trigger_id)?;
            let graph = serde_json::from_str::<Value>(&w.data)
                .ok()
                .and_then(|v| Graph::from_value(&v).ok());
            let (scope, filters) = graph
                .map(|g| {
                    (
                        adhoc_setting(&g, "scope", "passed_filters"),
                        adhoc_setting(&g, "filters", "{}"),
                    )
                })
                .unwrap_or_else(|| ("passed_filters".into(), "{}".into()));
            let mut json = config.to_misp_config(!trigger_enabled(state, &enabled, &w.trigger_id));
            if let Value::Object(map) = &mut json {
                map.insert(
                    "Workflow".into(),
                    workflow_json(w, state, &enabled)["Workflow"].clone(),
                );
                map.insert("trigger_scope".into(), json!(scope));
                map.insert("trigger_filters".into(), json!(filters));
            }
            Some(json)
        })
        .collect())
}

/// `rebuildRedis`: module and trigger state live in the database, so there is nothing to
/// rebuild; site admins get MISP's success answer.
pub fn rebuild_redis(actor: &Principal) -> Result<(), AppError> {
    actor.require_site_admin()
}

/// The Ad-hoc workflows page's rows (every ad-hoc workflow, newest first).
pub async fn adhoc_rows(
    state: &AppState,
    actor: &Principal,
) -> Result<Vec<crate::model::AdhocRow>, AppError> {
    use super::input::value_text as text;
    let mut rows: Vec<crate::model::AdhocRow> = list_adhoc(state, actor, 1, 1000)
        .await?
        .iter()
        .map(|a| {
            let w = &a["Workflow"];
            crate::model::AdhocRow {
                workflow_id: text(w, "id"),
                trigger_id: text(w, "trigger_id"),
                name: text(w, "name"),
                description: text(w, "description"),
                scope: text(a, "trigger_scope"),
                enabled: !a["disabled"].as_bool().unwrap_or(false),
                counter: text(w, "counter"),
                timestamp: text(w, "timestamp").parse().unwrap_or(0),
            }
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.workflow_id.parse::<i64>().unwrap_or(0)));
    Ok(rows)
}

/// Runs a queued concurrent-task branch (spec §6.5): the workflow as stored now, walked from the
/// job's start node on the data snapshot it was queued with, as a non-blocking path at the
/// queuing run's chain `depth`; the run is kept in the run log (`concurrent-task`, SYSTEM).
/// Answers the branch's errors when it failed, so the job can be tried again.
pub async fn run_concurrent_job(
    state: &AppState,
    job: engine::services::ConcurrentJob,
    depth: u8,
) -> Result<Result<(), String>, AppError> {
    let id = job.workflow_id.to_string();
    let (model, prepared) =
        workflow_for_run(state, format!("id:{id}"), || find(state, &id)).await?;
    let prepared = prepared.map_err(|v| AppError::Rejected {
        message: v.message(),
        errors: v.messages(),
    })?;
    let timer = RunTimer::start();
    let end = crate::backend::jobs::take_attempt_end();
    let context = crate::backend::modules::RunContext::new(state.clone(), depth);
    let extension: Option<&(dyn std::any::Any + Send + Sync)> = Some(&context);
    let report = crate::backend::jobs::CHAIN_DEPTH
        .scope(
            depth,
            state.workflows.engine().resume(&prepared, job, extension),
        )
        .await;
    let meta = timer.meta(0, crate::backend::jobs::KIND_CONCURRENT);
    record_run(state, &model, meta, &report, Vec::new(), end).await?;
    // Any error (a sink that did not answer, a failed node) makes the attempt a failure.
    Ok(match job_error(&report) {
        None => Ok(()),
        Some(error) => Err(error),
    })
}
