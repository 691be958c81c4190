//! The graph the editor edits, read from and written back to MISP's Drawflow data (spec §9),
//! with the editing operations (add, connect, move, delete, duplicate, paste, params) and the
//! geometry the canvas draws with. Pure data: unit-tested here, driven by `pages::editor`.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::modules::ModuleInfo;

/// Node width on the canvas, in canvas units.
pub const NODE_W: f64 = 210.0;
/// Height of a node's title bar; ports start below it.
pub const HEADER_H: f64 = 40.0;
/// Distance between two ports.
pub const PORT_GAP: f64 = 24.0;

/// A node's height on the canvas: its title bar and one row per port.
pub fn node_height(inputs: usize, outputs: usize) -> f64 {
    HEADER_H + inputs.max(outputs).max(1) as f64 * PORT_GAP + 6.0
}

/// A node of the workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: u64,
    pub name: String,
    pub class: String,
    pub x: f64,
    pub y: f64,
    /// The node's `data` (module id, type, `indexed_params`, `saved_filters`, trigger config…).
    pub data: Map<String, Value>,
    pub inputs: usize,
    pub outputs: usize,
    /// Other top-level keys of the stored node, written back as they were.
    pub extra: Map<String, Value>,
}

/// A connection from `output_<output>` of `from` to `input_<input>` of `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    pub from: u64,
    pub output: usize,
    pub to: u64,
    pub input: usize,
}

/// The editable graph.
#[derive(Clone, Debug, PartialEq)]
pub struct EditorGraph {
    pub nodes: BTreeMap<u64, Node>,
    pub edges: Vec<Edge>,
    /// `_frames`, kept as stored.
    pub frames: Option<Value>,
    /// Other `_…` keys of the stored graph, written back as they were.
    pub extra: Map<String, Value>,
    /// The next node id: ids only grow while editing, so a deleted node's id (which frames or
    /// the last run may still name) is never given to a new one.
    pub next: u64,
}

impl Default for EditorGraph {
    fn default() -> Self {
        EditorGraph {
            nodes: BTreeMap::new(),
            edges: Vec::new(),
            frames: None,
            extra: Map::new(),
            next: 1,
        }
    }
}

/// The keys of a stored node this model reads; any other is kept in [`Node::extra`].
const NODE_KEYS: [&str; 9] = [
    "id", "name", "class", "typenode", "data", "inputs", "outputs", "pos_x", "pos_y",
];

fn port_number(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?.parse().ok().filter(|n| *n > 0)
}

fn node_number(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn highest_port(ports: &Value, prefix: &str) -> usize {
    ports
        .as_object()
        .map(|m| {
            m.keys()
                .filter_map(|k| port_number(k, prefix))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

impl Node {
    pub fn module_id(&self) -> &str {
        self.data.get("id").and_then(Value::as_str).unwrap_or("")
    }

    pub fn module_type(&self) -> &str {
        self.data
            .get("module_type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn is_trigger(&self) -> bool {
        self.module_type() == "trigger" || self.class.split(' ').any(|c| c == "block-type-trigger")
    }

    /// The node's params (`indexed_params`; `[]` when empty in stored graphs).
    pub fn params(&self) -> Map<String, Value> {
        self.data
            .get("indexed_params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// The filtering conditions as `{selector, value, operator, path}` whichever way they were
    /// stored (object, or MISP's list of `{text, value}`).
    pub fn filters(&self) -> Map<String, Value> {
        match self.data.get("saved_filters") {
            Some(Value::Object(m)) => m.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| {
                    Some((
                        i.get("text")?.as_str()?.to_owned(),
                        i.get("value").cloned().unwrap_or(json!("")),
                    ))
                })
                .collect(),
            _ => Map::new(),
        }
    }

    pub fn height(&self) -> f64 {
        node_height(self.inputs, self.outputs)
    }

    /// Canvas position of input port `n` (1-based).
    pub fn input_at(&self, n: usize) -> (f64, f64) {
        (self.x, self.y + HEADER_H + (n as f64 - 0.5) * PORT_GAP)
    }

    /// Canvas position of output port `n` (1-based).
    pub fn output_at(&self, n: usize) -> (f64, f64) {
        (
            self.x + NODE_W,
            self.y + HEADER_H + (n as f64 - 0.5) * PORT_GAP,
        )
    }

    fn to_drawflow(&self, edges: &[Edge]) -> Value {
        let mut data = self.data.clone();
        // What MISP's editor strips on save.
        data.retain(|k, _| {
            !k.starts_with('_') && k != "params" && k != "html" && k != "module_data"
        });
        let side = |count: usize, prefix: &str, conns: &dyn Fn(usize) -> Vec<Value>| -> Value {
            if count == 0 {
                return json!([]);
            }
            Value::Object(
                (1..=count)
                    .map(|n| (format!("{prefix}{n}"), json!({"connections": conns(n)})))
                    .collect(),
            )
        };
        let inputs = side(self.inputs, "input_", &|n| {
            edges
                .iter()
                .filter(|e| e.to == self.id && e.input == n)
                .map(|e| json!({"node": e.from.to_string(), "input": format!("output_{}", e.output)}))
                .collect()
        });
        let outputs = side(self.outputs, "output_", &|n| {
            edges
                .iter()
                .filter(|e| e.from == self.id && e.output == n)
                .map(|e| json!({"node": e.to.to_string(), "output": format!("input_{}", e.input)}))
                .collect()
        });
        let mut node = json!({
            "id": self.id,
            "name": self.name,
            "class": self.class,
            "typenode": false,
            "data": data,
            "inputs": inputs,
            "outputs": outputs,
            "pos_x": number(self.x),
            "pos_y": number(self.y),
        });
        if let Value::Object(m) = &mut node {
            for (k, v) in &self.extra {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        node
    }
}

/// Whole positions are written as integers, as MISP's editor stores them.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// Reads one Drawflow node; its edges are added to `edges` (both directions are stored, either
/// one is enough).
fn read_node(key: Option<u64>, v: &Value, edges: &mut BTreeSet<Edge>) -> Result<Node, String> {
    let id = key
        .or_else(|| node_number(&v["id"]))
        .ok_or_else(|| "a node has no numeric id".to_owned())?;
    let data = match &v["data"] {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let name = v["name"]
        .as_str()
        .or_else(|| data.get("name").and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    for (port, conns) in v["outputs"].as_object().into_iter().flatten() {
        let Some(output) = port_number(port, "output_") else {
            continue;
        };
        for c in conns["connections"].as_array().into_iter().flatten() {
            let (Some(to), Some(input)) = (
                node_number(&c["node"]),
                c["output"].as_str().and_then(|p| port_number(p, "input_")),
            ) else {
                continue;
            };
            edges.insert(Edge {
                from: id,
                output,
                to,
                input,
            });
        }
    }
    for (port, conns) in v["inputs"].as_object().into_iter().flatten() {
        let Some(input) = port_number(port, "input_") else {
            continue;
        };
        for c in conns["connections"].as_array().into_iter().flatten() {
            let (Some(from), Some(output)) = (
                node_number(&c["node"]),
                c["input"].as_str().and_then(|p| port_number(p, "output_")),
            ) else {
                continue;
            };
            edges.insert(Edge {
                from,
                output,
                to: id,
                input,
            });
        }
    }
    Ok(Node {
        id,
        name,
        class: v["class"].as_str().unwrap_or("").to_owned(),
        x: v["pos_x"].as_f64().unwrap_or(0.0),
        y: v["pos_y"].as_f64().unwrap_or(0.0),
        inputs: highest_port(&v["inputs"], "input_"),
        outputs: highest_port(&v["outputs"], "output_"),
        data,
        extra: v
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !NODE_KEYS.contains(&k.as_str()) && k.as_str() != "html")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

impl EditorGraph {
    /// Reads a workflow's `data` (object keyed by node id, optional `_frames`).
    pub fn from_drawflow(v: &Value) -> Result<Self, String> {
        let obj = match v {
            Value::Object(m) => m,
            Value::Array(a) if a.is_empty() => return Ok(Self::default()),
            _ => return Err("The workflow data is not an object of nodes.".into()),
        };
        let mut graph = EditorGraph::default();
        let mut edges = BTreeSet::new();
        for (key, node) in obj {
            if key == "_frames" {
                graph.frames = Some(node.clone());
                continue;
            }
            if key.starts_with('_') {
                graph.extra.insert(key.clone(), node.clone());
                continue;
            }
            let key = key
                .parse()
                .map_err(|_| format!("Node key `{key}` is not a number."))?;
            let n = read_node(Some(key), node, &mut edges)?;
            graph.nodes.insert(n.id, n);
        }
        graph.edges = edges.into_iter().filter(|e| graph.port_exists(e)).collect();
        graph.next = graph.nodes.keys().next_back().map_or(1, |k| k + 1);
        Ok(graph)
    }

    /// The Drawflow data to save.
    pub fn to_drawflow(&self) -> Value {
        let mut m: Map<String, Value> = self
            .nodes
            .values()
            .map(|n| (n.id.to_string(), n.to_drawflow(&self.edges)))
            .collect();
        if let Some(f) = &self.frames {
            m.insert("_frames".into(), f.clone());
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    fn port_exists(&self, e: &Edge) -> bool {
        self.nodes
            .get(&e.from)
            .is_some_and(|n| e.output <= n.outputs)
            && self.nodes.get(&e.to).is_some_and(|n| e.input <= n.inputs)
    }

    /// The id the next node gets (and reserves it).
    fn take_id(&mut self) -> u64 {
        let id = self
            .next
            .max(self.nodes.keys().next_back().map_or(1, |k| k + 1));
        self.next = id + 1;
        id
    }

    /// Adds a node for `module` at (`x`, `y`), its params at their defaults.
    pub fn add_node(&mut self, module: &ModuleInfo, x: f64, y: f64) -> u64 {
        let id = self.take_id();
        let mut data = module.config.as_object().cloned().unwrap_or_default();
        data.remove("params");
        let defaults: Map<String, Value> = module
            .params
            .iter()
            .filter(|p| !p.default.is_null())
            .map(|p| (p.id.clone(), p.default.clone()))
            .collect();
        data.insert("indexed_params".into(), Value::Object(defaults));
        data.insert(
            "saved_filters".into(),
            json!({"selector": "", "value": "", "operator": "", "path": ""}),
        );
        data.insert("node_uid".into(), json!(format!("{}-{id}", module.id)));
        data.insert(
            "module_version".into(),
            module.config.get("version").cloned().unwrap_or(json!("")),
        );
        self.nodes.insert(
            id,
            Node {
                id,
                name: module.name.clone(),
                class: module.node_class(),
                x,
                y,
                data,
                inputs: module.inputs,
                outputs: module.outputs,
                extra: Map::new(),
            },
        );
        id
    }

    /// Connects two ports. Cycles and several connections per output are allowed while
    /// drawing (validation shows them in red and refuses the save), as in MISP.
    pub fn connect(&mut self, edge: Edge) -> Result<(), String> {
        if edge.from == edge.to {
            return Err("A node cannot be connected to itself.".into());
        }
        if !self.port_exists(&edge) || edge.output == 0 || edge.input == 0 {
            return Err("There is no such port.".into());
        }
        if self.edges.contains(&edge) {
            return Err("These ports are already connected.".into());
        }
        self.edges.push(edge);
        Ok(())
    }

    pub fn disconnect(&mut self, edge: &Edge) -> bool {
        let before = self.edges.len();
        self.edges.retain(|e| e != edge);
        before != self.edges.len()
    }

    /// Removes the nodes and their edges, except trigger nodes (a workflow keeps its trigger).
    /// Returns how many were removed.
    pub fn remove(&mut self, ids: &BTreeSet<u64>) -> usize {
        let gone: BTreeSet<u64> = ids
            .iter()
            .copied()
            .filter(|id| self.nodes.get(id).is_some_and(|n| !n.is_trigger()))
            .collect();
        self.nodes.retain(|id, _| !gone.contains(id));
        self.edges
            .retain(|e| !gone.contains(&e.from) && !gone.contains(&e.to));
        // Frames forget removed nodes; an empty frame goes.
        if let Some(Value::Object(frames)) = &mut self.frames {
            for frame in frames.values_mut() {
                if let Some(Value::Array(members)) = frame.get_mut("nodes") {
                    members.retain(|m| node_number(m).is_none_or(|id| !gone.contains(&id)));
                }
            }
            frames.retain(|_, f| f["nodes"].as_array().is_none_or(|m| !m.is_empty()));
        }
        gone.len()
    }

    pub fn move_by(&mut self, ids: &BTreeSet<u64>, dx: f64, dy: f64) {
        for id in ids {
            if let Some(n) = self.nodes.get_mut(id) {
                n.x = (n.x + dx).round();
                n.y = (n.y + dy).round();
            }
        }
    }

    /// The nodes `ids` as a blueprint's `data` (a list of Drawflow nodes, only the edges
    /// between them kept).
    pub fn fragment(&self, ids: &BTreeSet<u64>) -> Vec<Value> {
        let inner: Vec<Edge> = self
            .edges
            .iter()
            .copied()
            .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
            .collect();
        ids.iter()
            .filter_map(|id| self.nodes.get(id))
            .map(|n| n.to_drawflow(&inner))
            .collect()
    }

    /// Inserts a blueprint's (or the clipboard's) nodes with new ids, their top-left corner at
    /// (`x`, `y`): trigger nodes are skipped, edges between inserted nodes kept. Returns the new
    /// ids.
    pub fn insert(&mut self, nodes: &[Value], x: f64, y: f64) -> Result<Vec<u64>, String> {
        let mut edges = BTreeSet::new();
        let mut read = Vec::new();
        for v in nodes {
            let n = read_node(None, v, &mut edges)?;
            if !n.is_trigger() {
                read.push(n);
            }
        }
        let min_x = read.iter().map(|n| n.x).fold(f64::INFINITY, f64::min);
        let min_y = read.iter().map(|n| n.y).fold(f64::INFINITY, f64::min);
        let mut renumber = HashMap::new();
        let mut added = Vec::new();
        for mut n in read {
            let next = self.take_id();
            renumber.insert(n.id, next);
            n.id = next;
            // A copy is a new node: its uid says so.
            if let Some(module) = n.data.get("id").and_then(Value::as_str).map(str::to_owned) {
                n.data
                    .insert("node_uid".into(), json!(format!("{module}-{next}")));
            }
            n.x = (n.x - min_x + x).round();
            n.y = (n.y - min_y + y).round();
            self.nodes.insert(next, n);
            added.push(next);
        }
        for e in edges {
            if let (Some(&from), Some(&to)) = (renumber.get(&e.from), renumber.get(&e.to)) {
                let e = Edge { from, to, ..e };
                if self.port_exists(&e) && !self.edges.contains(&e) {
                    self.edges.push(e);
                }
            }
        }
        Ok(added)
    }

    /// Copies of the nodes `ids` (with the edges between them), offset a little.
    pub fn duplicate(&mut self, ids: &BTreeSet<u64>) -> Vec<u64> {
        let frag = self.fragment(ids);
        let (x, y, ..) = self.bounds_of(ids).unwrap_or((0.0, 0.0, 0.0, 0.0));
        self.insert(&frag, x + 40.0, y + 40.0).unwrap_or_default()
    }

    /// Sets one param of a node (`indexed_params[key]`).
    pub fn set_param(&mut self, id: u64, key: &str, value: Value) {
        if let Some(n) = self.nodes.get_mut(&id) {
            let mut params = n.params();
            params.insert(key.to_owned(), value);
            n.data
                .insert("indexed_params".into(), Value::Object(params));
        }
    }

    /// Sets one filtering condition of a node, stored as an object.
    pub fn set_filter(&mut self, id: u64, key: &str, value: String) {
        if let Some(n) = self.nodes.get_mut(&id) {
            let mut f = n.filters();
            f.insert(key.to_owned(), Value::String(value));
            n.data.insert("saved_filters".into(), Value::Object(f));
        }
    }

    /// Bounding box (min x, min y, max x, max y) of some nodes.
    pub fn bounds_of(&self, ids: &BTreeSet<u64>) -> Option<(f64, f64, f64, f64)> {
        ids.iter()
            .filter_map(|id| self.nodes.get(id))
            .fold(None, |acc, n| {
                let b = (n.x, n.y, n.x + NODE_W, n.y + n.height());
                Some(match acc {
                    None => b,
                    Some((a, b0, c, d)) => (a.min(b.0), b0.min(b.1), c.max(b.2), d.max(b.3)),
                })
            })
    }

    /// Bounding box of the whole graph.
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        self.bounds_of(&self.nodes.keys().copied().collect())
    }

    /// Nodes whose box intersects the rectangle (box selection).
    pub fn nodes_in(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> BTreeSet<u64> {
        let (ax, bx) = (x0.min(x1), x0.max(x1));
        let (ay, by) = (y0.min(y1), y0.max(y1));
        self.nodes
            .values()
            .filter(|n| n.x < bx && n.x + NODE_W > ax && n.y < by && n.y + n.height() > ay)
            .map(|n| n.id)
            .collect()
    }

    /// Places the nodes in columns by their longest distance from a node without inputs
    /// (the trigger first), each column ordered as before from top to bottom.
    pub fn auto_layout(&mut self) {
        let mut depth: BTreeMap<u64, usize> = self.nodes.keys().map(|k| (*k, 0)).collect();
        // Longest path by relaxation; bounded by the node count so cycles cannot loop forever.
        for _ in 0..self.nodes.len() {
            let mut changed = false;
            for e in &self.edges {
                let d = depth[&e.from] + 1;
                if d > depth[&e.to] && d < self.nodes.len() {
                    depth.insert(e.to, d);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut columns: BTreeMap<usize, Vec<(f64, u64)>> = BTreeMap::new();
        for (id, d) in &depth {
            columns.entry(*d).or_default().push((self.nodes[id].y, *id));
        }
        for (d, mut col) in columns {
            col.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut y = 0.0;
            for (_, id) in col {
                let n = self.nodes.get_mut(&id).expect("node of the column");
                n.x = d as f64 * (NODE_W + 90.0);
                n.y = y;
                y += n.height() + 40.0;
            }
        }
    }
}

/// Undo and redo as snapshots of the whole graph (a 200-node graph is some tens of KiB).
#[derive(Clone, Debug, Default)]
pub struct History {
    past: Vec<EditorGraph>,
    future: Vec<EditorGraph>,
}

impl History {
    const LIMIT: usize = 200;

    /// Call with the graph as it was before a change.
    pub fn record(&mut self, before: EditorGraph) {
        if self.past.last() == Some(&before) {
            return;
        }
        self.past.push(before);
        if self.past.len() > Self::LIMIT {
            self.past.remove(0);
        }
        self.future.clear();
    }

    pub fn undo(&mut self, current: &mut EditorGraph) -> bool {
        match self.past.pop() {
            Some(prev) => {
                self.future.push(std::mem::replace(current, prev));
                true
            }
            None => false,
        }
    }

    pub fn redo(&mut self, current: &mut EditorGraph) -> bool {
        match self.future.pop() {
            Some(next) => {
                self.past.push(std::mem::replace(current, next));
                true
            }
            None => false,
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_example() -> Value {
        json!({"1": {"id": 1, "name": "Event Publish", "class": "block-type-trigger", "typenode": false,
           "data": {"id": "event-publish", "name": "Event Publish", "module_type": "trigger", "blocking": true,
                    "misp_core_format": true, "indexed_params": []},
           "inputs": [], "outputs": {"output_1": {"connections": [{"node": "2", "output": "input_1"}]}},
           "pos_x": 0, "pos_y": 0},
         "2": {"id": 2, "name": "IF :: Tag", "class": "block-type-if block-type-logic", "typenode": false,
           "data": {"id": "tag-if", "name": "IF :: Tag", "module_type": "logic",
                    "indexed_params": {"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]},
                    "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
           "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}},
           "outputs": {"output_1": {"connections": [{"node": "3", "output": "input_1"}]},
                       "output_2": {"connections": []}}, "pos_x": 300, "pos_y": 0},
         "3": {"id": 3, "name": "Stop execution", "class": "block-type-default", "typenode": false,
           "data": {"id": "stop-execution", "name": "Stop execution", "module_type": "action",
                    "indexed_params": {"message": "tlp:red data"},
                    "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
           "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_1"}]}},
           "outputs": [], "pos_x": 600, "pos_y": 0}})
    }

    fn stop_module() -> ModuleInfo {
        ModuleInfo::from_config(&json!({
            "id": "stop-execution", "name": "Stop execution", "module_type": "action",
            "inputs": 1, "outputs": 0, "version": "0.2",
            "params": [{"id": "message", "label": "Message", "type": "input", "default": "Execution stopped"}]
        }))
    }

    #[test]
    fn the_spec_example_round_trips() {
        let g = EditorGraph::from_drawflow(&spec_example()).unwrap();
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(g.edges.len(), 2);
        assert_eq!(g.to_drawflow(), spec_example());
    }

    #[test]
    fn every_official_blueprint_inserts_with_its_inner_edges() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../engine/tests/fixtures/blueprints");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("fixtures missing at {}", dir.display());
        };
        let mut seen = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let nodes = file["WorkflowBlueprint"]["data"]
                .as_array()
                .unwrap()
                .clone();
            let mut g = EditorGraph::from_drawflow(&spec_example()).unwrap();
            let added = g.insert(&nodes, 900.0, 0.0).unwrap();
            let non_trigger = nodes
                .iter()
                .filter(|n| n["data"]["module_type"] != "trigger")
                .count();
            assert_eq!(added.len(), non_trigger, "{}", path.display());
            // What was inserted reads back identically.
            let again = EditorGraph::from_drawflow(&g.to_drawflow()).unwrap();
            assert_eq!(again, g, "{}", path.display());
            seen += 1;
        }
        assert_eq!(seen, 13);
    }

    #[test]
    fn add_connect_remove_and_undo() {
        let mut g = EditorGraph::from_drawflow(&spec_example()).unwrap();
        let mut h = History::default();
        h.record(g.clone());
        let id = g.add_node(&stop_module(), 600.0, 200.0);
        assert_eq!(id, 4);
        assert_eq!(g.nodes[&4].params()["message"], "Execution stopped");
        h.record(g.clone());
        g.connect(Edge {
            from: 2,
            output: 2,
            to: 4,
            input: 1,
        })
        .unwrap();
        assert!(g
            .connect(Edge {
                from: 2,
                output: 2,
                to: 4,
                input: 1
            })
            .is_err());
        assert!(
            g.connect(Edge {
                from: 4,
                output: 1,
                to: 2,
                input: 1
            })
            .is_err(),
            "stop has no output"
        );
        let saved = g.to_drawflow();
        assert_eq!(
            saved["2"]["outputs"]["output_2"]["connections"][0]["node"],
            "4"
        );
        assert_eq!(
            saved["4"]["inputs"]["input_1"]["connections"][0]["input"],
            "output_2"
        );
        assert_eq!(saved["4"]["outputs"], json!([]));

        h.record(g.clone());
        assert_eq!(g.remove(&[1, 4].into()), 1, "the trigger stays");
        assert!(g.edges.iter().all(|e| e.to != 4));
        assert!(h.undo(&mut g));
        assert_eq!(g.to_drawflow(), saved);
        assert!(h.undo(&mut g));
        assert!(h.undo(&mut g));
        assert_eq!(g.to_drawflow(), spec_example());
        assert!(!h.undo(&mut g));
        assert!(h.redo(&mut g));
        assert_eq!(g.nodes.len(), 4);
    }

    #[test]
    fn duplicate_keeps_inner_edges_only() {
        let mut g = EditorGraph::from_drawflow(&spec_example()).unwrap();
        let added = g.duplicate(&[2, 3].into());
        assert_eq!(added, vec![4, 5]);
        assert!(g.edges.contains(&Edge {
            from: 4,
            output: 1,
            to: 5,
            input: 1
        }));
        assert_eq!(g.edges.len(), 3);
        assert_eq!((g.nodes[&4].x, g.nodes[&4].y), (340.0, 40.0));
        // The trigger is never duplicated.
        assert!(g.duplicate(&[1].into()).is_empty());
    }

    #[test]
    fn params_filters_and_geometry() {
        let mut g = EditorGraph::from_drawflow(&spec_example()).unwrap();
        g.set_param(1, "x", json!("y"));
        assert_eq!(
            g.nodes[&1].params()["x"],
            "y",
            "`[]` params become an object"
        );
        g.set_filter(2, "path", "Event.Tag".into());
        assert_eq!(g.nodes[&2].filters()["path"], "Event.Tag");
        assert_eq!(g.nodes_in(250.0, -10.0, 320.0, 10.0), [2].into());
        g.auto_layout();
        assert!(g.nodes[&1].x < g.nodes[&2].x && g.nodes[&2].x < g.nodes[&3].x);
        let (x0, _, x1, _) = g.bounds().unwrap();
        assert_eq!((x0, x1), (0.0, 2.0 * (NODE_W + 90.0) + NODE_W));
    }

    #[test]
    fn unknown_keys_are_kept_and_ids_are_never_reused() {
        let mut stored = spec_example();
        stored["_custom"] = json!({"kept": true});
        stored["3"]["html"] = json!("<div>dropped, as MISP's editor does</div>");
        stored["3"]["future_key"] = json!(7);
        stored["_frames"] = json!({"f": {"id": "f", "text": "Stop", "nodes": ["3"], "class": ""}});
        let mut g = EditorGraph::from_drawflow(&stored).unwrap();
        let saved = g.to_drawflow();
        assert_eq!(saved["_custom"], json!({"kept": true}));
        assert_eq!(saved["3"]["future_key"], 7);
        assert!(saved["3"].get("html").is_none());

        assert_eq!(g.remove(&[3].into()), 1);
        let frames = g.to_drawflow()["_frames"].clone();
        assert_eq!(frames, json!({}), "the emptied frame is dropped");
        let id = g.add_node(&stop_module(), 0.0, 0.0);
        assert_eq!(id, 4, "3 was used");
        let copies = g.duplicate(&[4].into());
        assert_eq!(
            g.nodes[&copies[0]].data["node_uid"],
            format!("stop-execution-{}", copies[0])
        );
    }

    #[test]
    fn list_shaped_saved_filters_are_read() {
        let mut n = EditorGraph::from_drawflow(&spec_example()).unwrap().nodes[&2].clone();
        n.data.insert(
            "saved_filters".into(),
            json!([{"text": "selector", "value": "Event._AttributeFlattened"}, {"text": "path", "value": ""}]),
        );
        assert_eq!(n.filters()["selector"], "Event._AttributeFlattened");
    }
}
