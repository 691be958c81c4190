//! The module model (spec §4): one [`Module`] trait for every node type, its static
//! [`ModuleConfig`] (rendered in MISP's JSON shape for the module index API and the editor's
//! forms), and the [`ModuleContext`] a module runs with.

use std::any::Any;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::data::RoamingData;
use crate::graph::Node;
use crate::hashpath::{HashPath, PathCache, PathError};
use crate::jinja::{Jinja, TemplateError};
use crate::services::{Services, WorkflowInfo};
use std::sync::Arc;

/// Module type (`module_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// Start node bound to a hook; never runs.
    Trigger,
    /// Routing / filtering.
    Logic,
    /// Does something.
    Action,
}

impl ModuleKind {
    /// MISP's name (`trigger`, `logic`, `action`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::Trigger => "trigger",
            ModuleKind::Logic => "logic",
            ModuleKind::Action => "action",
        }
    }
}

/// Which outputs the walk follows after a node ran (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    /// Triggers and actions: every output.
    AllOutputs,
    /// IF modules: `output_1` on true, `output_2` on false.
    IfElse,
    /// Filters: `output_1`.
    FirstOutput,
    /// `concurrent-task`: each connection becomes a queued job; nothing in-process.
    Concurrent,
}

/// Param form field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `input`.
    Input,
    /// `textarea`.
    Textarea,
    /// `select`.
    Select,
    /// `picker` (searchable select).
    Picker,
    /// `hashpath`.
    Hashpath,
    /// `checkbox`.
    Checkbox,
    /// `radio`.
    Radio,
}

impl ParamType {
    /// MISP's type name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Input => "input",
            ParamType::Textarea => "textarea",
            ParamType::Select => "select",
            ParamType::Picker => "picker",
            ParamType::Hashpath => "hashpath",
            ParamType::Checkbox => "checkbox",
            ParamType::Radio => "radio",
        }
    }
}

/// One param descriptor (spec §4). The editor builds its forms from these, so ids, labels,
/// defaults and options must match MISP's.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDescriptor {
    /// Key in `indexed_params`.
    pub id: String,
    /// Form label.
    pub label: String,
    /// Field type.
    pub kind: ParamType,
    /// Default when the node has no value.
    pub default: Option<Value>,
    /// Options: map value→label, list of strings, or list of `{name, value}`.
    pub options: Option<Value>,
    /// Placeholder text.
    pub placeholder: Option<String>,
    /// Multi-select.
    pub multiple: bool,
    /// Picker accepting new values (implies multiple).
    pub picker_create_new: bool,
    /// `display_on` rule (UI only).
    pub display_on: Option<Value>,
    /// Rendered with Jinja before use.
    pub jinja_supported: bool,
    /// `hashpath.is_sub_selector` (hashpath fields only).
    pub is_sub_selector: Option<bool>,
}

impl ParamDescriptor {
    /// A descriptor with only id, label and type set.
    pub fn new(id: &str, label: &str, kind: ParamType) -> Self {
        ParamDescriptor {
            id: id.into(),
            label: label.into(),
            kind,
            default: None,
            options: None,
            placeholder: None,
            multiple: false,
            picker_create_new: false,
            display_on: None,
            jinja_supported: false,
            is_sub_selector: None,
        }
    }
    /// Sets `default`.
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    /// Sets `options`.
    pub fn options(mut self, v: Value) -> Self {
        self.options = Some(v);
        self
    }
    /// Sets `placeholder`.
    pub fn placeholder(mut self, p: &str) -> Self {
        self.placeholder = Some(p.into());
        self
    }
    /// Marks multi-select.
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }
    /// Marks a picker that accepts new values.
    pub fn create_new(mut self) -> Self {
        self.picker_create_new = true;
        self.multiple = true;
        self
    }
    /// Sets `display_on`.
    pub fn display_on(mut self, v: Value) -> Self {
        self.display_on = Some(v);
        self
    }
    /// Marks Jinja rendering.
    pub fn jinja(mut self) -> Self {
        self.jinja_supported = true;
        self
    }
    /// Sets `hashpath.is_sub_selector`.
    pub fn sub_selector(mut self, v: bool) -> Self {
        self.is_sub_selector = Some(v);
        self
    }

    /// MISP's JSON shape of the descriptor.
    pub fn to_misp(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("label".into(), json!(self.label));
        m.insert("type".into(), json!(self.kind.as_str()));
        if let Some(d) = &self.default {
            m.insert("default".into(), d.clone());
        }
        if let Some(o) = &self.options {
            m.insert("options".into(), o.clone());
        }
        if let Some(p) = &self.placeholder {
            m.insert("placeholder".into(), json!(p));
        }
        if self.multiple {
            m.insert("multiple".into(), json!(true));
        }
        if self.picker_create_new {
            m.insert("picker_create_new".into(), json!(true));
        }
        if let Some(d) = &self.display_on {
            m.insert("display_on".into(), d.clone());
        }
        if self.jinja_supported {
            m.insert("jinja_supported".into(), json!(true));
        }
        if let Some(s) = self.is_sub_selector {
            m.insert("hashpath".into(), json!({"is_sub_selector": s}));
        }
        Value::Object(m)
    }
}

/// Trigger-only configuration (spec §3).
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerInfo {
    /// `scope` (event, attribute, …).
    pub scope: String,
    /// Data converted to MISP core format before the walk.
    pub misp_core_format: bool,
    /// 1 low, 2 medium, 3 high.
    pub overhead: u8,
    /// MISP's overhead warning.
    pub overhead_message: String,
    /// Ad-hoc trigger (`is_adhoc`).
    pub is_adhoc: bool,
}

/// A module's static configuration (spec §4): everything MISP exposes as public properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleConfig {
    /// Module id (`tag-if`).
    pub id: String,
    /// Display name (`IF :: Tag`).
    pub name: String,
    /// Version (`0.1`).
    pub version: String,
    /// Description.
    pub description: String,
    /// Font Awesome icon name.
    pub icon: String,
    /// Icon class.
    pub icon_class: String,
    /// Trigger, logic or action.
    pub kind: ModuleKind,
    /// Number of inputs.
    pub inputs: u8,
    /// Number of outputs.
    pub outputs: u8,
    /// A failure stops the whole walk.
    pub blocking: bool,
    /// Provided by misp-modules.
    pub is_misp_module: bool,
    /// Custom module.
    pub is_custom: bool,
    /// Expects roaming data in MISP core format.
    pub expect_misp_core_format: bool,
    /// An output may have several connections.
    pub multiple_output_connection: bool,
    /// Honours node filtering conditions.
    pub support_filters: bool,
    /// Param descriptors.
    pub params: Vec<ParamDescriptor>,
    /// `html_template` (`trigger`, `if`, `concurrent`), when the module sets one.
    pub html_template: Option<String>,
    /// How the walk continues.
    pub routing: Routing,
    /// Trigger extras.
    pub trigger: Option<TriggerInfo>,
}

impl ModuleConfig {
    /// A config with MISP's base-class defaults for `kind` (logic 1/2, action 1/1, trigger 0/1).
    pub fn new(id: &str, name: &str, kind: ModuleKind) -> Self {
        let (inputs, outputs, routing) = match kind {
            ModuleKind::Trigger => (0, 1, Routing::AllOutputs),
            ModuleKind::Logic => (1, 2, Routing::IfElse),
            ModuleKind::Action => (1, 1, Routing::AllOutputs),
        };
        ModuleConfig {
            id: id.into(),
            name: name.into(),
            version: "0.1".into(),
            description: String::new(),
            icon: String::new(),
            icon_class: String::new(),
            kind,
            inputs,
            outputs,
            blocking: false,
            is_misp_module: false,
            is_custom: false,
            expect_misp_core_format: false,
            multiple_output_connection: false,
            support_filters: false,
            params: Vec::new(),
            html_template: None,
            routing,
            trigger: None,
        }
    }

    /// The descriptor of param `id`.
    pub fn param(&self, id: &str) -> Option<&ParamDescriptor> {
        self.params.iter().find(|p| p.id == id)
    }

    /// MISP's module config JSON (spec §4), as `moduleIndex` / `moduleView` and trigger nodes
    /// carry it. `disabled` comes from the enable state the server keeps.
    pub fn to_misp_config(&self, disabled: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        if let Some(t) = &self.trigger {
            m.insert("scope".into(), json!(t.scope));
        }
        m.insert("name".into(), json!(self.name));
        m.insert("description".into(), json!(self.description));
        m.insert("icon".into(), json!(self.icon));
        m.insert("inputs".into(), json!(self.inputs));
        m.insert("outputs".into(), json!(self.outputs));
        m.insert("blocking".into(), json!(self.blocking));
        if let Some(t) = &self.trigger {
            m.insert("misp_core_format".into(), json!(t.misp_core_format));
            m.insert("trigger_overhead".into(), json!(t.overhead));
            m.insert("trigger_overhead_message".into(), json!(t.overhead_message));
            if t.is_adhoc {
                m.insert("is_adhoc".into(), json!(true));
            }
        }
        m.insert("is_misp_module".into(), json!(self.is_misp_module));
        m.insert("is_custom".into(), json!(self.is_custom));
        m.insert(
            "expect_misp_core_format".into(),
            json!(self.expect_misp_core_format),
        );
        m.insert("version".into(), json!(self.version));
        m.insert("icon_class".into(), json!(self.icon_class));
        m.insert(
            "multiple_output_connection".into(),
            json!(self.multiple_output_connection),
        );
        m.insert("support_filters".into(), json!(self.support_filters));
        m.insert(
            "saved_filters".into(),
            json!([
                {"text": "selector", "value": ""},
                {"text": "value", "value": ""},
                {"text": "operator", "value": ""},
                {"text": "path", "value": ""}
            ]),
        );
        m.insert(
            "params".into(),
            Value::Array(self.params.iter().map(ParamDescriptor::to_misp).collect()),
        );
        m.insert("module_type".into(), json!(self.kind.as_str()));
        if let Some(h) = &self.html_template {
            m.insert("html_template".into(), json!(h));
        }
        m.insert("disabled".into(), json!(disabled));
        Value::Object(m)
    }
}

/// An error a module raises (MISP: an exception). The walk reports it as
/// "Error while executing module X. Error: …" and treats the node as failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModuleError {
    /// A Jinja param did not render.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A hash path param is malformed.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The roaming data lacks what the module needs.
    #[error("{0}")]
    Data(String),
    /// Any other failure (server-side modules).
    #[error("{0}")]
    Failed(String),
}

/// What a module runs with: the node, its workflow, the engine's services, caches, and an
/// optional server-provided extension (e.g. the executing user and store handles).
pub struct ModuleContext<'a> {
    /// The workflow being run.
    pub workflow: &'a WorkflowInfo,
    /// The node being executed.
    pub node: &'a Node,
    /// The module's config.
    pub config: &'a ModuleConfig,
    /// Side-effect seams.
    pub services: &'a Services,
    /// Server-specific context (downcast with `Any`); `None` in tests and benches.
    pub extension: Option<&'a (dyn Any + Send + Sync)>,
    pub(crate) paths: &'a PathCache,
    pub(crate) jinja: &'a Jinja,
}

impl<'a> ModuleContext<'a> {
    /// Run-time value of param `id` without Jinja: `indexed_params[id]`, else the default,
    /// else `""` (spec §4; `null` counts as missing, like PHP's `??`).
    pub fn param_raw(&self, id: &str) -> Value {
        match self.node.param(id) {
            Some(v) if !v.is_null() => v.clone(),
            _ => self
                .config
                .param(id)
                .and_then(|d| d.default.clone())
                .unwrap_or_else(|| Value::String(String::new())),
        }
    }

    /// Run-time value of param `id`, rendered against `data` when the param supports Jinja and
    /// the value is a non-empty string.
    pub fn param(&self, id: &str, data: &Value) -> Result<Value, ModuleError> {
        let raw = self.param_raw(id);
        let jinja = self.config.param(id).is_some_and(|d| d.jinja_supported);
        match raw {
            Value::String(s) if jinja && !s.is_empty() => {
                Ok(Value::String(self.jinja.render(&s, data)?))
            }
            other => Ok(other),
        }
    }

    /// Whether param `id` is a Jinja template this run would render against the data (a
    /// non-empty string with template syntax in a Jinja-supported param). When it is not,
    /// [`ModuleContext::param`] ignores its `data` argument.
    pub fn param_is_template(&self, id: &str) -> bool {
        self.config.param(id).is_some_and(|d| d.jinja_supported)
            && matches!(self.param_raw(id), Value::String(s) if crate::jinja::is_template(&s))
    }

    /// Param `id` as a string (`""` when not a scalar).
    pub fn param_str(&self, id: &str, data: &Value) -> Result<String, ModuleError> {
        Ok(crate::php::to_php_string(&self.param(id, data)?).unwrap_or_default())
    }

    /// A compiled hash path, cached across runs.
    pub fn path(&self, text: &str) -> Result<Arc<HashPath>, ModuleError> {
        Ok(self.paths.get(text)?)
    }

    /// The roaming data as this module sees it (path filters applied).
    pub fn view<'d>(
        &self,
        data: &'d RoamingData,
    ) -> Result<std::borrow::Cow<'d, Value>, ModuleError> {
        Ok(data.view(self.paths)?)
    }

    /// The roaming data as this module sees it, serialised as JSON (see
    /// [`RoamingData::view_json`]: cheaper than serialising [`ModuleContext::view`]).
    pub fn view_json(&self, data: &RoamingData) -> Result<Vec<u8>, ModuleError> {
        Ok(data.view_json(self.paths)?)
    }

    /// The node's filtering conditions applied to `data` (spec §8.2): `Some(items)` when the
    /// node has filters, `None` when it has none (the module then picks its default items).
    pub fn filtered<'d>(&self, data: &'d Value) -> Result<Option<Vec<&'d Value>>, ModuleError> {
        let filters = crate::filters::NodeFilters::of(self.node);
        if !filters.enabled() {
            return Ok(None);
        }
        Ok(Some(filters.matching(data, self.paths)?))
    }

    /// Renders a Jinja template against `data`.
    pub fn render(&self, template: &str, data: &Value) -> Result<String, ModuleError> {
        Ok(self.jinja.render(template, data)?)
    }

    /// Sends a module helper report to `/debug/<module>` (spec §11; sent even without debug mode).
    pub async fn debug(&self, data: Value) {
        let body = json!({
            "source": {
                "node_id": self.node.id.0,
                "module_id": self.node.module_id,
                "filters": self.node.saved_filters.as_ref().map(|f| f.to_value()).unwrap_or(Value::Null),
                "parameters": self.node.params.to_value(),
            },
            "timestamp": crate::services::iso8601(self.services.clock.now()),
            "data": data,
        });
        let path = format!("/debug/{}", self.node.module_id);
        self.services
            .debug
            .post(&self.workflow.trigger_id, &path, body)
            .await;
    }
}

/// A node type. Implementations live one per file; the registry is built once.
///
/// `run` mirrors MISP's `exec`: it returns `Ok(true)` on success, `Ok(false)` on failure (with
/// messages pushed to `errors`), and `Err` for what MISP would raise as an exception. For IF
/// modules the boolean picks the branch.
#[async_trait]
pub trait Module: Send + Sync {
    /// The static configuration.
    fn config(&self) -> &ModuleConfig;

    /// Executes the node on the roaming data.
    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError>;
}
