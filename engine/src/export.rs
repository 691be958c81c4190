//! Text renderings of a workflow graph (spec §9): Mermaid (`?format=mermaid`, and the `mermaid`
//! field of blueprints) and Graphviz DOT (`?format=dot`).
//!
//! Shapes follow MISP: trigger = hexagon (Mermaid `{{…}}`, DOT `diamond`), logic = parallelogram
//! (`[/…/]`, `parallelogram`), action = box (`[…]`, `box`). Labels are the module's icon and
//! name as in MISP's blueprints (`fas:fa-code-branch  IF :: Tag`). MISP's own Mermaid text is
//! not reproducible (it sometimes omits edges), so this one simply lists every edge in order,
//! then any node without edges.
use std::fmt::Write;

use crate::graph::{Graph, Node};
use crate::module::ModuleKind;
use crate::registry::Registry;

fn kind_of(node: &Node, registry: &Registry) -> ModuleKind {
    if let Some(module) = registry.get(&node.module_id) {
        return module.config().kind;
    }
    match node.module_type.as_deref() {
        Some("trigger") => ModuleKind::Trigger,
        Some("logic") => ModuleKind::Logic,
        _ => ModuleKind::Action,
    }
}

fn label(node: &Node, registry: &Registry) -> String {
    let config = registry.get(&node.module_id).map(|m| m.config());
    let name = node
        .name
        .clone()
        .or_else(|| node.module_name.clone())
        .or_else(|| config.map(|c| c.name.clone()))
        .unwrap_or_else(|| node.module_id.clone());
    let icon = config.map(|c| c.icon.as_str()).filter(|i| !i.is_empty());
    let text = match icon {
        Some(icon) => format!("fas:fa-{icon}  {name}"),
        None => name,
    };
    // Quotes would end the label early in both formats.
    text.replace('"', "'")
}

fn mermaid_node(node: &Node, registry: &Registry) -> String {
    let text = label(node, registry);
    match kind_of(node, registry) {
        ModuleKind::Trigger => format!("{}{{{{\"{text}\"}}}}", node.id),
        ModuleKind::Logic => format!("{}[/\"{text}\"/]", node.id),
        ModuleKind::Action => format!("{}[\"{text}\"]", node.id),
    }
}

/// `flowchart LR` with one line per edge, then one per unconnected node.
pub fn to_mermaid(graph: &Graph, registry: &Registry) -> String {
    let mut out = String::from("flowchart LR\n");
    let find = |id| graph.nodes.iter().find(|n| n.id == id);
    for edge in &graph.edges {
        if let (Some(from), Some(to)) = (find(edge.source), find(edge.target)) {
            let _ = writeln!(
                out,
                "    {} --> {}",
                mermaid_node(from, registry),
                mermaid_node(to, registry)
            );
        }
    }
    for node in &graph.nodes {
        if !graph
            .edges
            .iter()
            .any(|e| e.source == node.id || e.target == node.id)
        {
            let _ = writeln!(out, "    {}", mermaid_node(node, registry));
        }
    }
    out
}

/// A `digraph` with one statement per node (shape by kind) and per edge (labelled with the
/// output port when the node has several).
pub fn to_dot(graph: &Graph, registry: &Registry) -> String {
    let mut out = String::from("digraph workflow {\n    rankdir=LR;\n");
    for node in &graph.nodes {
        let shape = match kind_of(node, registry) {
            ModuleKind::Trigger => "diamond",
            ModuleKind::Logic => "parallelogram",
            ModuleKind::Action => "box",
        };
        let _ = writeln!(
            out,
            "    {} [label=\"{}\", shape={shape}];",
            node.id,
            label(node, registry)
        );
    }
    for edge in &graph.edges {
        let outputs = graph
            .nodes
            .iter()
            .find(|n| n.id == edge.source)
            .map_or(0, |n| n.outputs.ports.len());
        if outputs > 1 {
            let _ = writeln!(
                out,
                "    {} -> {} [label=\"{}\"];",
                edge.source, edge.target, edge.source_port
            );
        } else {
            let _ = writeln!(out, "    {} -> {};", edge.source, edge.target);
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blueprint(name: &str) -> Graph {
        let path = format!(
            "{}/tests/fixtures/blueprints/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        Graph::from_node_list(&value["WorkflowBlueprint"]["data"]).expect("graph")
    }

    /// §9: Mermaid lines use MISP's shapes and labels; the PAP/TLP blueprint's single edge
    /// renders exactly as MISP stored it.
    #[test]
    fn s9_mermaid_matches_misp_for_a_simple_blueprint() {
        let graph = blueprint("blueprint_pap_red-and-tlp_red-blocking_1661328258.json");
        let text = to_mermaid(&graph, &Registry::builtin());
        assert_eq!(
            text,
            "flowchart LR\n    53[/\"fas:fa-code-branch  IF :: Tag\"/] --> 54[\"fas:fa-ban  Stop execution\"]\n"
        );
    }

    /// §9: DOT output names every node with its shape and every edge.
    #[test]
    fn s9_dot_lists_nodes_and_edges() {
        let graph = blueprint("blueprint_pap_red-and-tlp_red-blocking_1661328258.json");
        let text = to_dot(&graph, &Registry::builtin());
        assert!(text.starts_with("digraph workflow {"));
        assert!(text.contains("53 [label=\"fas:fa-code-branch  IF :: Tag\", shape=parallelogram];"));
        assert!(text.contains("54 [label=\"fas:fa-ban  Stop execution\", shape=box];"));
        assert!(text.contains("53 -> 54 [label=\"output_1\"];"));
        assert!(text.trim_end().ends_with('}'));
    }
}
