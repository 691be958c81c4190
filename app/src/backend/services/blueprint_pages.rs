//! What the Blueprints pages show and do, through the same services as MISP's
//! `workflowBlueprints/*` routes.
use serde_json::Value;

use super::input::{connected_nodes, value_text as text};

use super::blueprints::{self, BlueprintInput};
use crate::backend::store::blueprints::BlueprintFilter;
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::{BlueprintDetail, BlueprintRow, GraphNodeView};

fn row(b: &Value) -> BlueprintRow {
    BlueprintRow {
        id: text(b, "id"),
        uuid: text(b, "uuid"),
        name: text(b, "name"),
        description: text(b, "description"),
        timestamp: text(b, "timestamp").parse().unwrap_or(0),
        default: b["default"].as_bool().unwrap_or(false),
        nodes: b["data"].as_array().map_or(0, Vec::len),
    }
}

pub async fn list(state: &AppState, actor: &Principal) -> Result<Vec<BlueprintRow>, AppError> {
    Ok(
        blueprints::index_blueprints(state, actor, &BlueprintFilter::default())
            .await?
            .iter()
            .map(|b| row(&b["WorkflowBlueprint"]))
            .collect(),
    )
}

pub async fn detail(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<BlueprintDetail, AppError> {
    let found = blueprints::view_blueprint(state, actor, id).await?;
    let b = &found["WorkflowBlueprint"];
    let mut graph = Vec::new();
    let mut edges = Vec::new();
    for node in b["data"].as_array().into_iter().flatten() {
        let Some(node_id) = node["id"]
            .as_u64()
            .or_else(|| node["id"].as_str().and_then(|s| s.parse().ok()))
        else {
            continue;
        };
        graph.push(GraphNodeView {
            id: node_id,
            label: node
                .pointer("/data/name")
                .or_else(|| node.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            x: node["pos_x"].as_f64().unwrap_or(0.0),
            y: node["pos_y"].as_f64().unwrap_or(0.0),
            status: node
                .pointer("/data/module_type")
                .and_then(Value::as_str)
                .unwrap_or("action")
                .to_owned(),
        });
        edges.extend(connected_nodes(node).into_iter().map(|to| (node_id, to)));
    }
    Ok(BlueprintDetail {
        blueprint: row(b),
        graph,
        edges,
        mermaid: text(b, "mermaid"),
    })
}

/// Imports MISP's export file (its text): `{"WorkflowBlueprint": {...}}` or the inner object.
pub async fn import(state: &AppState, actor: &Principal, file: &str) -> Result<String, AppError> {
    let value: Value = serde_json::from_str(file.trim())
        .map_err(|e| AppError::Invalid(format!("The file is not valid JSON: {e}")))?;
    let inner = match value {
        Value::Object(mut m) if m.contains_key("WorkflowBlueprint") => {
            m.remove("WorkflowBlueprint").unwrap_or(Value::Null)
        }
        other => other,
    };
    let input: BlueprintInput = serde_json::from_value(inner)
        .map_err(|e| AppError::Invalid(format!("The file is not a blueprint: {e}")))?;
    let added = blueprints::add_blueprint(state, actor, input).await?;
    Ok(text(&added["WorkflowBlueprint"], "id"))
}

pub async fn delete(state: &AppState, actor: &Principal, id: &str) -> Result<(), AppError> {
    blueprints::delete_blueprint(state, actor, id).await
}

/// Loads the official set (newer files replace older copies); answers what changed.
pub async fn update_official(state: &AppState, actor: &Principal) -> Result<String, AppError> {
    let summary = blueprints::update_official(state, actor, false).await?;
    Ok(format!(
        "Official blueprints: {} added, {} updated, {} unchanged.",
        summary.added, summary.updated, summary.unchanged
    ))
}
