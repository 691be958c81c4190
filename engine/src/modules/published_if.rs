//! `published-if` (IF :: Published 0.1, spec §5.1).

use async_trait::async_trait;
use serde_json::json;

use crate::data::RoamingData;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::php;

/// Tests `Event.published`.
pub struct PublishedIf {
    config: ModuleConfig,
}

impl PublishedIf {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("published-if", "IF :: Published", ModuleKind::Logic);
        c.description = "Published IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.expect_misp_core_format = true;
        c.params = vec![
            ParamDescriptor::new("condition", "Condition", ParamType::Select)
                .default(json!("equals"))
                .options(
                    json!({"equals": "Event is published", "not_equals": "Event is not published"}),
                ),
        ];
        PublishedIf { config: c }
    }
}

impl Default for PublishedIf {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for PublishedIf {
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
        let published = view
            .get("Event")
            .and_then(|e| e.get("published"))
            .is_some_and(php::truthy);
        Ok(match ctx.param_str("condition", &view)?.as_str() {
            "not_equals" => !published,
            _ => published,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    #[test]
    fn s5_1_published_if() {
        let m = PublishedIf::new();
        assert!(eval(&m, json!({}), json!({"Event": {"published": true}})));
        assert!(!eval(&m, json!({}), json!({"Event": {"published": "0"}})));
        assert!(eval(
            &m,
            json!({"condition": "not_equals"}),
            json!({"Event": {"published": false}})
        ));
    }
}
