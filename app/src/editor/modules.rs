//! What the editor needs to know of a module, read from its MISP config (`workflows/moduleIndex`
//! shape): ports, flags, and the parameter descriptors its side-panel form is generated from.
use serde_json::{Map, Value};

/// A module as the palette and the node forms see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleInfo {
    pub id: String,
    pub name: String,
    /// `trigger`, `logic` or `action`.
    pub module_type: String,
    pub description: String,
    pub inputs: usize,
    pub outputs: usize,
    pub blocking: bool,
    /// Expects MISP core format (`expect_misp_core_format`).
    pub expects_core_format: bool,
    pub support_filters: bool,
    pub disabled: bool,
    /// `if`, `concurrent`, `trigger` or empty.
    pub html_template: String,
    pub params: Vec<ParamInfo>,
    /// The whole config, copied into a new node's `data` (minus `params`).
    pub config: Value,
}

/// A parameter descriptor (spec §4).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub id: String,
    pub label: String,
    /// input, textarea, select, picker, hashpath, checkbox, radio.
    pub kind: String,
    pub default: Value,
    /// (value, label) pairs.
    pub options: Vec<(String, String)>,
    pub placeholder: String,
    /// Several values (`multiple`, or `picker_create_new`, which implies it).
    pub multiple: bool,
    pub jinja: bool,
    /// `display_on`: show only when every named param has (one of) the given value(s).
    pub display_on: Option<Map<String, Value>>,
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn flag(v: &Value, key: &str) -> bool {
    match &v[key] {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => s == "1" || s == "true",
        _ => false,
    }
}

fn count(v: &Value, key: &str, default: usize) -> usize {
    v[key]
        .as_u64()
        .or_else(|| v[key].as_str().and_then(|s| s.parse().ok()))
        .map_or(default, |n| n as usize)
}

/// Options as MISP writes them: a map value→label, a list of strings, or a list of
/// `{name, value}`.
pub fn options(v: &Value) -> Vec<(String, String)> {
    let plain = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match v {
        Value::Object(m) => m.iter().map(|(k, l)| (k.clone(), plain(l))).collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => {
                    let value = o.get("value").map(plain).unwrap_or_default();
                    let name = o.get("name").map(plain).unwrap_or_else(|| value.clone());
                    (value, name)
                }
                other => (plain(other), plain(other)),
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl ParamInfo {
    pub fn from_config(p: &Value) -> Self {
        ParamInfo {
            id: text(p, "id"),
            label: {
                let l = text(p, "label");
                if l.is_empty() {
                    text(p, "id")
                } else {
                    l
                }
            },
            kind: text(p, "type"),
            default: p.get("default").cloned().unwrap_or(Value::Null),
            options: options(&p["options"]),
            placeholder: text(p, "placeholder"),
            multiple: flag(p, "multiple") || flag(p, "picker_create_new"),
            jinja: flag(p, "jinja_supported"),
            display_on: p.get("display_on").and_then(Value::as_object).cloned(),
        }
    }

    /// The node's value for this param, or else its default (what the module runs with).
    pub fn value_in(&self, stored: &Map<String, Value>) -> Value {
        stored
            .get(&self.id)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// Whether the param is shown given the node's values, defaults included (see
    /// [`effective_values`]; `display_on`).
    pub fn shown(&self, values: &Map<String, Value>) -> bool {
        let Some(rules) = &self.display_on else {
            return true;
        };
        rules.iter().all(|(other, wanted)| {
            let have = values.get(other).map(value_text).unwrap_or_default();
            match wanted {
                Value::Array(any) => any.iter().any(|w| value_text(w) == have),
                w => value_text(w) == have,
            }
        })
    }
}

/// Every param's value as the module runs with it: stored, or else the default.
pub fn effective_values(params: &[ParamInfo], stored: &Map<String, Value>) -> Map<String, Value> {
    let mut values = stored.clone();
    for p in params {
        if !values.contains_key(&p.id) && !p.default.is_null() {
            values.insert(p.id.clone(), p.default.clone());
        }
    }
    values
}

/// A param value as the form shows it (strings bare, the rest as JSON).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        other => other.to_string(),
    }
}

/// A list param value: lists as they are, a plain string as one item (stored graphs hold both).
pub fn value_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(value_text).collect(),
        Value::Null => Vec::new(),
        Value::String(s) if s.is_empty() => Vec::new(),
        other => vec![value_text(other)],
    }
}

impl ModuleInfo {
    pub fn from_config(config: &Value) -> Self {
        let module_type = text(config, "module_type");
        let (ins, outs) = match module_type.as_str() {
            "trigger" => (0, 1),
            "logic" => (1, 2),
            _ => (1, 1),
        };
        ModuleInfo {
            id: text(config, "id"),
            name: text(config, "name"),
            description: text(config, "description"),
            inputs: count(config, "inputs", ins),
            outputs: count(config, "outputs", outs),
            blocking: flag(config, "blocking"),
            expects_core_format: flag(config, "expect_misp_core_format"),
            support_filters: flag(config, "support_filters"),
            disabled: flag(config, "disabled"),
            html_template: text(config, "html_template"),
            params: config["params"]
                .as_array()
                .map(|ps| ps.iter().map(ParamInfo::from_config).collect())
                .unwrap_or_default(),
            module_type,
            config: config.clone(),
        }
    }

    /// The node classes MISP's editor gives this module.
    pub fn node_class(&self) -> String {
        let mut class = match (self.module_type.as_str(), self.html_template.as_str()) {
            ("trigger", _) => "block-type-trigger".to_owned(),
            (_, "if") => "block-type-if block-type-logic".to_owned(),
            (_, "concurrent") => "block-type-concurrent block-type-logic".to_owned(),
            ("logic", _) => "block-type-logic".to_owned(),
            _ => "block-type-default".to_owned(),
        };
        if self.expects_core_format {
            class.push_str(" expect-misp-core-format");
        }
        class
    }

    /// Output labels: IF modules say then / else.
    pub fn output_label(&self, output: usize) -> &'static str {
        match (self.html_template.as_str(), output) {
            ("if", 1) => "then",
            ("if", 2) => "else",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_in_all_three_shapes() {
        assert_eq!(
            options(&json!({"a": "A", "b": "B"})),
            vec![("a".into(), "A".into()), ("b".into(), "B".into())]
        );
        assert_eq!(options(&json!(["x"])), vec![("x".into(), "x".into())]);
        assert_eq!(
            options(&json!([{"name": "Red", "value": "tlp:red"}])),
            vec![("tlp:red".into(), "Red".into())]
        );
    }

    #[test]
    fn display_on_follows_the_other_params() {
        let p = ParamInfo::from_config(&json!({
            "id": "value", "type": "input", "display_on": {"operator": ["in", "equals"]}
        }));
        let mut values = Map::new();
        values.insert("operator".into(), json!("in"));
        assert!(p.shown(&values));
        values.insert("operator".into(), json!("in_or"));
        assert!(!p.shown(&values));
        // A node that never set `operator` runs with its default, and shows accordingly.
        let operator =
            ParamInfo::from_config(&json!({"id": "operator", "type": "select", "default": "in"}));
        let values = effective_values(&[operator.clone(), p.clone()], &Map::new());
        assert!(p.shown(&values));
        assert_eq!(operator.value_in(&Map::new()), json!("in"));
    }

    #[test]
    fn ports_default_by_type() {
        let logic = ModuleInfo::from_config(&json!({"id": "x", "module_type": "logic"}));
        assert_eq!((logic.inputs, logic.outputs), (1, 2));
        let trig = ModuleInfo::from_config(&json!({"id": "t", "module_type": "trigger"}));
        assert_eq!((trig.inputs, trig.outputs), (0, 1));
        assert_eq!(value_list(&json!("ALL")), vec!["ALL".to_owned()]);
    }
}
