//! `generic-if` (IF :: Generic 0.2, spec §5.1).

use async_trait::async_trait;
use serde_json::json;

use crate::data::RoamingData;
use crate::filters::{evaluate, Operator, Subject};
use crate::hashpath;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};

/// Generic IF on a hash path: `equals`/`not_equals` read one value with `Hash::get`, the other
/// operators extract a list.
pub struct GenericIf {
    config: ModuleConfig,
}

impl GenericIf {
    /// The module with MISP's config.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("generic-if", "IF :: Generic", ModuleKind::Logic);
        c.version = "0.2".into();
        c.description = "Generic IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.params = vec![
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
                .placeholder("Attribute.{n}.Tag")
                .sub_selector(false),
        ];
        GenericIf { config: c }
    }
}

impl Default for GenericIf {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for GenericIf {
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
        let path = ctx.param_str("hash_path", &view)?;
        let op = Operator::parse(&ctx.param_str("operator", &view)?);
        let value = if op == Operator::InOr {
            ctx.param("value_list", &view)?
        } else {
            ctx.param("value", &view)?
        };
        let subject = if op.is_scalar() {
            Subject::Scalar(hashpath::get(&view, &path))
        } else {
            Subject::List(ctx.path(&path)?.extract(&view))
        };
        Ok(evaluate(&subject, op, &value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    #[test]
    fn s5_1_generic_if_operators() {
        let m = GenericIf::new();
        let d = json!({"Event": {"info": "x", "Tag": [{"name": "tlp:red"}, {"name": "a"}]}});
        assert!(eval(
            &m,
            json!({"operator": "in", "value": "tlp:red", "hash_path": "Event.Tag.{n}.name"}),
            d.clone()
        ));
        assert!(!eval(
            &m,
            json!({"operator": "not_in", "value": "tlp:red", "hash_path": "Event.Tag.{n}.name"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"operator": "equals", "value": "x", "hash_path": "Event.info"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"operator": "not_equals", "value": "y", "hash_path": "Event.info"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"operator": "any_value", "hash_path": "Event.Tag.{n}.name"}),
            d.clone()
        ));
        assert!(eval(
            &m,
            json!({"operator": "in_or", "value_list": ["b", "a"], "hash_path": "Event.Tag.{n}.name"}),
            d.clone()
        ));
        // Default operator is `in`.
        assert!(eval(
            &m,
            json!({"value": "a", "hash_path": "Event.Tag.{n}.name"}),
            d
        ));
    }

    #[test]
    fn s5_1_generic_if_bad_path_is_an_error() {
        let m = GenericIf::new();
        let mut d = RoamingData::new(json!({}));
        let (r, _) =
            crate::modules::testkit::run(&m, json!({"operator": "in", "hash_path": "a[x"}), &mut d);
        assert!(matches!(r, Err(ModuleError::Path(_))));
    }
}
