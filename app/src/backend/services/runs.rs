//! The run log as admins and API clients read it: newest first, filtered, keyset-paged.
use serde_json::{json, Value};

use crate::backend::entities::{workflow_run, workflow_run_node};
use crate::backend::store::runs::{self as store, RunFilter};
use crate::backend::{AppState, Principal};
use crate::error::AppError;

/// Most runs one page may hold.
pub const MAX_PAGE: u64 = 500;

/// Query of `GET /workflows/logs`; times are Unix seconds, `before` a cursor from `next`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct RunQuery {
    pub workflow_id: Option<i32>,
    pub trigger_id: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub before: Option<String>,
    pub limit: Option<u64>,
}

fn cursor(run: &workflow_run::Model) -> String {
    format!("{}_{}", run.started_at, run.id)
}

fn parse_cursor(text: &str) -> Result<(i64, i64), AppError> {
    text.split_once('_')
        .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
        .ok_or_else(|| AppError::Invalid("`before` must be a cursor taken from `next`.".into()))
}

fn run_json(run: &workflow_run::Model) -> Value {
    let walk: Value = serde_json::from_str(&run.walk).unwrap_or(Value::Null);
    json!({
        "id": run.id.to_string(),
        "workflow_id": run.workflow_id.to_string(),
        "trigger_id": run.trigger_id,
        "started_at": run.started_at / 1_000_000,
        "started_at_us": run.started_at,
        "duration_us": run.duration_us,
        "success": run.success,
        "outcome": run.outcome,
        "outcome_text": run.outcome_text,
        "user_id": run.user_id.to_string(),
        "action": run.action,
        "debug": run.debug,
        "walk_result": walk.get("walk_result").cloned().unwrap_or(Value::Null),
        "errors": walk.get("errors").cloned().unwrap_or_else(|| json!([])),
    })
}

fn node_json(node: &workflow_run_node::Model) -> Value {
    json!({
        "node_id": node.node_id,
        "module_id": node.module_id,
        "status": node.status,
        "duration_us": node.duration_us,
        "errors": serde_json::from_str::<Value>(&node.errors).unwrap_or_else(|_| json!([])),
        "data": node.data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
    })
}

/// `{"WorkflowRun": [...], "next": cursor|null}`.
pub async fn list_runs(
    state: &AppState,
    actor: &Principal,
    q: &RunQuery,
) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    // A run named in an answer is in the log once the writer settles.
    state.workflows.runs.settle().await;
    if let Some(outcome) = &q.outcome {
        if !matches!(outcome.as_str(), "success" | "failure" | "blocked") {
            return Err(AppError::Invalid(
                "`outcome` must be success, failure or blocked.".into(),
            ));
        }
    }
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let filter = RunFilter {
        workflow_id: q.workflow_id,
        trigger_id: q.trigger_id.clone().filter(|t| !t.is_empty()),
        outcome: q.outcome.clone(),
        from_us: q.from.map(|s| s.saturating_mul(1_000_000)),
        to_us: q.to.map(|s| s.saturating_mul(1_000_000)),
        before: q.before.as_deref().map(parse_cursor).transpose()?,
    };
    let runs = store::list_runs(&state.db, &filter, limit).await?;
    let next = (runs.len() as u64 == limit)
        .then(|| runs.last().map(cursor))
        .flatten();
    Ok(json!({"WorkflowRun": runs.iter().map(run_json).collect::<Vec<_>>(), "next": next}))
}

/// `{"WorkflowRun": {...}, "WorkflowRunNode": [...]}`.
pub async fn view_run(state: &AppState, actor: &Principal, id: i64) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    // A run named in an answer is in the log once the writer settles.
    state.workflows.runs.settle().await;
    let (run, nodes) = store::find_run(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("Invalid workflow run.".into()))?;
    Ok(
        json!({"WorkflowRun": run_json(&run), "WorkflowRunNode": nodes.iter().map(node_json).collect::<Vec<_>>()}),
    )
}

/// Applies the retention settings: runs older than `Plugin.Workflow_log_retention_days` go, then
/// the oldest beyond `Plugin.Workflow_log_max_runs`. Returns how many runs were deleted.
pub async fn prune_runs(db: &sea_orm::DatabaseConnection) -> Result<u64, AppError> {
    use crate::backend::store::settings::find_setting;
    let days = find_setting(db, "Plugin.Workflow_log_retention_days")
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(30);
    let max_runs = find_setting(db, "Plugin.Workflow_log_max_runs")
        .await?
        .and_then(|v| v.as_u64())
        .unwrap_or(1_000_000);
    let now_us = crate::backend::now().saturating_mul(1_000_000);
    let mut deleted =
        store::delete_runs_before(db, now_us - days.saturating_mul(86_400_000_000)).await?;
    if let Some(cutoff) = store::nth_newest_started_at(db, max_runs.saturating_sub(1)).await? {
        deleted += store::delete_runs_before(db, cutoff).await?;
    }
    Ok(deleted)
}
