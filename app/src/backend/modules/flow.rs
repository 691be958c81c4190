//! `run-workflow` (Run Workflow 0.1, spec §5.2, §6.6): runs ad-hoc workflows from inside a
//! run, synchronously, then reloads the event. Nested runs count towards the loop guard.
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use serde_json::{json, Value};

use super::{reload, RunContext};
use crate::backend::services::workflows;

pub struct RunWorkflow {
    config: ModuleConfig,
}

impl RunWorkflow {
    pub fn new() -> Self {
        let mut c = super::action_config(
            "run-workflow",
            "Run Workflow",
            "Run ad-hoc workflows with the selected data",
            true,
            true,
        );
        c.icon = "play".into();
        c.params = vec![
            ParamDescriptor::new("workflows", "Workflows", ParamType::Picker)
                .multiple()
                .placeholder("Pick ad-hoc workflows"),
            ParamDescriptor::new(
                "input_data",
                "Select Data passed to Workflow",
                ParamType::Select,
            )
            .default(json!("yes"))
            .options(json!({"nothing": "Nothing", "roaming_data": "Roaming data",
                    "event_ids": "Event IDs"})),
        ];
        Self { config: c }
    }
}

/// The ad-hoc trigger id of a picked workflow: MISP stores the label `<trigger_id> :: <name>`.
fn trigger_of(label: &str) -> &str {
    label.split(" :: ").next().unwrap_or(label).trim()
}

#[async_trait]
impl Module for RunWorkflow {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let picked: Vec<String> = match ctx.param_raw("workflows") {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) if !s.is_empty() => vec![s],
            _ => Vec::new(),
        };
        if picked.is_empty() {
            errors.push("No workflow selected".into());
            return Ok(false);
        }
        let max = run.state.workflows.max_chain_depth;
        let depth = run.actor().await?.chain_depth;
        if depth > max {
            let message = format!(
                "Run Workflow skipped: the chain of runs is deeper than the limit ({max})."
            );
            tracing::warn!(depth, max, "{message}");
            errors.push(message);
            return Ok(false);
        }
        let view = ctx.view(data)?.into_owned();
        let input = match ctx.param_str("input_data", &view)?.as_str() {
            "roaming_data" => view.clone(),
            "event_ids" => match view.pointer("/Event/id") {
                Some(id) => json!({"eventid": [id]}),
                None => json!({"eventid": []}),
            },
            // MISP's default (`yes`) and `nothing` pass empty data.
            _ => json!([]),
        };
        let mut ok = true;
        for label in &picked {
            let trigger = trigger_of(label);
            if !trigger.starts_with("adhoc_") {
                errors.push(format!("`{label}` is not an ad-hoc workflow."));
                ok = false;
                continue;
            }
            let found =
                crate::backend::store::workflows::find_workflow_by_trigger(&run.state.db, trigger)
                    .await
                    .map_err(|e| ModuleError::Failed(e.to_string()))?;
            let Some(workflow) = found else {
                errors.push(format!("Workflow `{label}` does not exist."));
                ok = false;
                continue;
            };
            let id = workflow.id.to_string();
            match workflows::execute_workflow(&run.state, run.actor().await?, &id, input.clone())
                .await
            {
                Ok(result) if result["success"] == true => {}
                Ok(result) => {
                    errors.push(format!("Workflow `{label}`: {}", result["outcome"]));
                    ok = false;
                }
                Err(e) => {
                    errors.push(format!("Workflow `{label}`: {e}"));
                    ok = false;
                }
            }
        }
        reload(run, data).await?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn picked_labels_name_their_trigger() {
        assert_eq!(super::trigger_of("adhoc_3 :: Enrich and tag"), "adhoc_3");
        assert_eq!(super::trigger_of("adhoc_4"), "adhoc_4");
    }
}
