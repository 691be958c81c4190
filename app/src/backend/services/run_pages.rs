//! What the Logs pages show, read through the same services as `GET /workflows/logs` and
//! `/workflows/logs/<id>`: runs newest first (keyset pages), and a run with its workflow's graph
//! coloured by what each node did.
use serde_json::Value;

use super::input::{connected_nodes, value_text as text};

use super::runs::{list_runs, view_run, RunQuery};
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::{GraphNodeView, RunDetail, RunList, RunNodeView, RunRow};

/// Runs per page.
pub const PAGE: u64 = 50;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
        .collect()
}

fn run_row(r: &Value) -> RunRow {
    RunRow {
        id: text(r, "id"),
        workflow_id: text(r, "workflow_id"),
        trigger_id: text(r, "trigger_id"),
        started_at: r["started_at"].as_i64().unwrap_or(0),
        duration_ms: r["duration_us"].as_i64().unwrap_or(0) as f64 / 1000.0,
        outcome: text(r, "outcome"),
        action: text(r, "action"),
        errors: strings(&r["errors"]),
    }
}

/// `YYYY-MM-DD` as Unix seconds at 00:00 UTC (the day after, for an end bound).
fn day_start(text: &str, next_day: bool) -> Result<Option<i64>, AppError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(t, &format)
        .map_err(|_| AppError::Invalid(format!("`{t}` is not a date (YYYY-MM-DD).")))?;
    let date = if next_day {
        date.next_day().unwrap_or(date)
    } else {
        date
    };
    Ok(Some(date.midnight().assume_utc().unix_timestamp()))
}

/// One page of runs.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    state: &AppState,
    actor: &Principal,
    workflow_id: &str,
    trigger_id: &str,
    outcome: &str,
    from: &str,
    to: &str,
    before: &str,
) -> Result<RunList, AppError> {
    let workflow_id = match workflow_id.trim() {
        "" => None,
        w => Some(
            w.parse::<i32>()
                .map_err(|_| AppError::Invalid(format!("`{w}` is not a workflow id.")))?,
        ),
    };
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let query = RunQuery {
        workflow_id,
        trigger_id: non_empty(trigger_id),
        outcome: non_empty(outcome),
        from: day_start(from, false)?,
        to: day_start(to, true)?,
        before: non_empty(before),
        limit: Some(PAGE),
    };
    let page = list_runs(state, actor, &query).await?;
    Ok(RunList {
        rows: page["WorkflowRun"]
            .as_array()
            .into_iter()
            .flatten()
            .map(run_row)
            .collect(),
        next: page["next"].as_str().map(str::to_owned),
    })
}

/// A run's page.
pub async fn detail(state: &AppState, actor: &Principal, id: &str) -> Result<RunDetail, AppError> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::NotFound("Invalid workflow run.".into()))?;
    let found = view_run(state, actor, id).await?;
    let run = run_row(&found["WorkflowRun"]);
    // The nodes that stopped a blocking run are shown as `blocked`.
    let blocking: Vec<u64> = found["WorkflowRun"]["walk_result"]["blocking_nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let nodes: Vec<RunNodeView> = found["WorkflowRunNode"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| RunNodeView {
            node_id: n["node_id"].as_u64().unwrap_or(0),
            module_id: text(n, "module_id"),
            status: match n["node_id"].as_u64() {
                Some(id) if blocking.contains(&id) => "blocked".into(),
                _ => text(n, "status"),
            },
            duration_ms: n["duration_us"].as_i64().unwrap_or(0) as f64 / 1000.0,
            errors: strings(&n["errors"]),
            data: match &n["data"] {
                Value::Null => String::new(),
                d => serde_json::to_string_pretty(d).unwrap_or_default(),
            },
        })
        .collect();
    // The workflow's graph as stored now (it may have been edited since the run).
    let (mut graph, mut edges) = (Vec::new(), Vec::new());
    if let Ok(w) = super::workflows::view_workflow(state, actor, &run.workflow_id).await {
        if let Value::Object(data) = &w["Workflow"]["data"] {
            for (key, node) in data {
                let Ok(node_id) = key.parse::<u64>() else {
                    continue;
                };
                let status = match nodes.iter().find(|n| n.node_id == node_id) {
                    Some(n) => n.status.clone(),
                    None if node.pointer("/data/module_type").and_then(Value::as_str)
                        == Some("trigger") =>
                    {
                        "trigger".into()
                    }
                    None => "not run".into(),
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
                    status,
                });
                edges.extend(connected_nodes(node).into_iter().map(|to| (node_id, to)));
            }
        }
    }
    graph.sort_by_key(|n| n.id);
    Ok(RunDetail {
        run,
        nodes,
        graph,
        edges,
    })
}

#[cfg(test)]
mod tests {
    use super::day_start;

    #[test]
    fn days_bound_the_range_in_utc() {
        assert_eq!(day_start("2026-11-28", false).unwrap(), Some(1_795_824_000));
        assert_eq!(day_start("2026-11-28", true).unwrap(), Some(1_795_910_400));
        assert_eq!(day_start("", false).unwrap(), None);
        assert!(day_start("28/11/2026", false).is_err());
    }
}
