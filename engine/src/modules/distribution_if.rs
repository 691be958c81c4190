//! `distribution-if` (IF :: Distribution 0.3, spec §5.1).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::filters::value_list;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::php;

/// Compares the effective distribution of the event or of its (first) attribute.
pub struct DistributionIf {
    config: ModuleConfig,
}

impl DistributionIf {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("distribution-if", "IF :: Distribution", ModuleKind::Logic);
        c.version = "0.3".into();
        c.description = "Distribution IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.expect_misp_core_format = true;
        c.params = vec![
            ParamDescriptor::new("scope", "Scope", ParamType::Select)
                .default(json!("attribute"))
                .options(
                    json!({"attribute": "Final distribution of the Attribute", "event": "Event"}),
                ),
            ParamDescriptor::new("condition", "Condition", ParamType::Select)
                .default(json!("equals"))
                .options(json!({
                    "equals": "Is",
                    "not_equals": "Is not",
                    "more_restrictive_or_equal_than": "More restrictive or equal than",
                    "more_permisive_or_equal_than": "More permisive or equal than"
                })),
            ParamDescriptor::new("distribution", "Distribution", ParamType::Select)
                .default(json!("0"))
                .options(json!([
                    {"name": "Organisation", "value": "0"},
                    {"name": "Community", "value": "1"},
                    {"name": "Connected", "value": "2"},
                    {"name": "All", "value": "3"},
                    {"name": "Sharing Group", "value": "4"}
                ]))
                .placeholder("Pick a distribution"),
            ParamDescriptor::new("sharing_group_id", "Sharing Groups", ParamType::Picker)
                .default(json!([]))
                .options(json!({}))
                .multiple()
                .placeholder("Pick a sharing group")
                .display_on(json!({"distribution": "4"})),
        ];
        DistributionIf { config: c }
    }
}

impl Default for DistributionIf {
    fn default() -> Self {
        Self::new()
    }
}

fn level(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    match php::parse_numeric(&php::to_php_string(v)?)? {
        php::Num::Int(i) => Some(i),
        php::Num::Float(f) => Some(f as i64),
    }
}

/// (effective distribution, sharing-group ids of the levels at 4).
fn effective(event: &Value, scope: &str) -> Result<(i64, Vec<Value>), ModuleError> {
    let mut levels: Vec<(i64, Option<&Value>)> = Vec::new();
    let ev_level = level(event.get("distribution"))
        .ok_or_else(|| ModuleError::Data("Event has no distribution".into()))?;
    levels.push((ev_level, event.get("sharing_group_id")));
    if scope != "event" {
        // The attribute the run is about: `Event.Attribute[0]`, or the single object attribute.
        let (object, attribute) = match event.get("Attribute").and_then(|a| a.get(0)) {
            Some(a) => (None, a),
            None => {
                let o = event.get("Object").and_then(|o| o.get(0));
                match o.and_then(|o| o.get("Attribute")).and_then(|a| a.get(0)) {
                    Some(a) => (o, a),
                    None => return Err(ModuleError::Data("No attribute to evaluate".into())),
                }
            }
        };
        if let Some(o) = object {
            if let Some(d) = level(o.get("distribution")).filter(|d| *d != 5) {
                levels.push((d, o.get("sharing_group_id")));
            }
        }
        if let Some(d) = level(attribute.get("distribution")).filter(|d| *d != 5) {
            levels.push((d, attribute.get("sharing_group_id")));
        }
    }
    if let Some(bad) = levels.iter().find(|(d, _)| !(0..=4).contains(d)) {
        return Err(ModuleError::Data(format!(
            "Unsupported distribution level {}",
            bad.0
        )));
    }
    let eff = if levels.iter().any(|(d, _)| *d == 0) {
        0
    } else if levels.iter().any(|(d, _)| *d == 4) {
        4
    } else {
        levels.iter().map(|(d, _)| *d).min().unwrap_or(0)
    };
    let sgs = levels
        .iter()
        .filter(|(d, _)| *d == 4)
        .filter_map(|(_, sg)| sg.cloned())
        .collect();
    Ok((eff, sgs))
}

#[async_trait]
impl Module for DistributionIf {
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
        let scope = ctx.param_str("scope", &view)?;
        let condition = ctx.param_str("condition", &view)?;
        let wanted = level(Some(&ctx.param("distribution", &view)?)).unwrap_or(0);
        let event = view
            .get("Event")
            .ok_or_else(|| ModuleError::Data("No Event in the roaming data".into()))?;
        let (eff, sgs) = effective(event, &scope)?;
        if wanted == 4 {
            let selection = ctx.param("sharing_group_id", &view)?;
            let selection = value_list(&selection);
            return match condition.as_str() {
                "equals" => Ok(eff == 4
                    && (selection.is_empty()
                        || sgs
                            .iter()
                            .all(|s| php::in_array(s, selection.iter().copied())))),
                "not_equals" => Ok(eff != 4
                    || !sgs
                        .iter()
                        .any(|s| php::in_array(s, selection.iter().copied()))),
                other => Err(ModuleError::Data(format!(
                    "Condition `{other}` is not supported for sharing groups"
                ))),
            };
        }
        Ok(match condition.as_str() {
            "equals" => eff == wanted,
            "not_equals" => eff != wanted,
            "more_restrictive_or_equal_than" => (0..=wanted).contains(&eff),
            "more_permisive_or_equal_than" => (wanted..=3).contains(&eff),
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::{eval, run};

    fn ev(event: &str, attr: &str) -> Value {
        json!({"Event": {"distribution": event, "sharing_group_id": "0",
            "Attribute": [{"distribution": attr, "sharing_group_id": "7"}]}})
    }

    #[test]
    fn s5_1_distribution_if_effective_level() {
        let m = DistributionIf::new();
        let p = |c: &str, d: &str| json!({"scope": "attribute", "condition": c, "distribution": d});
        assert!(eval(&m, p("equals", "1"), ev("3", "1")));
        assert!(eval(&m, p("equals", "2"), ev("2", "5")));
        assert!(eval(&m, p("equals", "0"), ev("0", "4")));
        assert!(eval(&m, p("not_equals", "3"), ev("3", "1")));
        assert!(eval(
            &m,
            p("more_restrictive_or_equal_than", "2"),
            ev("3", "1")
        ));
        assert!(!eval(
            &m,
            p("more_permisive_or_equal_than", "2"),
            ev("3", "1")
        ));
        assert!(eval(
            &m,
            json!({"scope": "event", "condition": "equals", "distribution": "3"}),
            ev("3", "1")
        ));
    }

    #[test]
    fn s5_1_distribution_if_sharing_groups_and_errors() {
        let m = DistributionIf::new();
        let p = |c: &str, sg: Value| json!({"condition": c, "distribution": "4", "sharing_group_id": sg});
        assert!(eval(&m, p("equals", json!(["7"])), ev("3", "4")));
        assert!(eval(&m, p("equals", json!([])), ev("3", "4")));
        assert!(!eval(&m, p("equals", json!(["8"])), ev("3", "4")));
        assert!(eval(&m, p("not_equals", json!(["8"])), ev("3", "4")));
        let mut d = RoamingData::new(ev("3", "9"));
        assert!(run(&m, json!({}), &mut d).0.is_err());
        let mut d = RoamingData::new(ev("3", "4"));
        assert!(
            run(&m, p("more_restrictive_or_equal_than", json!([])), &mut d)
                .0
                .is_err()
        );
    }
}
