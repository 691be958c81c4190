//! `generic-filter-reset` (Filter :: Remove filter 0.1, spec §5.1, §8.4).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::filters;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
    Routing,
};

/// Removes one path filter (or all) and restores the snapshot.
pub struct GenericFilterReset {
    config: ModuleConfig,
}

impl GenericFilterReset {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new(
            "generic-filter-reset",
            "Filter :: Remove filter",
            ModuleKind::Logic,
        );
        c.description = "Reset filtering".into();
        c.icon = "redo-alt".into();
        c.outputs = 1;
        c.routing = Routing::FirstOutput;
        let mut labels = serde_json::Map::new();
        labels.insert("all".into(), json!("All filters"));
        labels.extend(super::filtering_labels());
        c.params = vec![ParamDescriptor::new(
            "filtering-label",
            "Filtering Label to remove",
            ParamType::Select,
        )
        .default(json!("all"))
        .options(Value::Object(labels))];
        GenericFilterReset { config: c }
    }
}

impl Default for GenericFilterReset {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for GenericFilterReset {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let label = ctx.param_str("filtering-label", data.raw())?;
        filters::reset_path_filter(data.raw_mut(), &label);
        Ok(true)
    }
}
