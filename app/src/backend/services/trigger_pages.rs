//! What the Triggers page shows: MISP's trigger list (the same as `workflows/triggers`) with
//! the run time measured from the run log beside MISP's static overhead label.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::input::value_text as text;

use super::workflows::{list_triggers, TriggerFilter};
use crate::backend::entities::workflow_run;
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::TriggerRow;

/// Runs the percentiles are taken over (the newest).
const SAMPLE: u64 = 1_000;

/// The `q`-quantile (0..=1) of sorted `values`, nearest rank.
fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1000.0)
}

fn overhead_label(level: &Value) -> String {
    match level.as_i64() {
        Some(1) => "low".into(),
        Some(2) => "medium".into(),
        Some(3) => "high".into(),
        _ => String::new(),
    }
}

/// The triggers, filtered as `workflows/triggers` filters them.
pub async fn rows(
    state: &AppState,
    actor: &Principal,
    filter: &TriggerFilter,
) -> Result<Vec<TriggerRow>, AppError> {
    let triggers = list_triggers(state, actor, filter).await?;
    let mut out = Vec::with_capacity(triggers.len());
    for t in &triggers {
        let id = text(t, "id");
        let workflow = &t["Workflow"];
        let mut durations: Vec<i64> = workflow_run::Entity::find()
            .select_only()
            .column(workflow_run::Column::DurationUs)
            .filter(workflow_run::Column::TriggerId.eq(id.clone()))
            .order_by_desc(workflow_run::Column::StartedAt)
            .limit(SAMPLE)
            .into_tuple()
            .all(&state.db)
            .await?;
        durations.sort_unstable();
        out.push(TriggerRow {
            name: text(t, "name"),
            scope: text(t, "scope"),
            description: text(t, "description"),
            overhead: overhead_label(&t["trigger_overhead"]),
            overhead_message: text(t, "trigger_overhead_message"),
            p50_ms: quantile(&durations, 0.5),
            p99_ms: quantile(&durations, 0.99),
            counter: match text(workflow, "counter") {
                c if c.is_empty() => "0".into(),
                c => c,
            },
            blocking: t["blocking"].as_bool().unwrap_or(false),
            core_format: t["misp_core_format"].as_bool().unwrap_or(false),
            workflow_id: Some(text(workflow, "id")).filter(|w| !w.is_empty()),
            last_update: text(workflow, "timestamp").parse().unwrap_or(0),
            enabled: !t["disabled"].as_bool().unwrap_or(true),
            debug: workflow["debug_enabled"].as_bool().unwrap_or(false),
            id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let v: Vec<i64> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&[2500], 0.99), Some(2.5));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
