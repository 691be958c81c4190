//! The module registry (spec §2, §4): every module by id, built once at startup.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::module::{Module, ModuleKind};
use crate::modules;
use crate::services::ModuleSwitches;

/// Two modules with the same id (MISP: a load error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate module id `{0}`")]
pub struct DuplicateModule(pub String);

/// Modules by id, in registration order.
#[derive(Clone, Default)]
pub struct Registry {
    by_id: HashMap<String, Arc<dyn Module>>,
    order: Vec<String>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("modules", &self.order)
            .finish()
    }
}

impl Registry {
    /// The built-in catalogue: every trigger of §3, the logic modules of §5.1 and
    /// `stop-execution`. The server adds its action modules with [`Registry::register`].
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        for t in modules::triggers::all() {
            r.insert(Arc::new(t));
        }
        for m in modules::builtin() {
            r.insert(m);
        }
        r
    }

    fn insert(&mut self, m: Arc<dyn Module>) {
        let id = m.config().id.clone();
        if self.by_id.insert(id.clone(), m).is_none() {
            self.order.push(id);
        }
    }

    /// Adds a module; a duplicate id is refused.
    pub fn register(&mut self, m: Arc<dyn Module>) -> Result<(), DuplicateModule> {
        let id = m.config().id.clone();
        if self.by_id.contains_key(&id) {
            return Err(DuplicateModule(id));
        }
        self.insert(m);
        Ok(())
    }

    /// The module with id `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Module>> {
        self.by_id.get(id)
    }

    /// Every module in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Module>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// Modules of one kind.
    pub fn of_kind(&self, kind: ModuleKind) -> impl Iterator<Item = &Arc<dyn Module>> {
        self.iter().filter(move |m| m.config().kind == kind)
    }

    /// MISP's module index JSON for `kind` (`None` = all): a list of module configs with
    /// `disabled` taken from `switches`.
    pub fn to_misp_config(&self, kind: Option<ModuleKind>, switches: &dyn ModuleSwitches) -> Value {
        Value::Array(
            self.iter()
                .filter(|m| kind.is_none_or(|k| m.config().kind == k))
                .map(|m| {
                    m.config()
                        .to_misp_config(!switches.is_enabled(&m.config().id))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::AllEnabled;
    use serde_json::json;

    #[test]
    fn s4_registry_has_catalogue_and_refuses_duplicates() {
        let mut r = Registry::builtin();
        assert_eq!(r.of_kind(ModuleKind::Trigger).count(), 19);
        assert_eq!(r.of_kind(ModuleKind::Logic).count(), 10);
        assert_eq!(r.of_kind(ModuleKind::Action).count(), 1);
        let dup = r.get("tag-if").cloned().expect("tag-if");
        assert_eq!(r.register(dup), Err(DuplicateModule("tag-if".into())));
    }

    #[test]
    fn s4_module_index_shape() {
        let r = Registry::builtin();
        let logic = r.to_misp_config(Some(ModuleKind::Logic), &AllEnabled);
        let tag_if = logic
            .as_array()
            .and_then(|l| l.iter().find(|m| m["id"] == "tag-if"))
            .expect("tag-if");
        for key in [
            "id",
            "name",
            "version",
            "description",
            "icon",
            "icon_class",
            "inputs",
            "outputs",
            "blocking",
            "is_misp_module",
            "is_custom",
            "expect_misp_core_format",
            "multiple_output_connection",
            "support_filters",
            "saved_filters",
            "params",
            "html_template",
            "module_type",
            "disabled",
        ] {
            assert!(tag_if.get(key).is_some(), "missing {key}");
        }
        assert_eq!(tag_if["version"], json!("0.4"));
        assert_eq!(
            tag_if["params"][1],
            json!({"id": "condition", "label": "Condition", "type": "select", "default": "in_or",
            "options": {"in_or": "Is tagged with any (OR)", "in_and": "Is tagged with all (AND)",
                "not_in_or": "Is not tagged with any (OR)", "not_in_and": "Is not tagged with all (AND)"}})
        );
        let stop = r
            .get("stop-execution")
            .expect("stop")
            .config()
            .to_misp_config(false);
        assert_eq!(stop["outputs"], json!(0));
        assert_eq!(stop["blocking"], json!(true));
        assert_eq!(stop["params"][0]["jinja_supported"], json!(true));
        assert_eq!(stop["params"][0]["default"], json!("Execution stopped"));
        let ct = r
            .get("concurrent-task")
            .expect("ct")
            .config()
            .to_misp_config(false);
        assert_eq!(ct["multiple_output_connection"], json!(true));
        assert_eq!(ct["html_template"], json!("concurrent"));
    }
}
