//! `threat-level-if` (IF :: Threat Level 0.1, spec §5.1).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::php;

const LEVELS: [(&str, i64); 4] = [("High", 1), ("Medium", 2), ("Low", 3), ("Undefined", 4)];

/// Compares `Event.threat_level_id`; "greater" means more severe, i.e. a lower id.
pub struct ThreatLevelIf {
    config: ModuleConfig,
}

impl ThreatLevelIf {
    /// The module with MISP's config (default is the label `Low`, not an id, as in MISP).
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("threat-level-if", "IF :: Threat Level", ModuleKind::Logic);
        c.description = "Threat Level IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.params = vec![
            ParamDescriptor::new("condition", "Condition", ParamType::Select)
                .default(json!("equals"))
                .options(json!({
                    "equals": "Is",
                    "not_equals": "Is not",
                    "greater_or_equal_than": "Greater or equal than",
                    "less_or_equal_than": "Less or equal than"
                })),
            ParamDescriptor::new("threatlevel", "Threat Level", ParamType::Select)
                .default(json!("Low"))
                .options(json!({"1": "High", "2": "Medium", "3": "Low", "4": "Undefined"})),
        ];
        ThreatLevelIf { config: c }
    }
}

impl Default for ThreatLevelIf {
    fn default() -> Self {
        Self::new()
    }
}

fn level_id(v: &Value) -> Option<i64> {
    let s = php::to_php_string(v)?;
    if let Some((_, id)) = LEVELS
        .iter()
        .find(|(label, _)| label.eq_ignore_ascii_case(&s))
    {
        return Some(*id);
    }
    match php::parse_numeric(&s)? {
        php::Num::Int(i) => Some(i),
        php::Num::Float(f) => Some(f as i64),
    }
}

#[async_trait]
impl Module for ThreatLevelIf {
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
        let selected = level_id(&ctx.param("threatlevel", &view)?)
            .ok_or_else(|| ModuleError::Data("Unknown threat level".into()))?;
        let actual = view
            .get("Event")
            .and_then(|e| e.get("threat_level_id"))
            .and_then(level_id)
            .ok_or_else(|| ModuleError::Data("Event has no threat_level_id".into()))?;
        Ok(match ctx.param_str("condition", &view)?.as_str() {
            "equals" => actual == selected,
            "not_equals" => actual != selected,
            "greater_or_equal_than" => actual <= selected,
            "less_or_equal_than" => actual >= selected,
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    #[test]
    fn s5_1_threat_level_if() {
        let m = ThreatLevelIf::new();
        let d = json!({"Event": {"threat_level_id": "2"}});
        assert!(!eval(&m, json!({}), d.clone()), "default is Low (3)");
        assert!(eval(
            &m,
            json!({"condition": "equals", "threatlevel": "2"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"condition": "greater_or_equal_than", "threatlevel": "3"}),
            d.clone()
        ));
        assert!(!eval(
            &m,
            json!({"condition": "less_or_equal_than", "threatlevel": "3"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"condition": "not_equals", "threatlevel": "High"}),
            d
        ));
    }
}
