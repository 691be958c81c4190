//! What the node editor (`/workflows/editor/<id>`) opens, checks and saves, through the same
//! services as MISP's `workflows/editor`, `workflows/checkGraph`, `workflows/edit` and
//! `workflowBlueprints/add` routes.
use engine::graph::Graph;
use serde_json::{json, Value};

use super::blueprints::{self, BlueprintInput};
use super::input::value_text as text;
use super::workflows::{self, EditWorkflow};
use crate::backend::modules::outward::ARBITRARY_URL_MODULES;
use crate::backend::store::blueprints::BlueprintFilter;
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::{BlueprintChoice, EditorCheck, EditorData, NodeNoticeView, RunDetail};

/// Opens a workflow by id, UUID or trigger id (a trigger's workflow is created on first open).
pub async fn open(state: &AppState, actor: &Principal, id: &str) -> Result<EditorData, AppError> {
    let opened = workflows::open_editor(state, actor, id).await?;
    let w = &opened["Workflow"];
    let mut modules = workflows::module_index(state, actor, "all", None).await?;
    // Ad-hoc triggers are made per workflow, not listed in the module index.
    let trigger_id = text(w, "trigger_id");
    if !modules.iter().any(|m| text(m, "id") == trigger_id) {
        if let Some(config) = workflows::trigger_config(state, &trigger_id) {
            modules.push(config.to_misp_config(false));
        }
    }
    let blueprints = blueprints::index_blueprints(state, actor, &BlueprintFilter::default())
        .await?
        .iter()
        .map(choice)
        .collect();
    Ok(EditorData {
        workflow_id: text(w, "id"),
        name: text(w, "name"),
        trigger_id,
        timestamp: text(w, "timestamp").parse().unwrap_or(0),
        debug: w["debug_enabled"].as_bool().unwrap_or(false),
        data: w["data"].to_string(),
        modules: Value::Array(modules).to_string(),
        blueprints,
    })
}

/// A blueprint (`{"WorkflowBlueprint": …}`) as the editor's palette offers it.
fn choice(b: &Value) -> BlueprintChoice {
    let b = &b["WorkflowBlueprint"];
    BlueprintChoice {
        id: text(b, "id"),
        name: text(b, "name"),
        description: text(b, "description"),
        data: b["data"].to_string(),
    }
}

fn parse(data: &str) -> Result<Value, AppError> {
    serde_json::from_str(data)
        .map_err(|e| AppError::Invalid(format!("The workflow data is not valid JSON: {e}")))
}

/// The live check of an unsaved graph: `checkGraph`'s red and orange edges, the errors that
/// would refuse the save, and the node notifications (§10).
pub async fn check(
    state: &AppState,
    actor: &Principal,
    data: &str,
) -> Result<EditorCheck, AppError> {
    actor.require_site_admin()?;
    let graph = Graph::from_value(&parse(data)?)
        .map_err(|e| AppError::Invalid(format!("Invalid workflow data: {e}")))?;
    let v = engine::validate(
        &graph,
        &state.workflows.registry(),
        state.workflows.modules.as_ref(),
    );
    let errors = v.messages();
    let mut red_edges: Vec<(u64, u64)> = v.cycles.iter().map(|(f, t)| (f.0, t.0)).collect();
    for (from, targets) in &v.multiple_output {
        red_edges.extend(targets.iter().map(|t| (from.0, t.0)));
    }
    // Ad-hoc triggers are made per workflow: the registry does not know them, the server does.
    let adhoc_trigger = |node: engine::graph::NodeId| {
        graph
            .node(node)
            .is_some_and(|n| n.is_trigger() && workflows::adhoc_number(&n.module_id).is_some())
    };
    let mut notices: Vec<NodeNoticeView> = v
        .notices
        .iter()
        .filter(|n| !adhoc_trigger(n.node))
        .map(|n| NodeNoticeView {
            node: n.node.0,
            error: n.severity == engine::validate::Severity::Error,
            text: n.text.clone(),
        })
        .collect();
    // The webhook family's refusal, from the same cached policy the modules apply.
    let arbitrary_urls = state.workflows.outbound.policy(state).await?.arbitrary_urls;
    if !arbitrary_urls {
        notices.extend(
            graph
                .nodes
                .iter()
                .filter(|n| ARBITRARY_URL_MODULES.contains(&n.module_id.as_str()))
                .map(|n| NodeNoticeView {
                    node: n.id.0,
                    error: true,
                    text: "Calling arbitrary URLs is disabled: enable Security.rest_client_enable_arbitrary_urls in Settings.".into(),
                }),
        );
    }
    Ok(EditorCheck {
        errors,
        red_edges,
        orange_edges: v.path_warnings.iter().map(|(f, t, _)| (f.0, t.0)).collect(),
        notices,
    })
}

/// Saves the graph if the stored workflow is still at `timestamp`; returns the new version.
pub async fn save(
    state: &AppState,
    actor: &Principal,
    id: &str,
    data: &str,
    timestamp: i64,
) -> Result<i64, AppError> {
    let saved = workflows::edit_workflow(
        state,
        actor,
        id,
        EditWorkflow {
            data: Some(parse(data)?),
            timestamp: Some(json!(timestamp)),
            ..EditWorkflow::default()
        },
    )
    .await?;
    Ok(text(&saved["Workflow"], "timestamp").parse().unwrap_or(0))
}

/// "Save selection as blueprint": `data` is the selection's node list.
pub async fn save_blueprint(
    state: &AppState,
    actor: &Principal,
    name: &str,
    description: &str,
    data: &str,
) -> Result<BlueprintChoice, AppError> {
    let created = blueprints::add_blueprint(
        state,
        actor,
        BlueprintInput {
            name: Some(name.to_owned()),
            description: Some(description.to_owned()),
            data: Some(parse(data)?),
            ..BlueprintInput::default()
        },
    )
    .await?;
    Ok(choice(&created))
}

/// Tag names containing `search` (and starting with `prefix`), for the editor's tag pickers.
pub async fn suggest_tags(
    state: &AppState,
    actor: &Principal,
    search: &str,
    prefix: &str,
) -> Result<Vec<String>, AppError> {
    actor.require_site_admin()?;
    let search = search.trim();
    if search.is_empty() {
        return Ok(Vec::new());
    }
    // Cluster pickers hold names without the `misp-galaxy:` prefix (IF :: Tag adds it back).
    Ok(
        crate::backend::store::events::suggest_tag_names(&state.db, search, prefix, 20)
            .await?
            .into_iter()
            .map(|name| name[prefix.len()..].to_owned())
            .collect(),
    )
}

/// The editor's "Run": runs the saved workflow on `input` (JSON text) as `executeWorkflow` does
/// and answers the logged run, each node with its result (and data, in debug mode).
pub async fn run(
    state: &AppState,
    actor: &Principal,
    id: &str,
    input: &str,
) -> Result<RunDetail, AppError> {
    let input: Value = serde_json::from_str(input)
        .map_err(|e| AppError::Invalid(format!("The input is not valid JSON: {e}")))?;
    let result = workflows::execute_workflow(state, actor, id, input).await?;
    let run_id = result["run_id"].as_i64().ok_or(AppError::Internal)?;
    super::run_pages::detail(state, actor, &run_id.to_string()).await
}
