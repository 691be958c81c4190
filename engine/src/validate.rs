//! Graph validation (spec §10): what refuses a save, the `checkGraph` answer the editor polls,
//! and per-node notifications. A graph with [`Validation::errors`] is never saved or run.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};

use crate::graph::{Graph, NodeId};
use crate::module::{ModuleConfig, Routing};
use crate::registry::Registry;
use crate::services::ModuleSwitches;

/// Orange path warning of `checkGraph`.
pub const NON_BLOCKING_CONTEXT: &str =
    "This path leads to a blocking node from a non-blocking context";

/// A reason a workflow cannot be saved or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A DFS back edge.
    #[error("Cannot save a workflow containing a cycle")]
    Cycle { from: NodeId, to: NodeId },
    /// Zero or several trigger nodes.
    #[error("Cannot save a workflow containing no or more than one trigger")]
    TriggerCount { found: usize },
    /// An output with several connections on a module that allows one.
    #[error("Cannot save a workflow having more than one connection per output")]
    MultipleOutputConnection { node: NodeId, port: String },
    /// An edge to or from a node that does not exist.
    #[error("Cannot save a workflow having a connection to a missing node")]
    MissingNode { from: NodeId, to: NodeId },
    /// An edge on a port the node does not have, or listed on one side only.
    #[error("Cannot save a workflow having a dangling connection")]
    DanglingPort { node: NodeId, port: String },
}

/// Severity of a node notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Red.
    Error,
    /// Orange.
    Warning,
}

/// A notification shown on a node in the editor (does not refuse the save).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNotice {
    /// The node.
    pub node: NodeId,
    /// Red or orange.
    pub severity: Severity,
    /// MISP's text.
    pub text: String,
}

/// The result of validating a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Save-refusing errors, MISP's messages as `Display`.
    pub errors: Vec<ValidationError>,
    /// Node notifications (disabled / unknown modules, blocking and format warnings).
    pub notices: Vec<NodeNotice>,
    /// Back edges `(from, to)`.
    pub cycles: Vec<(NodeId, NodeId)>,
    /// Outputs with too many connections: from → targets.
    pub multiple_output: BTreeMap<NodeId, Vec<NodeId>>,
    /// Blocking nodes below a concurrent task: (from, to, module id).
    pub path_warnings: Vec<(NodeId, NodeId, String)>,
}

impl Validation {
    /// True when the graph may be saved and run.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The `POST /workflows/checkGraph` answer (spec §10).
    pub fn check_graph(&self) -> Value {
        let edges: serde_json::Map<String, Value> = self
            .multiple_output
            .iter()
            .map(|(from, to)| {
                (
                    from.to_string(),
                    json!(to.iter().map(|n| n.0).collect::<Vec<_>>()),
                )
            })
            .collect();
        json!({
            "is_acyclic": {
                "is_acyclic": self.cycles.is_empty(),
                "cycles": self.cycles.iter().map(|(f, t)| json!([f.0, t.0, "Cycle"])).collect::<Vec<_>>(),
            },
            "multiple_output_connection": {
                "has_multiple_output_connection": !self.multiple_output.is_empty(),
                "edges": edges,
            },
            "path_warnings": {
                "has_path_warnings": !self.path_warnings.is_empty(),
                "edges": self.path_warnings.iter()
                    .map(|(f, t, m)| json!([f.0, t.0, NON_BLOCKING_CONTEXT, "blocking", m, t.0]))
                    .collect::<Vec<_>>(),
            },
        })
    }

    /// The save errors' messages, each once, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for e in &self.errors {
            let m = e.to_string();
            if !seen.contains(&m) {
                seen.push(m);
            }
        }
        seen
    }

    /// The save errors joined the way MISP joins validation errors.
    pub fn message(&self) -> String {
        self.messages().join(", ")
    }
}

fn config_of<'a>(registry: &'a Registry, module_id: &str) -> Option<&'a ModuleConfig> {
    registry.get(module_id).map(|m| m.config())
}

/// Validates `graph` against the registry and the module enable state.
pub fn validate(graph: &Graph, registry: &Registry, switches: &dyn ModuleSwitches) -> Validation {
    let mut v = Validation {
        errors: Vec::new(),
        notices: Vec::new(),
        cycles: Vec::new(),
        multiple_output: BTreeMap::new(),
        path_warnings: Vec::new(),
    };
    let ids: HashSet<NodeId> = graph.nodes.iter().map(|n| n.id).collect();
    let mut adjacency: HashMap<NodeId, Vec<NodeId>> = HashMap::new();

    for e in &graph.edges {
        if !ids.contains(&e.source) || !ids.contains(&e.target) {
            v.errors.push(ValidationError::MissingNode {
                from: e.source,
                to: e.target,
            });
            continue;
        }
        let src_ok = graph
            .node(e.source)
            .is_some_and(|n| n.outputs.ports.iter().any(|p| p.name == e.source_port));
        let dst_ok = graph
            .node(e.target)
            .is_some_and(|n| n.inputs.ports.iter().any(|p| p.name == e.target_port));
        if !src_ok || !e.listed_by_source() {
            v.errors.push(ValidationError::DanglingPort {
                node: e.source,
                port: e.source_port.clone(),
            });
        } else if !dst_ok || !e.listed_by_target() {
            v.errors.push(ValidationError::DanglingPort {
                node: e.target,
                port: e.target_port.clone(),
            });
        }
        adjacency.entry(e.source).or_default().push(e.target);
    }

    // Cycles: iterative DFS, a back edge is an edge to a node on the current stack.
    let mut state: HashMap<NodeId, u8> = HashMap::new();
    for start in graph.nodes.iter().map(|n| n.id) {
        if state.contains_key(&start) {
            continue;
        }
        let mut stack: Vec<(NodeId, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some((node, i)) = stack.pop() {
            let next = adjacency.get(&node).and_then(|a| a.get(i)).copied();
            match next {
                Some(child) => {
                    stack.push((node, i + 1));
                    match state.get(&child) {
                        Some(1) => v.cycles.push((node, child)),
                        Some(_) => {}
                        None => {
                            state.insert(child, 1);
                            stack.push((child, 0));
                        }
                    }
                }
                None => {
                    state.insert(node, 2);
                }
            }
        }
    }
    for (from, to) in &v.cycles {
        v.errors.push(ValidationError::Cycle {
            from: *from,
            to: *to,
        });
    }

    let triggers: Vec<_> = graph.triggers().collect();
    if triggers.len() != 1 {
        v.errors.push(ValidationError::TriggerCount {
            found: triggers.len(),
        });
    }
    let trigger_cfg = triggers
        .first()
        .and_then(|t| config_of(registry, &t.module_id));
    let trigger_blocking = triggers.first().map(|t| {
        trigger_cfg.map_or_else(|| t.data_flag("blocking").unwrap_or(false), |c| c.blocking)
    });
    let trigger_core = triggers.first().map(|t| {
        trigger_cfg
            .and_then(|c| c.trigger.as_ref().map(|i| i.misp_core_format))
            .or_else(|| t.data_flag("misp_core_format"))
            .unwrap_or(false)
    });

    for node in &graph.nodes {
        let cfg = config_of(registry, &node.module_id);
        let allows_many = cfg.is_some_and(|c| c.multiple_output_connection)
            || (cfg.is_none()
                && node
                    .data_flag("multiple_output_connection")
                    .unwrap_or(false));
        for port in &node.outputs.ports {
            let targets: Vec<NodeId> = graph
                .edges_from(node.id, &port.name)
                .map(|e| e.target)
                .collect();
            if targets.len() > 1 && !allows_many {
                v.errors.push(ValidationError::MultipleOutputConnection {
                    node: node.id,
                    port: port.name.clone(),
                });
                v.multiple_output
                    .entry(node.id)
                    .or_default()
                    .extend(targets);
            }
        }
        let Some(cfg) = cfg else {
            v.notices.push(NodeNotice {
                node: node.id,
                severity: Severity::Error,
                text: format!("Unknown module `{}`", node.module_id),
            });
            continue;
        };
        if node.is_trigger() {
            continue;
        }
        if !switches.is_enabled(&cfg.id) {
            v.notices.push(NodeNotice {
                node: node.id,
                severity: Severity::Error,
                text: "Module disabled".into(),
            });
        }
        if cfg.blocking && trigger_blocking == Some(false) {
            v.notices.push(NodeNotice {
                node: node.id,
                severity: Severity::Warning,
                text: "Blocking module might not work as intended".into(),
            });
        }
        if cfg.expect_misp_core_format && trigger_core == Some(false) {
            v.notices.push(NodeNotice {
                node: node.id,
                severity: Severity::Warning,
                text: "Potential data format issue".into(),
            });
        }
    }

    // Blocking modules reachable below a concurrent task.
    for ct in graph.nodes.iter().filter(|n| {
        config_of(registry, &n.module_id).is_some_and(|c| c.routing == Routing::Concurrent)
    }) {
        let mut seen = HashSet::new();
        let mut stack: Vec<(NodeId, NodeId)> = adjacency
            .get(&ct.id)
            .into_iter()
            .flatten()
            .map(|t| (ct.id, *t))
            .collect();
        while let Some((from, to)) = stack.pop() {
            if !seen.insert((from, to)) {
                continue;
            }
            if let Some(n) = graph.node(to) {
                let blocking = config_of(registry, &n.module_id)
                    .map_or_else(|| n.data_flag("blocking").unwrap_or(false), |c| c.blocking);
                if blocking {
                    v.path_warnings.push((from, to, n.module_id.clone()));
                }
            }
            stack.extend(adjacency.get(&to).into_iter().flatten().map(|t| (to, *t)));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{blueprint_files, fixture};
    use crate::graph::Node;
    use crate::services::AllEnabled;

    fn node(id: u64, module: &str, registry: &Registry) -> Node {
        let mut n = Node::new(NodeId(id), module);
        if let Some(c) = registry.get(module).map(|m| m.config()) {
            n.module_type = Some(c.kind.as_str().into());
            for i in 1..=c.inputs {
                n.inputs.ports.push(crate::graph::Port {
                    name: format!("input_{i}"),
                    extra: Default::default(),
                });
            }
            for o in 1..=c.outputs {
                n.outputs.ports.push(crate::graph::Port {
                    name: format!("output_{o}"),
                    extra: Default::default(),
                });
            }
        }
        n
    }

    fn graph(nodes: &[(u64, &str)], edges: &[(u64, &str, u64)]) -> Graph {
        let r = Registry::builtin();
        let mut g = Graph::default();
        for (id, m) in nodes {
            g.add_node(node(*id, m, &r)).expect("unique");
        }
        for (s, p, t) in edges {
            g.connect(NodeId(*s), p, NodeId(*t), "input_1");
        }
        g
    }

    #[test]
    fn s10_cycle_is_refused_with_misp_message() {
        let g = graph(
            &[(1, "event-publish"), (2, "generic-if"), (3, "published-if")],
            &[(1, "output_1", 2), (2, "output_1", 3), (3, "output_1", 2)],
        );
        let v = validate(&g, &Registry::builtin(), &AllEnabled);
        assert!(!v.is_valid());
        assert_eq!(v.message(), "Cannot save a workflow containing a cycle");
        assert_eq!(
            v.check_graph()["is_acyclic"],
            json!({"is_acyclic": false, "cycles": [[3, 2, "Cycle"]]})
        );
    }

    #[test]
    fn s10_exactly_one_trigger() {
        let r = Registry::builtin();
        let none = graph(&[(2, "generic-if")], &[]);
        let v = validate(&none, &r, &AllEnabled);
        assert_eq!(v.errors, vec![ValidationError::TriggerCount { found: 0 }]);
        assert_eq!(
            v.message(),
            "Cannot save a workflow containing no or more than one trigger"
        );
        let two = graph(&[(1, "event-publish"), (2, "event-after-save")], &[]);
        assert_eq!(
            validate(&two, &r, &AllEnabled).errors,
            vec![ValidationError::TriggerCount { found: 2 }]
        );
    }

    #[test]
    fn s10_one_connection_per_output_unless_allowed() {
        let r = Registry::builtin();
        let g = graph(
            &[
                (1, "event-publish"),
                (2, "published-if"),
                (3, "stop-execution"),
                (4, "stop-execution"),
            ],
            &[(1, "output_1", 2), (2, "output_1", 3), (2, "output_1", 4)],
        );
        let v = validate(&g, &r, &AllEnabled);
        assert_eq!(
            v.message(),
            "Cannot save a workflow having more than one connection per output"
        );
        assert_eq!(
            v.check_graph()["multiple_output_connection"],
            json!({"has_multiple_output_connection": true, "edges": {"2": [3, 4]}})
        );
        let ok = graph(
            &[
                (1, "event-after-save"),
                (2, "concurrent-task"),
                (3, "published-if"),
                (4, "published-if"),
            ],
            &[(1, "output_1", 2), (2, "output_1", 3), (2, "output_1", 4)],
        );
        assert!(validate(&ok, &r, &AllEnabled).is_valid());
    }

    #[test]
    fn s10_dangling_ports_and_missing_nodes() {
        let r = Registry::builtin();
        let mut g = graph(
            &[(1, "event-publish"), (2, "published-if")],
            &[(1, "output_1", 2)],
        );
        g.edges.push(crate::graph::Edge::new(
            NodeId(2),
            "output_1",
            NodeId(9),
            "input_1",
        ));
        g.edges.push(crate::graph::Edge::new(
            NodeId(2),
            "output_7",
            NodeId(1),
            "input_1",
        ));
        let v = validate(&g, &r, &AllEnabled);
        assert!(v.errors.contains(&ValidationError::MissingNode {
            from: NodeId(2),
            to: NodeId(9)
        }));
        assert!(v.errors.contains(&ValidationError::DanglingPort {
            node: NodeId(2),
            port: "output_7".into()
        }));
    }

    #[test]
    fn s10_path_warning_blocking_below_concurrent_task() {
        let r = Registry::builtin();
        let g = graph(
            &[
                (1, "event-publish"),
                (2, "concurrent-task"),
                (3, "published-if"),
                (4, "stop-execution"),
            ],
            &[(1, "output_1", 2), (2, "output_1", 3), (3, "output_1", 4)],
        );
        let v = validate(&g, &r, &AllEnabled);
        assert!(v.is_valid());
        assert_eq!(
            v.check_graph()["path_warnings"],
            json!({"has_path_warnings": true, "edges": [[3, 4, NON_BLOCKING_CONTEXT, "blocking", "stop-execution", 4]]})
        );
    }

    #[test]
    fn s10_node_notifications() {
        struct NoStop;
        impl ModuleSwitches for NoStop {
            fn is_enabled(&self, id: &str) -> bool {
                id != "stop-execution"
            }
        }
        let r = Registry::builtin();
        let g = graph(
            &[
                (1, "log-after-save"),
                (2, "tag-if"),
                (3, "stop-execution"),
                (4, "webhook"),
            ],
            &[(1, "output_1", 2), (2, "output_1", 3)],
        );
        let v = validate(&g, &r, &NoStop);
        assert!(v.is_valid(), "notifications do not refuse a save");
        let texts: Vec<(u64, &str)> = v
            .notices
            .iter()
            .map(|n| (n.node.0, n.text.as_str()))
            .collect();
        assert!(texts.contains(&(2, "Potential data format issue")));
        assert!(texts.contains(&(3, "Module disabled")));
        assert!(texts.contains(&(3, "Blocking module might not work as intended")));
        assert!(texts.contains(&(4, "Unknown module `webhook`")));
    }

    #[test]
    fn s10_every_official_blueprint_validates() {
        let r = Registry::builtin();
        for f in blueprint_files() {
            let bp = fixture(&format!("blueprints/{f}"));
            let bpg = Graph::from_node_list(&bp["WorkflowBlueprint"]["data"]).expect("blueprint");
            let mut g = Graph::from_value(&fixture(
                "workflows/workflow-data_event-publish_trigger-only.json",
            ))
            .expect("wf");
            g.insert_blueprint(&bpg);
            let v = validate(&g, &r, &AllEnabled);
            assert!(v.is_valid(), "{f}: {:?}", v.errors);
        }
    }

    #[test]
    fn s10_workflow_fixtures_validate() {
        let r = Registry::builtin();
        let g = Graph::from_value(&fixture(
            "workflows/workflow-data_attribute-after-save_with-frames.json",
        ))
        .expect("wf");
        let v = validate(&g, &r, &AllEnabled);
        assert!(v.is_valid(), "{:?}", v.errors);
        // Modules the engine does not ship stay as error nodes with their params.
        assert!(v
            .notices
            .iter()
            .any(|n| n.node == NodeId(4) && n.text == "Unknown module `enrich-event`"));
        assert!(g.node(NodeId(4)).and_then(|n| n.param("modules")).is_some());
    }
}
