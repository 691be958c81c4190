//! `stop-execution` (Stop execution 0.2, spec §5.2): the blocking action that ends a run with
//! outcome `blocked`.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::data::RoamingData;
use crate::module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
};

/// Adds its (Jinja-rendered) message to the errors and fails.
pub struct StopExecution {
    config: ModuleConfig,
}

impl StopExecution {
    /// The module with MISP's config (blocking, 0 outputs).
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("stop-execution", "Stop execution", ModuleKind::Action);
        c.version = "0.2".into();
        c.description = "Essentially stops the execution for blocking workflows. Do nothing for non-blocking ones".into();
        c.icon = "ban".into();
        c.outputs = 0;
        c.blocking = true;
        c.params = vec![
            ParamDescriptor::new("message", "Stop message", ParamType::Input)
                .default(json!("Execution stopped"))
                .placeholder("Execution stopped")
                .jinja(),
        ];
        StopExecution { config: c }
    }
}

impl Default for StopExecution {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for StopExecution {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        // A plain message needs no view: skip building one (and, for lazily built core-format
        // data, the `_AttributeFlattened` copies). With path filters on, the view is still built
        // so that a broken filter fails the node as before.
        let message = if ctx.param_is_template("message") || data.has_path_filters() {
            ctx.param_str("message", &*ctx.view(data)?)?
        } else {
            ctx.param_str("message", &Value::Null)?
        };
        errors.push(message);
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::testkit::run;

    #[test]
    fn s5_2_stop_execution_renders_message_and_fails() {
        let m = StopExecution::new();
        let mut d = RoamingData::new(json!({"Event": {"info": "evil"}}));
        let (r, errors) = run(&m, json!({"message": "blocked {{ Event.info }}"}), &mut d);
        assert_eq!(r, Ok(false));
        assert_eq!(errors, vec!["blocked evil".to_owned()]);
        let (_, errors) = run(&m, json!([]), &mut d);
        assert_eq!(errors, vec!["Execution stopped".to_owned()]);
        let (r, _) = run(&m, json!({"message": "{{ oops"}), &mut d);
        assert!(matches!(r, Err(ModuleError::Template(_))));
    }
}
