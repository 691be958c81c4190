//! The executor (spec §6, §11, §12): one run of a workflow on hook data.
//!
//! A [`Prepared`] workflow is validated once; [`Engine::execute`] then runs it any number of
//! times. The walk is MISP's: depth-first pre-order from the trigger, outputs in port order,
//! connections in list order, no visited set (a node reached by two paths runs twice), an edge
//! already on the current path is skipped. It is iterative (an explicit stack), so no graph can
//! overflow the call stack.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::{debug_span, Instrument};

use crate::data::RoamingData;
use crate::graph::{Graph, KeyedValues, Node, NodeId};
use crate::hashpath::PathCache;
use crate::jinja::Jinja;
use crate::module::{Module, ModuleContext, ModuleKind, Routing};
use crate::registry::Registry;
use crate::services::{iso8601, ConcurrentJob, LogLevel, LogRecord, Services, WorkflowInfo};
use crate::source::EventSource;
use crate::validate::{validate, Validation};

/// Per-run budgets. A run that exceeds one ends with outcome `failure` and a clear error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most nodes executed in one run (logic and action nodes, each visit counted).
    pub max_nodes: usize,
    /// Longest wall time of one run.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 10_000,
            max_duration: Duration::from_secs(300),
        }
    }
}

/// Path type of a walk (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathType {
    /// Below a blocking trigger.
    Blocking,
    /// Below a non-blocking trigger or in a concurrent task.
    NonBlocking,
}

impl PathType {
    fn as_str(self) -> &'static str {
        match self {
            PathType::Blocking => "blocking",
            PathType::NonBlocking => "non-blocking",
        }
    }
}

/// Run outcome (spec §6.2 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The walk completed.
    Success,
    /// The walk (or the preparation) failed.
    Failure,
    /// A `stop-execution` node stopped the walk.
    Blocked,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Blocked => "blocked",
        }
    }
}

/// MISP's walk result.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WalkResult {
    /// Blocking nodes whose failure stopped the walk.
    pub blocking_nodes: Vec<NodeId>,
    /// Action nodes executed, in order (a node reached twice is listed twice).
    pub executed_nodes: Vec<NodeId>,
    /// Node-id paths skipped below a failed non-blocking node on a non-blocking path.
    pub blocked_paths: Vec<Vec<NodeId>>,
}

/// Status of one executed node, as in the debug `result=` query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Returned true (logic nodes always report success).
    Success,
    /// Action returned false.
    PartialSuccess,
    /// Raised an error.
    Error,
    /// Module disabled.
    DisabledModule,
    /// Module unknown to the registry.
    LoadingError,
}

impl NodeStatus {
    fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Success => "success",
            NodeStatus::PartialSuccess => "partial-success",
            NodeStatus::Error => "error",
            NodeStatus::DisabledModule => "disabled_module",
            NodeStatus::LoadingError => "loading_error",
        }
    }
}

/// One node execution, for the run log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRun {
    /// The node.
    pub node_id: NodeId,
    /// Its module.
    pub module_id: String,
    /// What happened.
    pub status: NodeStatus,
    /// How long the module ran, in microseconds.
    pub duration_us: u64,
    /// Messages the module produced.
    pub errors: Vec<String>,
}

/// Why a walk stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    /// A blocking module failed.
    #[error("blocking node {0} failed")]
    BlockingNode(NodeId),
    /// Too many nodes executed.
    #[error("Workflow execution stopped: more than {0} nodes executed in one run")]
    NodeBudget(usize),
    /// Ran too long.
    #[error("Workflow execution stopped: the run exceeded {0:?}")]
    TimeBudget(Duration),
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// False when the operation behind a blocking trigger must be aborted.
    pub success: bool,
    /// Success, failure or blocked.
    pub outcome: Outcome,
    /// MISP's outcome text.
    pub outcome_text: String,
    /// The walk result.
    pub walk: WalkResult,
    /// Aggregated errors, MISP's wording.
    pub errors: Vec<String>,
    /// Per-node records.
    pub nodes: Vec<NodeRun>,
    /// Whether the run counter was incremented (every run except concurrent-task jobs).
    pub counter_incremented: bool,
    /// Concurrent-task jobs queued.
    pub jobs_queued: usize,
    /// Roaming data at the end of the run (core-format extras still lazy when nothing read
    /// them: `data.raw()` / `data.into_value()` give the document).
    pub data: RoamingData,
}

impl RunReport {
    fn early(
        outcome_text: &str,
        errors: Vec<String>,
        data: RoamingData,
        counter: bool,
    ) -> RunReport {
        RunReport {
            success: false,
            outcome: Outcome::Failure,
            outcome_text: outcome_text.into(),
            walk: WalkResult::default(),
            errors,
            nodes: Vec::new(),
            counter_incremented: counter,
            jobs_queued: 0,
            data,
        }
    }

    /// The concurrent-task job message (spec §6.5).
    pub fn job_message(&self, start: NodeId) -> String {
        if self.success {
            format!(
                "Workflow concurrent task executed {} nodes starting from node {}.",
                self.walk.executed_nodes.len(),
                start
            )
        } else {
            self.errors.join(", ")
        }
    }
}

/// What [`Engine::execute_module`] reports.
#[derive(Debug, Clone)]
pub struct ModuleRun {
    /// The module's verdict (for logic modules: which output it chose, `true` = `output_1`).
    pub success: bool,
    /// Errors the module reported.
    pub errors: Vec<String>,
    /// The roaming data after the module ran.
    pub data: RoamingData,
}

/// Why [`Engine::execute_module`] could not run a module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatelessError {
    /// No module with this id.
    #[error("Invalid module `{0}`")]
    UnknownModule(String),
    /// Triggers are start nodes, never run.
    #[error("Module `{0}` is a trigger: triggers are not executed")]
    Trigger(String),
    /// `indexed_params` is neither an object nor a list.
    #[error("`module_indexed_param` must be an object of param values")]
    Params,
    /// The input could not be converted to the core format.
    #[error("{0}")]
    Data(String),
}

/// How the hook data arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum RunInput {
    /// Raw hook data; converted to core format when the trigger asks for it.
    Raw(Value),
    /// Roaming data already built (core format or whatever the trigger passes).
    Normalized(Value),
    /// Roaming data already built in Flowgate's own form, e.g. by [`RoamingData::core_format`]
    /// (core-format extras still pending), run as it is.
    Data(RoamingData),
    /// Raw hook data received as bytes and indexed ([`EventSource::index`]): run on the bytes
    /// when the trigger converts to core format and nothing needs the raw tree (debug mode,
    /// trigger conditions); else parsed and run as [`RunInput::Raw`].
    Source(EventSource),
}

/// A workflow validated and ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The stored workflow.
    pub workflow: WorkflowInfo,
    /// Its graph.
    pub graph: Graph,
    /// Validation result (errors empty).
    pub validation: Validation,
    trigger: NodeId,
    trigger_blocking: bool,
    trigger_core: bool,
}

impl Prepared {
    /// The trigger node.
    pub fn trigger(&self) -> NodeId {
        self.trigger
    }
    /// Path type of runs of this workflow.
    pub fn path_type(&self) -> PathType {
        if self.trigger_blocking {
            PathType::Blocking
        } else {
            PathType::NonBlocking
        }
    }
}

/// Per-walk state.
struct Walk<'a> {
    prepared: &'a Prepared,
    extension: Option<&'a (dyn Any + Send + Sync)>,
    path_type: PathType,
    started: Duration,
    report: WalkResult,
    errors: Vec<String>,
    nodes: Vec<NodeRun>,
    executed: usize,
    jobs: usize,
}

struct Frame {
    node: NodeId,
    /// Edge indices from the walk's start to this node.
    path: Vec<usize>,
    blocked: bool,
}

/// The workflow engine: registry, services, caches and limits. Cheap to share (`Arc`).
pub struct Engine {
    registry: Arc<Registry>,
    services: Services,
    limits: Limits,
    paths: PathCache,
    jinja: Jinja,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry", &self.registry)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Engine {
    /// An engine over `registry` talking to the world through `services`.
    pub fn new(registry: Arc<Registry>, services: Services) -> Engine {
        Engine {
            registry,
            services,
            limits: Limits::default(),
            paths: PathCache::default(),
            jinja: Jinja::default(),
        }
    }

    /// Replaces the per-run budgets.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The module registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The module registry, shared.
    pub fn registry_arc(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Validates `graph` (spec §10) and readies it to run; a graph with errors is refused.
    pub fn prepare(&self, workflow: WorkflowInfo, graph: Graph) -> Result<Prepared, Validation> {
        let validation = validate(&graph, &self.registry, self.services.switches.as_ref());
        let Some(trigger) = graph.triggers().next().filter(|_| validation.is_valid()) else {
            return Err(validation);
        };
        let cfg = self.registry.get(&trigger.module_id).map(|m| m.config());
        let adhoc = trigger.module_id.starts_with("adhoc_");
        let trigger_blocking = cfg.map_or_else(
            || trigger.data_flag("blocking").unwrap_or(adhoc),
            |c| c.blocking,
        );
        let trigger_core = cfg
            .and_then(|c| c.trigger.as_ref().map(|t| t.misp_core_format))
            .or_else(|| trigger.data_flag("misp_core_format"))
            .unwrap_or(adhoc);
        let trigger = trigger.id;
        Ok(Prepared {
            workflow,
            graph,
            validation,
            trigger,
            trigger_blocking,
            trigger_core,
        })
    }

    async fn log(&self, wf: &WorkflowInfo, level: LogLevel, message: String) {
        if level == LogLevel::Debug && !wf.debug_enabled {
            return;
        }
        let record = LogRecord {
            workflow_id: wf.id,
            trigger_id: wf.trigger_id.clone(),
            level,
            action: "execute_workflow".into(),
            message,
            timestamp: self.services.clock.now(),
        };
        self.services.log.record(record).await;
    }

    async fn debug_post(
        &self,
        wf: &WorkflowInfo,
        path: String,
        node: Option<&Node>,
        data: Value,
        errors: Option<&[String]>,
    ) {
        if !wf.debug_enabled {
            return;
        }
        let source = match node {
            Some(n) => json!({
                "node_id": n.id.0,
                "module_id": n.module_id,
                "filters": n.saved_filters.as_ref().map(|f| f.to_value()).unwrap_or(Value::String(String::new())),
                "parameters": n.params.to_value(),
            }),
            None => json!({"node_id": "", "module_id": "", "filters": "", "parameters": ""}),
        };
        let mut body = json!({"source": source, "timestamp": iso8601(self.services.clock.now()), "data": data});
        if let (Some(errs), Value::Object(b)) = (errors, &mut body) {
            b.insert("errors".into(), json!(errs));
        }
        self.services.debug.post(&wf.trigger_id, &path, body).await;
    }

    /// Runs a prepared workflow on hook data (spec §6.2).
    ///
    /// `extension` is handed to every module (server context such as the executing user).
    pub async fn execute(
        &self,
        prepared: &Prepared,
        input: RunInput,
        extension: Option<&(dyn Any + Send + Sync)>,
    ) -> RunReport {
        let wf = &prepared.workflow;
        let span = debug_span!("workflow_run", workflow = wf.id, trigger = %wf.trigger_id);
        async move {
            self.log(wf, LogLevel::Debug, format!("Started executing workflow for trigger `{}` ({})", wf.trigger_id, wf.id)).await;
            self.services.log.increment_counter(wf.id).await;

            let trigger_node = prepared.graph.node(prepared.trigger);
            let trigger_module = trigger_node.and_then(|n| self.registry.get(&n.module_id)).cloned();
            // Only triggers with params have conditions to check on the raw data (the tag
            // trigger); keep a copy of the raw data only for them or for debug mode.
            let has_conditions = trigger_module.as_ref().is_some_and(|m| !m.config().params.is_empty());
            let needs_raw = wf.debug_enabled || has_conditions;
            let input = match input {
                RunInput::Source(src) if !prepared.trigger_core || needs_raw => RunInput::Raw(src.to_value()),
                other => other,
            };
            let (raw, normalized) = match input {
                RunInput::Normalized(v) => (None, Ok(RoamingData::new(v))),
                RunInput::Data(d) => (None, Ok(d)),
                RunInput::Source(src) => (None, Ok(RoamingData::from_source(src))),
                RunInput::Raw(v) => {
                    let keep = needs_raw.then(|| v.clone());
                    let converted = if prepared.trigger_core {
                        RoamingData::core_format(v)
                    } else {
                        Ok(RoamingData::new(v))
                    };
                    (keep, converted)
                }
            };
            let normalized = match normalized {
                Ok(v) => v,
                Err(e) => {
                    let msg = format!("Error while normalising data: {e}");
                    self.log(wf, LogLevel::Debug, msg.clone()).await;
                    return RunReport::early("failure", vec![msg], RoamingData::new(raw.unwrap_or(Value::Null)), true);
                }
            };
            let path_type = prepared.path_type();
            if wf.debug_enabled {
                let original = raw.clone().unwrap_or_else(|| normalized.raw().clone());
                let body = json!({"original": original, "normalized": normalized.raw()});
                self.debug_post(wf, format!("/init?type={}", path_type.as_str()), None, body, None).await;
            }

            if let (Some(node), Some(module), true) = (trigger_node, trigger_module.as_ref(), has_conditions) {
                let mut raw_data = raw.map_or_else(|| normalized.clone(), RoamingData::new);
                let ctx = self.context(wf, node, module.as_ref(), extension);
                let mut errs = Vec::new();
                if !matches!(module.run(&ctx, &mut raw_data, &mut errs).await, Ok(true)) {
                    return RunReport::early(
                        "failure Conditions on the trigger are not satisfied. The workflow will not be executed.",
                        Vec::new(),
                        normalized,
                        true,
                    );
                }
            }

            let mut data = normalized;
            let mut walk = Walk {
                prepared,
                extension,
                path_type,
                started: self.services.clock.monotonic(),
                report: WalkResult::default(),
                errors: Vec::new(),
                nodes: Vec::new(),
                executed: 0,
                jobs: 0,
            };
            let stop = self.walk(&mut walk, prepared.trigger, true, &mut data).await;
            self.finish(walk, stop, data, true).await
        }
        .instrument(span)
        .await
    }

    /// Runs a concurrent-task job (spec §6.5): a non-blocking walk from `job.start_node` on the
    /// job's snapshot. The run counter is not incremented.
    pub async fn resume(
        &self,
        prepared: &Prepared,
        job: ConcurrentJob,
        extension: Option<&(dyn Any + Send + Sync)>,
    ) -> RunReport {
        let mut data = RoamingData::new(job.data);
        let mut walk = Walk {
            prepared,
            extension,
            path_type: PathType::NonBlocking,
            started: self.services.clock.monotonic(),
            report: WalkResult::default(),
            errors: Vec::new(),
            nodes: Vec::new(),
            executed: 0,
            jobs: 0,
        };
        let stop = self.walk(&mut walk, job.start_node, false, &mut data).await;
        self.finish(walk, stop, data, false).await
    }

    async fn finish(
        &self,
        walk: Walk<'_>,
        stop: Option<StopReason>,
        data: RoamingData,
        counter: bool,
    ) -> RunReport {
        let wf = &walk.prepared.workflow;
        let graph = &walk.prepared.graph;
        let success = stop.is_none();
        let blocked_by_stop = walk.report.blocking_nodes.iter().any(|id| {
            graph
                .node(*id)
                .is_some_and(|n| n.module_id == "stop-execution")
        });
        let outcome = match (&stop, blocked_by_stop) {
            (None, _) => Outcome::Success,
            (Some(StopReason::BlockingNode(_)), true) => Outcome::Blocked,
            _ => Outcome::Failure,
        };
        let mut errors = walk.errors;
        if let Some(reason @ (StopReason::NodeBudget(_) | StopReason::TimeBudget(_))) = &stop {
            errors.push(reason.to_string());
        }
        if !success {
            self.log(
                wf,
                LogLevel::Error,
                format!("Execution stopped. {}", errors.join(", ")),
            )
            .await;
        }
        self.log(
            wf,
            LogLevel::Debug,
            format!(
                "Finished executing workflow for trigger `{}` ({}). Outcome: {}",
                wf.trigger_id,
                wf.id,
                outcome.as_str()
            ),
        )
        .await;
        if wf.debug_enabled {
            let walk_json = serde_json::to_value(&walk.report).unwrap_or(Value::Null);
            self.debug_post(
                wf,
                format!("/end?outcome={}", outcome.as_str()),
                None,
                walk_json,
                None,
            )
            .await;
        }
        RunReport {
            success,
            outcome,
            outcome_text: outcome.as_str().into(),
            walk: walk.report,
            errors,
            nodes: walk.nodes,
            counter_incremented: counter,
            jobs_queued: walk.jobs,
            data,
        }
    }

    /// MISP's `moduleStatelessExecution` (spec §15): runs one action or logic module outside any
    /// workflow, on a node holding `indexed_params`, and returns its verdict, its errors and the
    /// data it left. `RunInput::Raw` is converted to the MISP core format as the `event-publish`
    /// trigger does (MISP's `convert_data`); `RunInput::Normalized` is used as given. Nothing is
    /// logged, counted or debug-posted: there is no workflow.
    pub async fn execute_module(
        &self,
        module_id: &str,
        indexed_params: &Value,
        input: RunInput,
        extension: Option<&(dyn Any + Send + Sync)>,
    ) -> Result<ModuleRun, StatelessError> {
        let module = self
            .registry
            .get(module_id)
            .cloned()
            .ok_or_else(|| StatelessError::UnknownModule(module_id.to_owned()))?;
        if module.config().kind == ModuleKind::Trigger {
            return Err(StatelessError::Trigger(module_id.to_owned()));
        }
        if !matches!(
            indexed_params,
            Value::Object(_) | Value::Array(_) | Value::Null
        ) {
            return Err(StatelessError::Params);
        }
        let mut data = match input {
            RunInput::Raw(v) => RoamingData::core_format(v)
                .map_err(|e| StatelessError::Data(format!("Error while normalising data: {e}")))?,
            RunInput::Normalized(v) => RoamingData::new(v),
            RunInput::Data(d) => d,
            RunInput::Source(src) => RoamingData::from_source(src),
        };
        let mut node = Node::new(NodeId(1), module_id);
        node.name = Some(module.config().name.clone());
        if !indexed_params.is_null() {
            node.params = KeyedValues::from_value(indexed_params);
        }
        let wf = WorkflowInfo {
            id: 0,
            uuid: String::new(),
            name: "Stateless module execution".into(),
            trigger_id: String::new(),
            debug_enabled: false,
        };
        let mut errors = Vec::new();
        let success = if !self.services.switches.is_enabled(module_id) {
            errors.push("Could not execute disabled module".to_owned());
            false
        } else {
            let ctx = self.context(&wf, &node, module.as_ref(), extension);
            match module.run(&ctx, &mut data, &mut errors).await {
                Ok(verdict) => verdict,
                Err(e) => {
                    errors.push(format!(
                        "Error while executing module {module_id}. Error: {e}"
                    ));
                    false
                }
            }
        };
        Ok(ModuleRun {
            success,
            errors,
            data,
        })
    }

    fn context<'a>(
        &'a self,
        wf: &'a WorkflowInfo,
        node: &'a Node,
        module: &'a dyn Module,
        extension: Option<&'a (dyn Any + Send + Sync)>,
    ) -> ModuleContext<'a> {
        ModuleContext {
            workflow: wf,
            node,
            config: module.config(),
            services: &self.services,
            extension,
            paths: &self.paths,
            jinja: &self.jinja,
        }
    }

    fn path_nodes(graph: &Graph, start: NodeId, path: &[usize]) -> Vec<NodeId> {
        let mut out = vec![start];
        out.extend(
            path.iter()
                .filter_map(|i| graph.edges.get(*i))
                .map(|e| e.target),
        );
        out
    }

    /// The walk of spec §6.3. `from_trigger`: the start node is the trigger (a control node that
    /// is not executed); otherwise the start node is executed first (concurrent-task jobs).
    async fn walk(
        &self,
        w: &mut Walk<'_>,
        start: NodeId,
        from_trigger: bool,
        data: &mut RoamingData,
    ) -> Option<StopReason> {
        let graph = &w.prepared.graph;
        let wf = &w.prepared.workflow;
        let mut stack = vec![Frame {
            node: start,
            path: Vec::new(),
            blocked: false,
        }];
        while let Some(frame) = stack.pop() {
            let Some(node) = graph.node(frame.node) else {
                continue;
            };
            let is_start_trigger = from_trigger && frame.node == start && frame.path.is_empty();
            let mut follow: Vec<&str> = Vec::new();
            let mut children_blocked = frame.blocked;
            if is_start_trigger {
                follow = node.outputs.ordered_names();
            } else if frame.blocked {
                w.report
                    .blocked_paths
                    .push(Self::path_nodes(graph, start, &frame.path));
                follow = node.outputs.ordered_names();
            } else {
                if w.executed >= self.limits.max_nodes {
                    return Some(StopReason::NodeBudget(self.limits.max_nodes));
                }
                if self.services.clock.monotonic().saturating_sub(w.started)
                    > self.limits.max_duration
                {
                    return Some(StopReason::TimeBudget(self.limits.max_duration));
                }
                w.executed += 1;
                let module = self.registry.get(&node.module_id).cloned();
                let kind = module
                    .as_ref()
                    .map_or(ModuleKind::Action, |m| m.config().kind);
                let routing = module
                    .as_ref()
                    .map_or(Routing::AllOutputs, |m| m.config().routing);
                let blocking = module.as_ref().map_or_else(
                    || node.data_flag("blocking").unwrap_or(false),
                    |m| m.config().blocking,
                );
                let (status, success, node_errors, elapsed) =
                    self.run_node(w, node, module.as_deref(), data).await;
                if kind != ModuleKind::Logic {
                    w.report.executed_nodes.push(node.id);
                }
                w.nodes.push(NodeRun {
                    node_id: node.id,
                    module_id: node.module_id.clone(),
                    status,
                    duration_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                    errors: node_errors.clone(),
                });
                let formatted: Vec<String> = node_errors
                    .iter()
                    .map(|e| {
                        format!(
                            "Node `{}` ({}) from Workflow `{}` ({}) returned the following error: {}",
                            node.module_id, node.id, wf.name, wf.id, e
                        )
                    })
                    .collect();
                let failed = !success
                    && (kind != ModuleKind::Logic
                        || routing != Routing::IfElse
                        || status != NodeStatus::Success);
                if failed || !formatted.is_empty() {
                    w.errors.extend(formatted.iter().cloned());
                }
                match routing {
                    Routing::IfElse => {
                        let port = if success { "output_1" } else { "output_2" };
                        if node.outputs.ports.iter().any(|p| p.name == port) {
                            follow.push(port);
                        }
                        if blocking && status != NodeStatus::Success {
                            w.report.blocking_nodes.push(node.id);
                            return Some(StopReason::BlockingNode(node.id));
                        }
                    }
                    Routing::FirstOutput if success => follow.push("output_1"),
                    Routing::Concurrent if success => {
                        for port in node.outputs.ordered_names() {
                            for edge in graph.edges_from(node.id, port) {
                                let job = ConcurrentJob {
                                    workflow_id: wf.id,
                                    from_node: node.id,
                                    start_node: edge.target,
                                    data: data.raw().clone(),
                                };
                                match self.services.queue.enqueue(job).await {
                                    Ok(()) => w.jobs += 1,
                                    Err(e) => {
                                        let msg = e.to_string();
                                        self.log(wf, LogLevel::Error, msg.clone()).await;
                                        w.errors.push(msg);
                                    }
                                }
                            }
                        }
                    }
                    Routing::FirstOutput | Routing::Concurrent => {
                        if blocking {
                            w.report.blocking_nodes.push(node.id);
                            return Some(StopReason::BlockingNode(node.id));
                        }
                    }
                    Routing::AllOutputs => {
                        follow = node.outputs.ordered_names();
                        if !success {
                            if blocking {
                                w.report.blocking_nodes.push(node.id);
                                return Some(StopReason::BlockingNode(node.id));
                            }
                            if w.path_type == PathType::NonBlocking {
                                children_blocked = true;
                            } else {
                                self.log(
                                    wf,
                                    LogLevel::Error,
                                    format!(
                                        "Execution encountered an error but continued. {}",
                                        formatted.join(", ")
                                    ),
                                )
                                .await;
                            }
                        }
                    }
                }
            }
            let mut children = Vec::new();
            for port in follow {
                for (i, e) in graph.edges.iter().enumerate() {
                    if e.source == node.id
                        && e.source_port == port
                        && e.listed_by_source()
                        && !frame.path.contains(&i)
                    {
                        let mut path = frame.path.clone();
                        path.push(i);
                        children.push(Frame {
                            node: e.target,
                            path,
                            blocked: children_blocked,
                        });
                    }
                }
            }
            stack.extend(children.into_iter().rev());
        }
        None
    }

    /// Runs one node with MISP's guards (spec §6.3): disabled ⇒ false, unloadable ⇒ false,
    /// error ⇒ false; logs and debug-posts the result.
    async fn run_node(
        &self,
        w: &Walk<'_>,
        node: &Node,
        module: Option<&dyn Module>,
        data: &mut RoamingData,
    ) -> (NodeStatus, bool, Vec<String>, Duration) {
        let wf = &w.prepared.workflow;
        let t0 = self.services.clock.monotonic();
        let mut errors = Vec::new();
        let (status, success, query) = match module {
            None => {
                let msg = format!("Could not load module `{}`", node.module_id);
                errors.push(msg.clone());
                (
                    NodeStatus::LoadingError,
                    false,
                    "result=loading_error".to_owned(),
                )
            }
            Some(m) if !self.services.switches.is_enabled(&m.config().id) => {
                errors.push("Could not execute disabled module".into());
                (
                    NodeStatus::DisabledModule,
                    false,
                    "result=disabled_module".to_owned(),
                )
            }
            Some(m) => {
                let ctx = self.context(wf, node, m, w.extension);
                let span = debug_span!("node", id = node.id.0, module = %node.module_id);
                match m.run(&ctx, data, &mut errors).instrument(span).await {
                    Ok(true) => (NodeStatus::Success, true, "result=success".to_owned()),
                    Ok(false) if m.config().kind == ModuleKind::Logic => {
                        (NodeStatus::Success, false, "result=success".to_owned())
                    }
                    Ok(false) => (
                        NodeStatus::PartialSuccess,
                        false,
                        "result=partial-success".to_owned(),
                    ),
                    Err(e) => {
                        let msg = format!(
                            "Error while executing module {}. Error: {}",
                            node.module_id, e
                        );
                        errors.push(msg.clone());
                        (
                            NodeStatus::Error,
                            false,
                            format!("result=error&message={msg}"),
                        )
                    }
                }
            }
        };
        let elapsed = self.services.clock.monotonic().saturating_sub(t0);
        if matches!(
            status,
            NodeStatus::Error | NodeStatus::DisabledModule | NodeStatus::LoadingError
        ) {
            self.log(wf, LogLevel::Error, errors.join(", ")).await;
        } else {
            self.log(
                wf,
                LogLevel::Debug,
                format!("Executed node `{}`", node.module_id),
            )
            .await;
            self.log(
                wf,
                LogLevel::Debug,
                format!(
                    "Node `{}` ({}) from Workflow `{}` ({}) executed successfully with status: {}",
                    node.module_id,
                    node.id,
                    wf.name,
                    wf.id,
                    status.as_str()
                ),
            )
            .await;
        }
        if wf.debug_enabled {
            let errs = (!errors.is_empty()).then_some(errors.as_slice());
            self.debug_post(
                wf,
                format!("/exec/{}?{}", node.module_id, query),
                Some(node),
                data.raw().clone(),
                errs,
            )
            .await;
        }
        (status, success, errors, elapsed)
    }
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
