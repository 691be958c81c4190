//! `organisation-if` (IF :: Organisation 0.2, spec §5.1).

use async_trait::async_trait;
use serde_json::json;

use crate::data::RoamingData;
use crate::filters::value_list;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::php;

/// Checks the event's owner or creator organisation against a selection.
pub struct OrganisationIf {
    config: ModuleConfig,
}

impl OrganisationIf {
    /// The module with MISP's config. The org picker's options (id → name) are filled in by the
    /// server, which knows the organisations.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("organisation-if", "IF :: Organisation", ModuleKind::Logic);
        c.version = "0.2".into();
        c.description = "Organisation IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.expect_misp_core_format = true;
        c.params = vec![
            ParamDescriptor::new("org_type", "Organisation Type", ParamType::Select)
                .default(json!("orgc"))
                .options(json!({"org": "Owner Organisation", "orgc": "Creator Organisation"})),
            ParamDescriptor::new("condition", "Condition", ParamType::Select)
                .default(json!("in"))
                .options(json!({"in": "Is any of (OR)", "not_in": "Is not any of (OR)"})),
            ParamDescriptor::new("org_id", "", ParamType::Picker)
                .default(json!(["1"]))
                .options(json!({}))
                .multiple()
                .placeholder("Pick an organisation"),
        ];
        OrganisationIf { config: c }
    }
}

impl Default for OrganisationIf {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for OrganisationIf {
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
        let field = if ctx.param_str("org_type", &view)? == "org" {
            "org_id"
        } else {
            "orgc_id"
        };
        let negate = matches!(
            ctx.param_str("condition", &view)?.as_str(),
            "not_in" | "not_equals"
        );
        let selection = ctx.param("org_id", &view)?;
        let org = view
            .get("Event")
            .and_then(|e| e.get(field))
            .cloned()
            .unwrap_or_default();
        let found = php::in_array(&org, value_list(&selection));
        Ok(found != negate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    #[test]
    fn s5_1_organisation_if() {
        let m = OrganisationIf::new();
        let d = json!({"Event": {"org_id": "2", "orgc_id": "5"}});
        assert!(eval(
            &m,
            json!({"org_type": "orgc", "condition": "in", "org_id": ["5", "6"]}),
            d.clone()
        ));
        assert!(!eval(
            &m,
            json!({"org_type": "org", "condition": "in", "org_id": ["5"]}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"org_type": "org", "condition": "not_in", "org_id": ["5"]}),
            d.clone()
        ));
        // Old `equals` / `not_equals` map to in / not_in.
        assert!(eval(
            &m,
            json!({"org_type": "org", "condition": "equals", "org_id": "2"}),
            d.clone()
        ));
        // Default selection is org 1.
        assert!(!eval(&m, json!({}), d));
    }
}
