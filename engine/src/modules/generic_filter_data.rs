//! `generic-filter-data` (Filter :: Generic 0.2, spec §5.1, §8.4).

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::data::RoamingData;
use crate::filters::{self, Operator};
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
    Routing,
};

/// Registers a path filter under a label; every later read sees the narrowed data.
pub struct GenericFilterData {
    config: ModuleConfig,
}

impl GenericFilterData {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new(
            "generic-filter-data",
            "Filter :: Generic",
            ModuleKind::Logic,
        );
        c.version = "0.2".into();
        c.description = "Generic data filtering block. The module filters incoming data and forward the matching data to its output.".into();
        c.icon = "filter".into();
        c.outputs = 1;
        c.routing = Routing::FirstOutput;
        let labels = super::filtering_labels();
        c.params = vec![
            ParamDescriptor::new("filtering-label", "Filtering Label", ParamType::Select)
                .default(json!("A"))
                .options(Value::Object(labels)),
            ParamDescriptor::new("selector", "Data selector", ParamType::Hashpath)
                .placeholder("Event._AttributeFlattened.{n}")
                .sub_selector(false),
            ParamDescriptor::new("value", "Value", ParamType::Input)
                .placeholder("tlp:red")
                .display_on(json!({"operator": ["in", "not_in", "equals", "not_equals"]})),
            ParamDescriptor::new("value_list", "Value list", ParamType::Picker)
                .create_new()
                .placeholder("['ip-src', 'ip-dst']")
                .display_on(json!({"operator": "in_or"})),
            ParamDescriptor::new("operator", "Operator", ParamType::Select)
                .default(json!("in"))
                .options(super::generic_operators()),
            ParamDescriptor::new("hash_path", "Hash path", ParamType::Hashpath)
                .placeholder("Tag.name")
                .sub_selector(true),
        ];
        GenericFilterData { config: c }
    }
}

impl Default for GenericFilterData {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for GenericFilterData {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let (label, filter) = {
            let view = ctx.view(data)?;
            let selector = ctx.param_str("selector", &view)?;
            let path = ctx.param_str("hash_path", &view)?;
            let operator = ctx.param_str("operator", &view)?;
            // Reject malformed paths now rather than on every later read.
            ctx.path(&selector)?;
            ctx.path(&path)?;
            let value = if Operator::parse(&operator) == Operator::InOr {
                ctx.param("value_list", &view)?
            } else {
                ctx.param("value", &view)?
            };
            let mut f = Map::new();
            f.insert("selector".into(), Value::String(selector));
            f.insert("path".into(), Value::String(path));
            f.insert("operator".into(), Value::String(operator));
            f.insert("value".into(), value);
            (ctx.param_str("filtering-label", &view)?, f)
        };
        filters::add_path_filter(data.raw_mut(), &label, filter);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashpath::PathCache;
    use crate::modules::testkit::run;

    #[test]
    fn s8_4_filter_module_registers_label_and_snapshot() {
        let m = GenericFilterData::new();
        let original =
            json!({"Event": {"_AttributeFlattened": [{"type": "md5"}, {"type": "ip-src"}]}});
        let mut d = RoamingData::new(original.clone());
        let params = json!({"filtering-label": "B", "selector": "Event._AttributeFlattened.{n}",
            "value_list": ["ip-src"], "operator": "in_or", "hash_path": "type", "value": ""});
        assert_eq!(run(&m, params, &mut d).0, Ok(true));
        assert_eq!(d.raw()["_unfilteredData"], original);
        assert_eq!(d.raw()["enabledFilters"]["B"]["value"], json!(["ip-src"]));
        let view = d.view(&PathCache::default()).expect("view");
        assert_eq!(
            view["Event"]["_AttributeFlattened"],
            json!([{"type": "ip-src"}])
        );
    }
}
