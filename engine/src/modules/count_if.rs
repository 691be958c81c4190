//! `count-if` (IF :: Count 0.1, spec §5.1).

use std::cmp::Ordering;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::php;

/// Compares the number of extracted elements with a value (PHP loose comparison).
pub struct CountIf {
    config: ModuleConfig,
}

impl CountIf {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("count-if", "IF :: Count", ModuleKind::Logic);
        c.description = "Count IF / ELSE condition block. It counts the amount of entry selected by the provided hashpath. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.params = vec![
            ParamDescriptor::new("selector", "Data selector to count", ParamType::Hashpath)
                .placeholder("Event.Tag.{n}.name")
                .sub_selector(false),
            ParamDescriptor::new("operator", "Condition", ParamType::Select)
                .default(json!("equals"))
                .options(json!({
                    "equals": "Equals to",
                    "not_equals": "Not Equals to",
                    "greater": "Greater than",
                    "greater_equals": "Greater or equals than",
                    "less": "Less than",
                    "less_equals": "Less or equals than"
                })),
            ParamDescriptor::new("value", "Value", ParamType::Input).placeholder("50"),
        ];
        CountIf { config: c }
    }
}

impl Default for CountIf {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for CountIf {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let view = ctx.view(data)?;
        let selector = ctx.param_str("selector", &view)?;
        let op = ctx.param_str("operator", &view)?;
        let value = ctx.param("value", &view)?;
        let amount = Value::from(ctx.path(&selector)?.extract(&view).len());
        let ord = php::compare(&amount, &value);
        Ok(match op.as_str() {
            "equals" => php::loose_eq(&amount, &value),
            "not_equals" => !php::loose_eq(&amount, &value),
            "greater" => ord == Ordering::Greater,
            "greater_equals" => ord != Ordering::Less,
            "less" => ord == Ordering::Less,
            "less_equals" => ord != Ordering::Greater,
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    #[test]
    fn s5_1_count_if_compares_counts() {
        let m = CountIf::new();
        let d = json!({"Event": {"Tag": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        let p = |op: &str, v: &str| json!({"selector": "Event.Tag.{n}.name", "operator": op, "value": v});
        assert!(eval(&m, p("equals", "3"), d.clone()));
        assert!(eval(&m, p("not_equals", "2"), d.clone()));
        assert!(eval(&m, p("greater", "2"), d.clone()));
        assert!(eval(&m, p("greater_equals", "3"), d.clone()));
        assert!(eval(&m, p("less", "10"), d.clone()));
        assert!(!eval(&m, p("less_equals", "2"), d.clone()));
        assert!(!eval(&m, p("bogus", "3"), d));
    }
}
