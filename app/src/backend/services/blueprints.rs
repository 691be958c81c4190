//! Blueprints (MISP's `/workflowBlueprints/*`, spec §13): reusable lists of nodes, imported and
//! exported in MISP's file format, plus the official set compiled into the server.
use engine::Graph;
use sea_orm::TransactionTrait;
use serde_json::{json, Value};

use super::input::{check_text, optional_unix_time, optional_uuid};
use crate::backend::entities::workflow_blueprint;
use crate::backend::store::blueprints::{self as store, BlueprintFields, BlueprintFilter};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// The official blueprints, compiled in: (file name, content).
pub const OFFICIAL_BLUEPRINTS: [(&str, &str); 13] = [
    ("blueprint_attach-tlp_clear-on-tlp_white_1661328256.json", include_str!("../../../blueprints/blueprint_attach-tlp_clear-on-tlp_white_1661328256.json")),
    ("blueprint_curation---allow-curation-process.json", include_str!("../../../blueprints/blueprint_curation---allow-curation-process.json")),
    ("blueprint_curation---assign-a-country-galaxycluster-on-ips.json", include_str!("../../../blueprints/blueprint_curation---assign-a-country-galaxycluster-on-ips.json")),
    ("blueprint_curation---assign-threat-level-based-on-enriched-location.json", include_str!("../../../blueprints/blueprint_curation---assign-threat-level-based-on-enriched-location.json")),
    ("blueprint_curation---normalize-tlp-&-pap-tag.json", include_str!("../../../blueprints/blueprint_curation---normalize-tlp-&-pap-tag.json")),
    ("blueprint_curation---remove-automation-flag-from-data-having-correlation-with-predefined-feed.json", include_str!("../../../blueprints/blueprint_curation---remove-automation-flag-from-data-having-correlation-with-predefined-feed.json")),
    ("blueprint_curation---remove-automation-flag-from-false-positive-tripping-over-warninglist.json", include_str!("../../../blueprints/blueprint_curation---remove-automation-flag-from-false-positive-tripping-over-warninglist.json")),
    ("blueprint_curation---remove-automation-flag-from-known-non-malicious-hashes.json", include_str!("../../../blueprints/blueprint_curation---remove-automation-flag-from-known-non-malicious-hashes.json")),
    ("blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json", include_str!("../../../blueprints/blueprint_curation---toggle-automation-flag-from-network-ioc-based-on-abuseipdb.json")),
    ("blueprint_curation---toggle-automation-flag-from-urls-based-on-google-safe-browsing.json", include_str!("../../../blueprints/blueprint_curation---toggle-automation-flag-from-urls-based-on-google-safe-browsing.json")),
    ("blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json", include_str!("../../../blueprints/blueprint_disable-to_ids-flag-for-existing-hash-in-hashlookup_1667228944.json")),
    ("blueprint_pap_red-and-tlp_red-blocking_1661328258.json", include_str!("../../../blueprints/blueprint_pap_red-and-tlp_red-blocking_1661328258.json")),
    ("blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json", include_str!("../../../blueprints/blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json")),
];

/// MISP's `{"WorkflowBlueprint": {…}}` with the nodes as a JSON list and a Mermaid rendering.
pub fn blueprint_json(model: &workflow_blueprint::Model, state: &AppState) -> Value {
    let data: Value = serde_json::from_str(&model.data).unwrap_or_else(|_| json!([]));
    let mermaid = Graph::from_node_list(&data)
        .map(|g| engine::export::to_mermaid(&g, &state.workflows.registry()))
        .unwrap_or_default();
    json!({"WorkflowBlueprint": {
        "id": model.id.to_string(),
        "uuid": model.uuid,
        "name": model.name,
        "description": model.description,
        "timestamp": model.timestamp.to_string(),
        "default": model.default,
        "data": data,
        "mermaid": mermaid,
    }})
}

/// The file name MISP gives an export: `blueprint_<lowercased-dashed-name>_<unix time>.json`.
pub fn export_file_name(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '&' | '.'))
        .collect();
    format!("blueprint_{slug}_{}.json", now())
}

async fn find(state: &AppState, id: &str) -> Result<workflow_blueprint::Model, AppError> {
    let found = match id.parse::<i32>() {
        Ok(id) => store::find_blueprint(&state.db, id).await?,
        Err(_) => store::find_blueprint_by_uuid(&state.db, id).await?,
    };
    found.ok_or_else(|| AppError::NotFound("Invalid blueprint.".into()))
}

pub async fn index_blueprints(
    state: &AppState,
    actor: &Principal,
    filter: &BlueprintFilter,
) -> Result<Vec<Value>, AppError> {
    actor.require_site_admin()?;
    Ok(store::list_blueprints(&state.db, filter)
        .await?
        .iter()
        .map(|b| blueprint_json(b, state))
        .collect())
}

pub async fn view_blueprint(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    Ok(blueprint_json(&find(state, id).await?, state))
}

/// The blueprint's graph, for `?format=dot|mermaid`.
pub async fn blueprint_graph(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<Graph, AppError> {
    actor.require_site_admin()?;
    let model = find(state, id).await?;
    let data: Value = serde_json::from_str(&model.data).map_err(|_| AppError::Internal)?;
    Graph::from_node_list(&data).map_err(|_| AppError::Internal)
}

/// A blueprint as a client sends it (`add`, `edit`, `import`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct BlueprintInput {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub timestamp: Option<Value>,
    /// The list of nodes, or that list as a JSON string.
    #[serde(default)]
    pub data: Option<Value>,
    /// Instead of `data` (on `add`): save a selection of a stored workflow's nodes, the
    /// editor's "save selection as blueprint".
    #[serde(default)]
    pub workflow_id: Option<Value>,
    /// The selected node ids of `workflow_id`.
    #[serde(default)]
    pub node_ids: Option<Vec<Value>>,
}

/// The node list of a selection in a stored workflow (§13): the selected nodes without the
/// trigger and the edges between them.
async fn selection_data(
    state: &AppState,
    actor: &Principal,
    workflow: &Value,
    node_ids: &[Value],
) -> Result<Value, AppError> {
    let id = match workflow {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(AppError::Invalid(
                "`workflow_id` must be a workflow id.".into(),
            ))
        }
    };
    let graph = super::workflows::workflow_graph(state, actor, &id).await?;
    let ids = node_ids
        .iter()
        .map(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(engine::NodeId)
                .ok_or_else(|| AppError::Invalid("`node_ids` must be node ids.".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(AppError::Invalid(
            "Select at least one node (`node_ids`).".into(),
        ));
    }
    let picked = graph
        .selection(&ids)
        .map_err(|e| AppError::Invalid(format!("Cannot save this selection: {e}.")))?;
    if picked.nodes.is_empty() {
        return Err(AppError::Invalid(
            "The selection holds no node besides the trigger.".into(),
        ));
    }
    Ok(picked.to_node_list())
}

/// Validates and normalises the parts of an input; `data` must be a list of §9 nodes.
fn fields(
    input: &BlueprintInput,
    current: Option<&workflow_blueprint::Model>,
) -> Result<BlueprintFields, AppError> {
    let data = match (&input.data, current) {
        (Some(Value::String(text)), _) => serde_json::from_str(text)
            .map_err(|e| AppError::Invalid(format!("The blueprint data is not valid JSON: {e}")))?,
        (Some(v), _) => v.clone(),
        (None, Some(c)) => serde_json::from_str(&c.data).unwrap_or_else(|_| json!([])),
        (None, None) => {
            return Err(AppError::Invalid(
                "The blueprint data (a list of nodes) is required.".into(),
            ))
        }
    };
    let graph = Graph::from_node_list(&data).map_err(|e| AppError::Rejected {
        message: "Invalid blueprint data.".into(),
        errors: vec![e.to_string()],
    })?;
    let name = match (input.name.as_deref().map(str::trim), current) {
        (Some(n), _) if !n.is_empty() => n.to_owned(),
        (_, Some(c)) => c.name.clone(),
        _ => return Err(AppError::Invalid("The blueprint name is required.".into())),
    };
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .map(str::to_owned)
        .or_else(|| current.map(|c| c.description.clone()))
        .unwrap_or_default();
    let name = check_text("name", &name, 191)?;
    let description = check_text("description", &description, 191)?;
    let uuid = match optional_uuid(input.uuid.as_deref())? {
        Some(u) => u,
        None => current
            .map(|c| c.uuid.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    let timestamp = optional_unix_time(input.timestamp.as_ref())?.unwrap_or_else(now);
    Ok(BlueprintFields {
        uuid,
        name,
        description,
        timestamp,
        default: false,
        data: graph.to_node_list().to_string(),
    })
}

/// `add` and `import`: a new blueprint (MISP sets `default` false); a known UUID is a conflict.
pub async fn add_blueprint(
    state: &AppState,
    actor: &Principal,
    mut input: BlueprintInput,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    if input.data.is_none() {
        if let Some(workflow) = input.workflow_id.take() {
            let node_ids = input.node_ids.take().unwrap_or_default();
            input.data = Some(selection_data(state, actor, &workflow, &node_ids).await?);
        }
    }
    let f = fields(&input, None)?;
    if store::find_blueprint_by_uuid(&state.db, &f.uuid)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "A blueprint with this UUID already exists.".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let model = store::insert_blueprint(&txn, f)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("A blueprint with this UUID already exists.".into())
            }
            _ => AppError::from(e),
        })?;
    audit_blueprint(&txn, actor, &model, "add").await?;
    txn.commit().await?;
    Ok(blueprint_json(&model, state))
}

pub async fn edit_blueprint(
    state: &AppState,
    actor: &Principal,
    id: &str,
    input: BlueprintInput,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    let current = find(state, id).await?;
    let mut f = fields(
        &BlueprintInput {
            uuid: None,
            timestamp: None,
            ..input
        },
        Some(&current),
    )?;
    f.timestamp = now();
    let txn = state.db.begin().await?;
    let model = store::update_blueprint(&txn, current, f).await?;
    audit_blueprint(&txn, actor, &model, "edit").await?;
    txn.commit().await?;
    Ok(blueprint_json(&model, state))
}

pub async fn delete_blueprint(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<(), AppError> {
    actor.require_site_admin_writer()?;
    let model = find(state, id).await?;
    let txn = state.db.begin().await?;
    store::delete_blueprint(&txn, model.id).await?;
    audit_blueprint(&txn, actor, &model, "delete").await?;
    txn.commit().await?;
    Ok(())
}

async fn audit_blueprint(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    model: &workflow_blueprint::Model,
    action: &'static str,
) -> Result<(), sea_orm::DbErr> {
    super::audit::record(
        db,
        Some(actor),
        super::audit::Entry::new(
            "WorkflowBlueprint",
            model.id,
            action,
            format!("WorkflowBlueprint ({}): {}", model.id, model.name),
        ),
    )
    .await
}

/// What `update` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct UpdateSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Loads the official set: a new UUID is inserted, a known one overwritten when the file is
/// newer or `force` is set; all are marked `default`. One transaction: all or nothing.
pub async fn update_official(
    state: &AppState,
    actor: &Principal,
    force: bool,
) -> Result<UpdateSummary, AppError> {
    actor.require_site_admin_writer()?;
    let mut summary = UpdateSummary::default();
    let txn = state.db.begin().await?;
    for (file, text) in OFFICIAL_BLUEPRINTS {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            tracing::error!(file, error = %e, "bundled blueprint is not JSON");
            AppError::Internal
        })?;
        let input: BlueprintInput = serde_json::from_value(value["WorkflowBlueprint"].clone())
            .map_err(|e| {
                tracing::error!(file, error = %e, "bundled blueprint has an unexpected shape");
                AppError::Internal
            })?;
        let mut f = fields(&input, None)?;
        f.default = true;
        match store::find_blueprint_by_uuid(&txn, &f.uuid).await? {
            None => {
                store::insert_blueprint(&txn, f).await?;
                summary.added += 1;
            }
            Some(current) if force || f.timestamp > current.timestamp => {
                store::update_blueprint(&txn, current, f).await?;
                summary.updated += 1;
            }
            Some(_) => summary.unchanged += 1,
        }
    }
    txn.commit().await?;
    Ok(summary)
}
