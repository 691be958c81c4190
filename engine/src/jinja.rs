//! Jinja params (spec §4, §14.4) rendered in-process with `minijinja`.
//!
//! MISP sends templates to the misp-modules Enrichment server (sandboxed Jinja2, roaming data
//! as context). Here the same happens in-process: no loader (no file system access, no
//! `include`/`import` of anything), a fuel budget against runaway loops, no auto-escaping, and
//! `tojson` available. A template error is returned, never a panic; modules turn it into a node
//! error. Deviation: MISP renders a failed template as `""` and carries on; here the node fails
//! with the template error, which is easier to debug.

use minijinja::{AutoEscape, Environment};
use serde_json::Value;

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template error: {0}")]
pub struct TemplateError(pub String);

/// Whether `text` has template syntax (`{{`, `{%` or `{#`); other text renders as itself.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A sandboxed template renderer.
#[derive(Debug)]
pub struct Jinja {
    env: Environment<'static>,
}

impl Default for Jinja {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(Self::FUEL));
        Jinja { env }
    }
}

impl Jinja {
    /// Instruction budget per render.
    pub const FUEL: u64 = 5_000_000;

    /// Renders `template` with `data` as the context. Text without `{{`, `{%` or `{#` is
    /// returned unchanged without building a context.
    pub fn render(&self, template: &str, data: &Value) -> Result<String, TemplateError> {
        if !is_template(template) {
            return Ok(template.to_owned());
        }
        let ctx = minijinja::Value::from_serialize(data);
        self.env
            .render_str(template, ctx)
            .map_err(|e| TemplateError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn s14_4_renders_against_roaming_data() {
        let j = Jinja::default();
        let data = json!({"Event": {"info": "hello", "Tag": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(j.render("{{ Event.info }}", &data), Ok("hello".into()));
        assert_eq!(
            j.render("{% for t in Event.Tag %}{{ t.name }};{% endfor %}", &data),
            Ok("a;b;".into())
        );
        assert_eq!(
            j.render("{{ Event.Tag | tojson }}", &data),
            Ok(r#"[{"name":"a"},{"name":"b"}]"#.into())
        );
        assert_eq!(j.render("plain <b>", &data), Ok("plain <b>".into()));
    }

    #[test]
    fn s14_4_template_errors_and_sandbox() {
        let j = Jinja::default();
        assert!(j.render("{{ unclosed", &json!({})).is_err());
        assert!(j.render("{% include 'etc/passwd' %}", &json!({})).is_err());
        assert!(j
            .render(
                "{% for i in range(100000) %}{% for k in range(100000) %}{% endfor %}{% endfor %}",
                &json!({})
            )
            .is_err());
    }
}
