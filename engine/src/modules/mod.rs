//! The built-in module catalogue (spec §3, §5.1, §5.2): one file per module.

mod concurrent_task;
mod count_if;
mod distribution_if;
mod generic_filter_data;
mod generic_filter_reset;
mod generic_if;
mod organisation_if;
mod published_if;
mod stop_execution;
mod tag_if;
mod threat_level_if;
pub mod triggers;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::module::Module;

pub use concurrent_task::ConcurrentTask;
pub use count_if::CountIf;
pub use distribution_if::DistributionIf;
pub use generic_filter_data::GenericFilterData;
pub use generic_filter_reset::GenericFilterReset;
pub use generic_if::GenericIf;
pub use organisation_if::OrganisationIf;
pub use published_if::PublishedIf;
pub use stop_execution::StopExecution;
pub use tag_if::TagIf;
pub use threat_level_if::ThreatLevelIf;

/// Every built-in logic and action module.
pub fn builtin() -> Vec<Arc<dyn Module>> {
    vec![
        Arc::new(GenericIf::new()),
        Arc::new(CountIf::new()),
        Arc::new(DistributionIf::new()),
        Arc::new(OrganisationIf::new()),
        Arc::new(PublishedIf::new()),
        Arc::new(TagIf::new()),
        Arc::new(ThreatLevelIf::new()),
        Arc::new(ConcurrentTask::new()),
        Arc::new(GenericFilterData::new()),
        Arc::new(GenericFilterReset::new()),
        Arc::new(StopExecution::new()),
    ]
}

/// Operators of `generic-if` and `generic-filter-data`.
fn generic_operators() -> Value {
    json!({
        "in": "In",
        "not_in": "Not in",
        "equals": "Equals",
        "not_equals": "Not equals",
        "any_value": "Any value",
        "in_or": "Any value from"
    })
}

/// `Label A` … `Label F` of the path filters.
fn filtering_labels() -> serde_json::Map<String, Value> {
    ["A", "B", "C", "D", "E", "F"]
        .iter()
        .map(|l| ((*l).to_owned(), json!(format!("Label {l}"))))
        .collect()
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Runs one module on data, outside a walk.
    use super::*;
    use crate::data::RoamingData;
    use crate::graph::{KeyedValues, Node, NodeId};
    use crate::hashpath::PathCache;
    use crate::jinja::Jinja;
    use crate::module::{ModuleContext, ModuleError};
    use crate::services::{fakes::block_on, Services, WorkflowInfo};

    pub fn run(
        module: &dyn Module,
        params: Value,
        data: &mut RoamingData,
    ) -> (Result<bool, ModuleError>, Vec<String>) {
        let mut node = Node::new(NodeId(2), &module.config().id);
        node.params = KeyedValues::from_value(&params);
        let wf = WorkflowInfo {
            id: 1,
            uuid: "u".into(),
            name: "wf".into(),
            trigger_id: "event-publish".into(),
            debug_enabled: false,
        };
        let services = Services::noop();
        let paths = PathCache::default();
        let jinja = Jinja::default();
        let ctx = ModuleContext {
            workflow: &wf,
            node: &node,
            config: module.config(),
            services: &services,
            extension: None,
            paths: &paths,
            jinja: &jinja,
        };
        let mut errors = Vec::new();
        let r = block_on(module.run(&ctx, data, &mut errors));
        (r, errors)
    }

    pub fn eval(module: &dyn Module, params: Value, data: Value) -> bool {
        let mut d = RoamingData::new(data);
        match run(module, params, &mut d).0 {
            Ok(b) => b,
            Err(e) => panic!("module error: {e}"),
        }
    }
}
