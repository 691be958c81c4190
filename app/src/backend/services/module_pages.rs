//! What the module index and a module's page show: the registry's logic and action modules
//! (built-in, misp-modules, custom) with their enable state, parameters, and the workflows that
//! use them. Triggers have their own page.
use std::collections::HashMap;

use sea_orm::EntityTrait;
use serde_json::Value;

use super::input::value_text as text;

use crate::backend::entities::workflow;
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::{ModuleDetail, ModuleRow, ParamRow, WorkflowRef};

fn row(config: &Value, used_by: usize) -> ModuleRow {
    let source = if config["is_misp_module"].as_bool() == Some(true) {
        "misp-modules"
    } else if config["is_custom"].as_bool() == Some(true) {
        "custom"
    } else {
        "built-in"
    };
    ModuleRow {
        id: text(config, "id"),
        name: text(config, "name"),
        kind: text(config, "module_type"),
        source: source.into(),
        blocking: config["blocking"].as_bool().unwrap_or(false),
        core_format: config["expect_misp_core_format"].as_bool().unwrap_or(false),
        version: text(config, "version"),
        description: text(config, "description"),
        enabled: !config["disabled"].as_bool().unwrap_or(false),
        used_by,
    }
}

/// Which workflows use each module, by module id.
async fn usage(state: &AppState) -> Result<HashMap<String, Vec<WorkflowRef>>, AppError> {
    let mut by_module: HashMap<String, Vec<WorkflowRef>> = HashMap::new();
    for w in workflow::Entity::find().all(&state.db).await? {
        let data: Value = serde_json::from_str(&w.data).unwrap_or(Value::Null);
        let mut seen: Vec<String> = Vec::new();
        if let Value::Object(nodes) = &data {
            for node in nodes.values() {
                if let Some(id) = node.pointer("/data/id").and_then(Value::as_str) {
                    if !seen.iter().any(|s| s == id) {
                        seen.push(id.to_owned());
                    }
                }
            }
        }
        for id in seen {
            by_module.entry(id).or_default().push(WorkflowRef {
                id: w.id.to_string(),
                name: w.name.clone(),
                trigger_id: w.trigger_id.clone(),
            });
        }
    }
    Ok(by_module)
}

/// The logic and action modules, filtered (`kind`: logic / action; `source`: built-in /
/// misp-modules / custom; `blocking` and `enabled`: "1" / "0"; empty: any).
pub async fn list(
    state: &AppState,
    actor: &Principal,
    kind: &str,
    source: &str,
    blocking: &str,
    enabled: &str,
) -> Result<Vec<ModuleRow>, AppError> {
    let configs = super::workflows::module_index(state, actor, "all", None).await?;
    let used = usage(state).await?;
    let flag = |v: &str, b: bool| v.is_empty() || (v == "1") == b;
    Ok(configs
        .iter()
        .filter(|c| c["module_type"] != "trigger")
        .map(|c| row(c, used.get(&text(c, "id")).map_or(0, Vec::len)))
        .filter(|r| {
            (kind.is_empty() || r.kind == kind)
                && (source.is_empty() || r.source == source)
                && flag(blocking, r.blocking)
                && flag(enabled, r.enabled)
        })
        .collect())
}

/// A module's page.
pub async fn detail(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<ModuleDetail, AppError> {
    let config = super::workflows::view_module(state, actor, id).await?;
    let mut used = usage(state).await?;
    let workflows = used.remove(id).unwrap_or_default();
    let as_text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let params = config["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| ParamRow {
            id: text(p, "id"),
            label: text(p, "label"),
            kind: text(p, "type"),
            default: as_text(&p["default"]),
            options: as_text(&p["options"]),
            jinja: p["jinja_supported"].as_bool().unwrap_or(false),
        })
        .collect();
    Ok(ModuleDetail {
        module: row(&config, workflows.len()),
        params,
        support_filters: config["support_filters"].as_bool().unwrap_or(false),
        workflows,
    })
}
