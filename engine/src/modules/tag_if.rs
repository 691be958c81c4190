//! `tag-if` (IF :: Tag 0.4, spec §5.1).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::core_format;
use crate::data::RoamingData;
use crate::filters::{evaluate_each, evaluate_each_str, value_list, Operator};
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};
use crate::source::TagScope;

const EVENT_PATH: &str = "Event.Tag.{n}.name";
const ATTRIBUTE_PATH: &str = "Event._AttributeFlattened.{n}.Tag.{n}.name";
const INHERITED_PATH: &str = "Event._AttributeFlattened.{n}._allTags.{n}.name";
/// `ATTRIBUTE_PATH` below one `_AttributeFlattened` item.
const OWN_TAGS_PATH: &str = "Tag.{n}.name";

/// Tests tag names on the event, its attributes, or its attributes with inherited tags.
pub struct TagIf {
    config: ModuleConfig,
}

impl TagIf {
    /// The module with MISP's config. Tag and cluster picker options come from the server's
    /// tag store and are filled in there.
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("tag-if", "IF :: Tag", ModuleKind::Logic);
        c.version = "0.4".into();
        c.description = "Tag IF / ELSE condition block. The `then` output will be used if the encoded conditions is satisfied, otherwise the `else` output will be used.".into();
        c.icon = "code-branch".into();
        c.html_template = Some("if".into());
        c.expect_misp_core_format = true;
        c.params = vec![
            ParamDescriptor::new("scope", "Scope", ParamType::Select)
                .default(json!("event"))
                .options(json!({"event": "Event", "attribute": "Attribute", "event_attribute": "Inherited Attribute"})),
            ParamDescriptor::new("condition", "Condition", ParamType::Select).default(json!("in_or")).options(json!({
                "in_or": "Is tagged with any (OR)",
                "in_and": "Is tagged with all (AND)",
                "not_in_or": "Is not tagged with any (OR)",
                "not_in_and": "Is not tagged with all (AND)"
            })),
            ParamDescriptor::new("tags", "Tags", ParamType::Picker).options(json!([])).multiple().placeholder("Pick a tag"),
            ParamDescriptor::new("clusters", "Galaxy Clusters", ParamType::Picker)
                .options(json!([]))
                .multiple()
                .placeholder("Pick a Galaxy Cluster"),
        ];
        TagIf { config: c }
    }
}

impl Default for TagIf {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for TagIf {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        // tag-if's params are not Jinja-rendered (`param` ignores the data), so they do not need
        // the (filtered, possibly lazily completed) view.
        let params_data = &Value::Null;
        let scope = ctx.param_str("scope", params_data)?;
        let op = Operator::parse(&ctx.param_str("condition", params_data)?);
        let tags = ctx.param("tags", params_data)?;
        let clusters = ctx.param("clusters", params_data)?;
        let mut wanted: Vec<Value> = value_list(&tags).into_iter().cloned().collect();
        for c in value_list(&clusters) {
            if let Some(s) = c.as_str() {
                wanted.push(Value::String(format!("misp-galaxy:{s}")));
            }
        }
        let wanted = Value::Array(wanted);
        let path = ctx.path(match scope.as_str() {
            "attribute" => ATTRIBUTE_PATH,
            "event_attribute" => INHERITED_PATH,
            _ => EVENT_PATH,
        })?;
        let set_operator = matches!(
            op,
            Operator::InOr | Operator::InAnd | Operator::NotInOr | Operator::NotInAnd
        );
        // An event still held as the bytes it came in: read the names from their index (see
        // `source.rs`).
        if let Some(src) = data.source() {
            let scope = match scope.as_str() {
                "attribute" => TagScope::Attribute,
                "event_attribute" => TagScope::Inherited { once: set_operator },
                _ => TagScope::Event,
            };
            return Ok(evaluate_each_str(op, &wanted, &mut |f| {
                let _ = src.visit_tag_names(scope, f);
            }));
        }
        // Core-format data whose `_AttributeFlattened` / `_allTags` are not built yet: read the
        // same tag names from the attributes themselves (see `data.rs`).
        if let Some(base) = data.pending_core() {
            let own = ctx.path(OWN_TAGS_PATH)?;
            return Ok(evaluate_each(op, &wanted, &mut |f| {
                let _ = match scope.as_str() {
                    "attribute" => core_format::visit_flattened(base, &mut |a| own.visit(a, f)),
                    // The in/not_in operators only ask which tags occur: each event tag once.
                    "event_attribute" if set_operator => {
                        core_format::visit_all_tag_name_set(base, f)
                    }
                    "event_attribute" => core_format::visit_all_tag_names(base, f),
                    _ => path.visit(base, f),
                };
            }));
        }
        let view = ctx.view(data)?;
        Ok(evaluate_each(op, &wanted, &mut |f| {
            let _ = path.visit(&view, f);
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::eval;

    fn data() -> Value {
        json!({"Event": {"Tag": [{"name": "tlp:green"}], "_AttributeFlattened": [
            {"Tag": [{"name": "PAP:RED"}], "_allTags": [{"name": "tlp:green", "inherited": true}, {"name": "PAP:RED", "inherited": false}]},
            {"Tag": [], "_allTags": [{"name": "tlp:green", "inherited": true}, {"name": "misp-galaxy:tea-matrix=\"Milk in tea\"", "inherited": false}]}
        ]}})
    }

    #[test]
    fn s5_1_tag_if_scopes() {
        let m = TagIf::new();
        assert!(eval(
            &m,
            json!({"scope": "event", "condition": "in_or", "tags": ["tlp:green"]}),
            data()
        ));
        assert!(!eval(
            &m,
            json!({"scope": "attribute", "condition": "in_or", "tags": ["tlp:green"]}),
            data()
        ));
        assert!(eval(
            &m,
            json!({"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:green"]}),
            data()
        ));
        assert!(eval(
            &m,
            json!({"scope": "attribute", "condition": "in_and", "tags": ["PAP:RED"]}),
            data()
        ));
        assert!(eval(
            &m,
            json!({"scope": "event", "condition": "not_in_or", "tags": ["tlp:red"]}),
            data()
        ));
        assert!(eval(
            &m,
            json!({"scope": "event", "condition": "not_in_and", "tags": ["tlp:green", "x"]}),
            data()
        ));
    }

    #[test]
    fn s5_1_tag_if_clusters_get_galaxy_prefix_and_strings_count() {
        let m = TagIf::new();
        assert!(eval(
            &m,
            json!({"scope": "event_attribute", "condition": "in_or", "tags": "", "clusters": ["tea-matrix=\"Milk in tea\""]}),
            data()
        ));
        assert!(eval(
            &m,
            json!({"scope": "event", "condition": "in_or", "tags": "tlp:green", "clusters": ""}),
            data()
        ));
        assert!(!eval(
            &m,
            json!({"scope": "event", "condition": "in_or"}),
            data()
        ));
    }
}
