//! Workflow graphs: MISP's Drawflow-shaped `data` (spec §9) as typed nodes and edges.
//!
//! Drawflow stores every edge twice (in the source's `outputs` and the target's `inputs`).
//! [`Graph`] parses that once into one [`Edge`] list and writes both sides back. The conversion
//! is lossless for what MISP produces: unknown keys are kept, `[]`-versus-object forms of ports,
//! `indexed_params` and `saved_filters` are remembered, one-sided or dangling connections (as in
//! blueprints, whose edges may point at nodes outside the blueprint) survive a round trip, and so
//! does the order of connections on each input.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

/// A node id: an integer local to one workflow (the key of the node in the graph object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why workflow data could not be read as a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// The top level is neither an object keyed by node id nor a list of nodes.
    #[error("workflow data must be an object keyed by node id (or a list of nodes)")]
    NotAGraph,
    /// A key that is not a node id and does not start with `_`.
    #[error("`{0}` is not a node id")]
    BadNodeKey(String),
    /// A node that is not a JSON object.
    #[error("node `{0}` is not an object")]
    NodeNotObject(String),
    /// A node whose `id` is missing, not an integer, or differs from its key.
    #[error("node `{key}` has an invalid id")]
    BadNodeId { key: String },
    /// Two nodes with the same id.
    #[error("node id {0} appears twice")]
    DuplicateNode(NodeId),
    /// A node without `data.id` (the module id).
    #[error("node {0} has no module id (`data.id`)")]
    MissingModuleId(NodeId),
    /// `inputs` / `outputs` not in Drawflow's shape.
    #[error("node {node}: malformed {side} port `{port}`")]
    BadPort {
        node: NodeId,
        side: &'static str,
        port: String,
    },
    /// `_frames` not an object of objects.
    #[error("malformed `_frames`")]
    BadFrames,
    /// A selection naming a node the graph does not have.
    #[error("node {0} is not in the workflow")]
    NotInGraph(NodeId),
}

/// How a keyed parameter set was written, so it is written back the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyedForm {
    /// `{"key": value, ...}`.
    Object,
    /// `[{"text": key, "value": value}, ...]`; the empty list `[]` also lands here.
    List,
    /// Anything else; kept verbatim and read as empty.
    Opaque(Value),
}

/// `indexed_params` or `saved_filters`: ordered key → value pairs plus their wire form.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedValues {
    entries: Vec<(String, Value)>,
    form: KeyedForm,
}

impl Default for KeyedValues {
    fn default() -> Self {
        KeyedValues {
            entries: Vec::new(),
            form: KeyedForm::Object,
        }
    }
}

impl KeyedValues {
    /// Reads any of the accepted forms; never fails (unknown shapes are kept opaque).
    pub fn from_value(v: &Value) -> Self {
        match v {
            Value::Object(m) => KeyedValues {
                entries: m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                form: KeyedForm::Object,
            },
            Value::Array(items) => {
                let mut entries = Vec::with_capacity(items.len());
                for item in items {
                    let text = item.get("text").and_then(Value::as_str);
                    let well_formed = item
                        .as_object()
                        .is_some_and(|o| o.len() == 2 && o.contains_key("value"));
                    match (text, well_formed) {
                        (Some(t), true) => entries.push((
                            t.to_owned(),
                            item.get("value").cloned().unwrap_or(Value::Null),
                        )),
                        _ => {
                            return KeyedValues {
                                entries: Vec::new(),
                                form: KeyedForm::Opaque(v.clone()),
                            }
                        }
                    }
                }
                KeyedValues {
                    entries,
                    form: KeyedForm::List,
                }
            }
            other => KeyedValues {
                entries: Vec::new(),
                form: KeyedForm::Opaque(other.clone()),
            },
        }
    }

    /// Writes the pairs back in the form they were read in.
    pub fn to_value(&self) -> Value {
        match &self.form {
            KeyedForm::Object => Value::Object(self.entries.iter().cloned().collect()),
            KeyedForm::List => Value::Array(
                self.entries
                    .iter()
                    .map(|(k, v)| {
                        let mut m = Map::new();
                        m.insert("text".into(), Value::String(k.clone()));
                        m.insert("value".into(), v.clone());
                        Value::Object(m)
                    })
                    .collect(),
            ),
            KeyedForm::Opaque(v) => v.clone(),
        }
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` (an opaque set becomes an object).
    pub fn set(&mut self, key: &str, value: Value) {
        if matches!(self.form, KeyedForm::Opaque(_)) {
            self.form = KeyedForm::Object;
        }
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    /// All pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The wire form.
    pub fn form(&self) -> &KeyedForm {
        &self.form
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One declared port of a node (`input_1`, `output_2`…), with any extra keys beside `connections`.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    /// Port name as written (`output_1`).
    pub name: String,
    /// Keys of the port object other than `connections`.
    pub extra: Map<String, Value>,
}

/// Declared ports of one side of a node. `list_form` records Drawflow's `[]` for "no ports".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ports {
    /// Ports in written order.
    pub ports: Vec<Port>,
    /// True when the side was written as a JSON list (`[]`).
    pub list_form: bool,
}

impl Ports {
    fn ensure(&mut self, name: &str) {
        if !self.ports.iter().any(|p| p.name == name) {
            self.ports.push(Port {
                name: name.to_owned(),
                extra: Map::new(),
            });
            self.list_form = false;
        }
    }

    /// Port names sorted by their number (`output_1`, `output_2`, … `output_10`).
    pub fn ordered_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.ports.iter().map(|p| p.name.as_str()).collect();
        names.sort_by_key(|n| (port_number(n).unwrap_or(u32::MAX), n.to_string()));
        names
    }
}

/// The number at the end of a port name (`output_2` → 2).
pub fn port_number(name: &str) -> Option<u32> {
    name.rsplit('_').next().and_then(|n| n.parse().ok())
}

/// A node: one module instance in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Node id (= key in the graph object).
    pub id: NodeId,
    /// Display name (top-level `name`).
    pub name: Option<String>,
    /// Module id (`data.id`).
    pub module_id: String,
    /// Module name (`data.name`).
    pub module_name: Option<String>,
    /// `data.module_type`: `trigger`, `logic` or `action` as stored.
    pub module_type: Option<String>,
    /// `data.indexed_params`.
    pub params: KeyedValues,
    /// `data.saved_filters`, when present.
    pub saved_filters: Option<KeyedValues>,
    /// CSS classes (`class`).
    pub class: Option<String>,
    /// Editor position, kept as written.
    pub pos_x: Option<Number>,
    /// Editor position, kept as written.
    pub pos_y: Option<Number>,
    /// Input ports.
    pub inputs: Ports,
    /// Output ports.
    pub outputs: Ports,
    /// Other keys of `data` (trigger config, `node_uid`, versions…).
    pub data_extra: Map<String, Value>,
    /// Other top-level keys (`typenode`, `html`…).
    pub extra: Map<String, Value>,
    id_was_string: bool,
    had_id: bool,
    params_written: bool,
}

impl Node {
    /// A new node for `module_id` with no ports, params or position.
    pub fn new(id: NodeId, module_id: &str) -> Self {
        Node {
            id,
            name: None,
            module_id: module_id.to_owned(),
            module_name: None,
            module_type: None,
            params: KeyedValues::default(),
            saved_filters: None,
            class: None,
            pos_x: None,
            pos_y: None,
            inputs: Ports::default(),
            outputs: Ports::default(),
            data_extra: Map::new(),
            extra: Map::new(),
            id_was_string: false,
            had_id: true,
            params_written: true,
        }
    }

    /// True when the stored node says it is a trigger (`data.module_type` or its CSS class).
    pub fn is_trigger(&self) -> bool {
        self.module_type.as_deref() == Some("trigger")
            || self
                .class
                .as_deref()
                .is_some_and(|c| c.split_whitespace().any(|c| c == "block-type-trigger"))
    }

    /// A boolean flag stored in `data` (e.g. `multiple_output_connection`, `blocking`).
    pub fn data_flag(&self, key: &str) -> Option<bool> {
        self.data_extra.get(key).map(crate::php::truthy)
    }

    /// The parameter value stored for `id` in `indexed_params`.
    pub fn param(&self, id: &str) -> Option<&Value> {
        self.params.get(id)
    }

    fn from_value(key: &str, v: &Value) -> Result<(Node, Vec<Conn>, Vec<Conn>), GraphError> {
        let obj = v
            .as_object()
            .ok_or_else(|| GraphError::NodeNotObject(key.to_owned()))?;
        let key_id: u64 = key
            .parse()
            .map_err(|_| GraphError::BadNodeKey(key.to_owned()))?;
        let bad_id = || GraphError::BadNodeId {
            key: key.to_owned(),
        };
        let (id_was_string, had_id) = match obj.get("id") {
            None => (false, false),
            Some(Value::Number(n)) if n.as_u64() == Some(key_id) => (false, true),
            Some(Value::String(s)) if s.parse::<u64>().ok() == Some(key_id) => (true, true),
            Some(_) => return Err(bad_id()),
        };
        let id = NodeId(key_id);
        Self::build(id, id_was_string, had_id, obj)
    }

    fn build(
        id: NodeId,
        id_was_string: bool,
        had_id: bool,
        obj: &Map<String, Value>,
    ) -> Result<(Node, Vec<Conn>, Vec<Conn>), GraphError> {
        let mut extra = Map::new();
        let mut node = Node::new(id, "");
        node.params_written = false;
        node.id_was_string = id_was_string;
        node.had_id = had_id;
        let mut outs = Vec::new();
        let mut ins = Vec::new();
        let mut saw_data = false;
        for (k, v) in obj {
            match k.as_str() {
                "id" => {}
                "name" if v.is_string() => node.name = v.as_str().map(str::to_owned),
                "class" if v.is_string() => node.class = v.as_str().map(str::to_owned),
                "pos_x" if v.is_number() => node.pos_x = v.as_number().cloned(),
                "pos_y" if v.is_number() => node.pos_y = v.as_number().cloned(),
                "data" if v.is_object() => {
                    saw_data = true;
                    node.read_data(v)?;
                }
                "inputs" if v.is_object() || v.is_array() => {
                    node.inputs = read_ports(id, "input", v, &mut ins)?;
                }
                "outputs" if v.is_object() || v.is_array() => {
                    node.outputs = read_ports(id, "output", v, &mut outs)?;
                }
                _ => {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        if !saw_data || node.module_id.is_empty() {
            return Err(GraphError::MissingModuleId(id));
        }
        node.extra = extra;
        Ok((node, outs, ins))
    }

    fn read_data(&mut self, v: &Value) -> Result<(), GraphError> {
        let Some(data) = v.as_object() else {
            return Ok(());
        };
        for (k, v) in data {
            match (k.as_str(), v) {
                ("id", Value::String(s)) => self.module_id = s.clone(),
                ("name", Value::String(s)) => self.module_name = Some(s.clone()),
                ("module_type", Value::String(s)) => self.module_type = Some(s.clone()),
                ("indexed_params", v) => {
                    self.params = KeyedValues::from_value(v);
                    self.params_written = true;
                }
                ("saved_filters", v) => self.saved_filters = Some(KeyedValues::from_value(v)),
                _ => {
                    self.data_extra.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }

    fn data_value(&self) -> Value {
        let mut d = self.data_extra.clone();
        d.insert("id".into(), Value::String(self.module_id.clone()));
        if let Some(n) = &self.module_name {
            d.insert("name".into(), Value::String(n.clone()));
        }
        if let Some(t) = &self.module_type {
            d.insert("module_type".into(), Value::String(t.clone()));
        }
        if self.params_written || !self.params.is_empty() {
            d.insert("indexed_params".into(), self.params.to_value());
        }
        if let Some(f) = &self.saved_filters {
            d.insert("saved_filters".into(), f.to_value());
        }
        Value::Object(d)
    }
}

/// One raw connection as read from a port.
struct Conn {
    own_port: String,
    other: NodeId,
    other_port: String,
    extra: Map<String, Value>,
    rank: u32,
}

fn read_ports(
    id: NodeId,
    side: &'static str,
    v: &Value,
    conns: &mut Vec<Conn>,
) -> Result<Ports, GraphError> {
    let bad = |port: &str| GraphError::BadPort {
        node: id,
        side,
        port: port.to_owned(),
    };
    let Some(map) = v.as_object() else {
        return match v.as_array() {
            Some(a) if a.is_empty() => Ok(Ports {
                ports: Vec::new(),
                list_form: true,
            }),
            _ => Err(bad("")),
        };
    };
    let other_key = if side == "input" { "input" } else { "output" };
    let mut ports = Ports::default();
    for (name, port) in map {
        let pobj = port.as_object().ok_or_else(|| bad(name))?;
        let mut extra = Map::new();
        for (k, v) in pobj {
            if k == "connections" {
                let list = v.as_array().ok_or_else(|| bad(name))?;
                for (rank, c) in list.iter().enumerate() {
                    let cobj = c.as_object().ok_or_else(|| bad(name))?;
                    let other = match cobj.get("node") {
                        Some(Value::String(s)) => s.parse().ok(),
                        Some(Value::Number(n)) => n.as_u64(),
                        _ => None,
                    }
                    .ok_or_else(|| bad(name))?;
                    let other_port = cobj
                        .get(other_key)
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad(name))?
                        .to_owned();
                    let extra: Map<String, Value> = cobj
                        .iter()
                        .filter(|(k, _)| k.as_str() != "node" && k.as_str() != other_key)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    conns.push(Conn {
                        own_port: name.clone(),
                        other: NodeId(other),
                        other_port,
                        extra,
                        rank: u32::try_from(rank).unwrap_or(u32::MAX),
                    });
                }
            } else {
                extra.insert(k.clone(), v.clone());
            }
        }
        if !pobj.contains_key("connections") {
            return Err(bad(name));
        }
        ports.ports.push(Port {
            name: name.clone(),
            extra,
        });
    }
    Ok(ports)
}

/// Which sides of Drawflow's double bookkeeping listed an edge, and wire details to write back.
#[derive(Debug, Clone, PartialEq, Default)]
struct EdgeWire {
    in_outputs: bool,
    in_inputs: bool,
    input_rank: u32,
    out_extra: Map<String, Value>,
    in_extra: Map<String, Value>,
}

/// A directed connection from an output port to an input port.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Source node.
    pub source: NodeId,
    /// Source output port (`output_1`).
    pub source_port: String,
    /// Target node.
    pub target: NodeId,
    /// Target input port (`input_1`).
    pub target_port: String,
    wire: EdgeWire,
}

impl Edge {
    /// A new edge, listed on both sides.
    pub fn new(source: NodeId, source_port: &str, target: NodeId, target_port: &str) -> Self {
        Edge {
            source,
            source_port: source_port.to_owned(),
            target,
            target_port: target_port.to_owned(),
            wire: EdgeWire {
                in_outputs: true,
                in_inputs: true,
                input_rank: u32::MAX,
                ..EdgeWire::default()
            },
        }
    }

    /// False when only the target's `inputs` listed this edge (a one-sided connection).
    pub fn listed_by_source(&self) -> bool {
        self.wire.in_outputs
    }

    /// False when only the source's `outputs` listed this edge.
    pub fn listed_by_target(&self) -> bool {
        self.wire.in_inputs
    }
}

/// An editor frame (`_frames` entry): a labelled box around nodes; no runtime meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Key in `_frames` (a UUID).
    pub key: String,
    /// The frame object as written.
    pub value: Value,
}

/// A workflow graph.
///
/// Invariant: node ids are unique; `nodes` is sorted by id. Edges may reference missing nodes
/// (validation reports them) so that any stored graph can be loaded, shown and fixed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Nodes sorted by id.
    pub nodes: Vec<Node>,
    /// Edges: in source order (node, output port, connection order), then one-sided inputs.
    pub edges: Vec<Edge>,
    /// `_frames`, when present.
    pub frames: Option<Vec<Frame>>,
    /// Other `_`-prefixed top-level keys.
    pub extra: Map<String, Value>,
    list_form: bool,
}

impl Graph {
    /// Parses MISP workflow `data` (an object keyed by node id, or `[]` for an empty graph).
    pub fn from_value(v: &Value) -> Result<Graph, GraphError> {
        match v {
            Value::Object(map) => {
                let mut raw = Vec::new();
                let mut frames = None;
                let mut extra = Map::new();
                for (k, v) in map {
                    if k == "_frames" {
                        let fm = v.as_object().ok_or(GraphError::BadFrames)?;
                        let mut fs = Vec::new();
                        for (fk, fv) in fm {
                            if !fv.is_object() {
                                return Err(GraphError::BadFrames);
                            }
                            fs.push(Frame {
                                key: fk.clone(),
                                value: fv.clone(),
                            });
                        }
                        frames = Some(fs);
                    } else if k.starts_with('_') {
                        extra.insert(k.clone(), v.clone());
                    } else {
                        raw.push(Node::from_value(k, v)?);
                    }
                }
                let mut g = Graph::assemble(raw)?;
                g.frames = frames;
                g.extra = extra;
                Ok(g)
            }
            Value::Array(a) if a.is_empty() => Ok(Graph {
                list_form: true,
                ..Graph::default()
            }),
            _ => Err(GraphError::NotAGraph),
        }
    }

    /// Parses a blueprint's `data`: a list of nodes (spec §13), order kept.
    pub fn from_node_list(v: &Value) -> Result<Graph, GraphError> {
        let items = v.as_array().ok_or(GraphError::NotAGraph)?;
        let mut raw = Vec::with_capacity(items.len());
        for item in items {
            let obj = item
                .as_object()
                .ok_or_else(|| GraphError::NodeNotObject("?".into()))?;
            let (id, was_string) = match obj.get("id") {
                Some(Value::Number(n)) => (n.as_u64(), false),
                Some(Value::String(s)) => (s.parse().ok(), true),
                _ => (None, false),
            };
            let id = id.ok_or_else(|| GraphError::BadNodeId { key: "?".into() })?;
            raw.push(Node::build(NodeId(id), was_string, true, obj)?);
        }
        let mut g = Graph::assemble_keep_order(raw)?;
        g.list_form = true;
        Ok(g)
    }

    fn assemble(mut raw: Vec<(Node, Vec<Conn>, Vec<Conn>)>) -> Result<Graph, GraphError> {
        raw.sort_by_key(|(n, _, _)| n.id);
        Graph::assemble_keep_order(raw)
    }

    fn assemble_keep_order(raw: Vec<(Node, Vec<Conn>, Vec<Conn>)>) -> Result<Graph, GraphError> {
        let mut seen = BTreeSet::new();
        let mut nodes = Vec::with_capacity(raw.len());
        let mut edges: Vec<Edge> = Vec::new();
        let mut inputs_later = Vec::new();
        for (node, outs, ins) in raw {
            if !seen.insert(node.id) {
                return Err(GraphError::DuplicateNode(node.id));
            }
            for c in outs {
                edges.push(Edge {
                    source: node.id,
                    source_port: c.own_port,
                    target: c.other,
                    target_port: c.other_port,
                    wire: EdgeWire {
                        in_outputs: true,
                        out_extra: c.extra,
                        ..EdgeWire::default()
                    },
                });
            }
            inputs_later.push((node.id, ins));
            nodes.push(node);
        }
        let mut index: HashMap<(NodeId, String, NodeId, String), Vec<usize>> = HashMap::new();
        for (i, e) in edges.iter().enumerate() {
            index
                .entry((
                    e.source,
                    e.source_port.clone(),
                    e.target,
                    e.target_port.clone(),
                ))
                .or_default()
                .push(i);
        }
        let mut matches: Vec<(usize, u32, Map<String, Value>)> = Vec::new();
        let mut one_sided = Vec::new();
        for (target, ins) in inputs_later {
            for c in ins {
                let key = (c.other, c.other_port.clone(), target, c.own_port.clone());
                let found = index.get_mut(&key).and_then(|v| {
                    if v.is_empty() {
                        None
                    } else {
                        Some(v.remove(0))
                    }
                });
                match found {
                    Some(i) => matches.push((i, c.rank, c.extra)),
                    None => one_sided.push(Edge {
                        source: c.other,
                        source_port: c.other_port,
                        target,
                        target_port: c.own_port,
                        wire: EdgeWire {
                            in_inputs: true,
                            input_rank: c.rank,
                            in_extra: c.extra,
                            ..EdgeWire::default()
                        },
                    }),
                }
            }
        }
        for (i, rank, extra) in matches {
            if let Some(e) = edges.get_mut(i) {
                e.wire.in_inputs = true;
                e.wire.input_rank = rank;
                e.wire.in_extra = extra;
            }
        }
        edges.extend(one_sided);
        Ok(Graph {
            nodes,
            edges,
            frames: None,
            extra: Map::new(),
            list_form: false,
        })
    }

    fn node_value(&self, node: &Node) -> Value {
        let mut o = node.extra.clone();
        if node.had_id {
            o.insert(
                "id".into(),
                if node.id_was_string {
                    Value::String(node.id.to_string())
                } else {
                    Value::from(node.id.0)
                },
            );
        }
        if let Some(n) = &node.name {
            o.insert("name".into(), Value::String(n.clone()));
        }
        o.insert("data".into(), node.data_value());
        if let Some(c) = &node.class {
            o.insert("class".into(), Value::String(c.clone()));
        }
        o.insert("inputs".into(), self.ports_value(node, false));
        o.insert("outputs".into(), self.ports_value(node, true));
        if let Some(x) = &node.pos_x {
            o.insert("pos_x".into(), Value::Number(x.clone()));
        }
        if let Some(y) = &node.pos_y {
            o.insert("pos_y".into(), Value::Number(y.clone()));
        }
        Value::Object(o)
    }

    fn ports_value(&self, node: &Node, outputs: bool) -> Value {
        let ports = if outputs { &node.outputs } else { &node.inputs };
        if ports.list_form && ports.ports.is_empty() {
            return Value::Array(Vec::new());
        }
        let mut m = Map::new();
        for port in &ports.ports {
            let mut list: Vec<(u32, Value)> = Vec::new();
            for e in &self.edges {
                let mut c = Map::new();
                if outputs && e.wire.in_outputs && e.source == node.id && e.source_port == port.name
                {
                    c.insert("node".into(), Value::String(e.target.to_string()));
                    c.insert("output".into(), Value::String(e.target_port.clone()));
                    c.extend(e.wire.out_extra.clone());
                    list.push((0, Value::Object(c)));
                } else if !outputs
                    && e.wire.in_inputs
                    && e.target == node.id
                    && e.target_port == port.name
                {
                    c.insert("node".into(), Value::String(e.source.to_string()));
                    c.insert("input".into(), Value::String(e.source_port.clone()));
                    c.extend(e.wire.in_extra.clone());
                    list.push((e.wire.input_rank, Value::Object(c)));
                }
            }
            list.sort_by_key(|(r, _)| *r);
            let mut p = port.extra.clone();
            p.insert(
                "connections".into(),
                Value::Array(list.into_iter().map(|(_, v)| v).collect()),
            );
            m.insert(port.name.clone(), Value::Object(p));
        }
        Value::Object(m)
    }

    /// Serialises to MISP workflow `data` (object keyed by node id).
    pub fn to_value(&self) -> Value {
        if self.list_form && self.nodes.is_empty() && self.frames.is_none() && self.extra.is_empty()
        {
            return Value::Array(Vec::new());
        }
        let mut m = Map::new();
        for n in &self.nodes {
            m.insert(n.id.to_string(), self.node_value(n));
        }
        if let Some(frames) = &self.frames {
            m.insert(
                "_frames".into(),
                Value::Object(
                    frames
                        .iter()
                        .map(|f| (f.key.clone(), f.value.clone()))
                        .collect(),
                ),
            );
        }
        m.extend(self.extra.clone());
        Value::Object(m)
    }

    /// Serialises as a blueprint node list (spec §13), in node order.
    pub fn to_node_list(&self) -> Value {
        Value::Array(self.nodes.iter().map(|n| self.node_value(n)).collect())
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Mutable access to the node with id `id`.
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    /// Edges leaving `id` through `port`, in connection order.
    pub fn edges_from<'a>(
        &'a self,
        id: NodeId,
        port: &'a str,
    ) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.source == id && e.source_port == port && e.wire.in_outputs)
    }

    /// The trigger nodes of the graph.
    pub fn triggers(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.is_trigger())
    }

    /// One past the largest node id (the next free id).
    pub fn next_id(&self) -> NodeId {
        NodeId(self.nodes.iter().map(|n| n.id.0).max().map_or(1, |m| m + 1))
    }

    /// Adds a node; fails when its id is taken.
    pub fn add_node(&mut self, node: Node) -> Result<(), GraphError> {
        if self.node(node.id).is_some() {
            return Err(GraphError::DuplicateNode(node.id));
        }
        let pos = self.nodes.partition_point(|n| n.id < node.id);
        self.nodes.insert(pos, node);
        Ok(())
    }

    /// Connects `source.source_port` to `target.target_port`, declaring the ports if needed.
    pub fn connect(
        &mut self,
        source: NodeId,
        source_port: &str,
        target: NodeId,
        target_port: &str,
    ) {
        if let Some(n) = self.node_mut(source) {
            n.outputs.ensure(source_port);
        }
        if let Some(n) = self.node_mut(target) {
            n.inputs.ensure(target_port);
        }
        self.edges
            .push(Edge::new(source, source_port, target, target_port));
    }

    /// Inserts a blueprint's nodes with fresh ids (spec §13, §10).
    ///
    /// Trigger nodes are skipped, edges between inserted nodes are kept (remapped), edges to
    /// anything outside the blueprint are dropped. Returns the (old id, new id) pairs.
    /// The selected nodes and the edges between them, as a blueprint (§13: what the editor's
    /// "save selection as blueprint" stores): trigger nodes are left out (a blueprint never
    /// holds one) and edges leaving the selection are dropped. Serialise with
    /// [`Graph::to_node_list`].
    pub fn selection(&self, ids: &[NodeId]) -> Result<Graph, GraphError> {
        if let Some(missing) = ids.iter().find(|id| self.node(**id).is_none()) {
            return Err(GraphError::NotInGraph(*missing));
        }
        let keep: BTreeSet<NodeId> = ids
            .iter()
            .copied()
            .filter(|id| self.node(*id).is_some_and(|n| !n.is_trigger()))
            .collect();
        let mut out = self.clone();
        out.nodes.retain(|n| keep.contains(&n.id));
        out.edges
            .retain(|e| keep.contains(&e.source) && keep.contains(&e.target));
        out.frames = None;
        out.extra.clear();
        out.list_form = true;
        Ok(out)
    }

    pub fn insert_blueprint(&mut self, blueprint: &Graph) -> Vec<(NodeId, NodeId)> {
        let first = self.next_id().0;
        let mut map: HashMap<NodeId, NodeId> = HashMap::new();
        let mut pairs = Vec::new();
        for (next, n) in (first..).zip(blueprint.nodes.iter().filter(|n| !n.is_trigger())) {
            let new_id = NodeId(next);
            map.insert(n.id, new_id);
            pairs.push((n.id, new_id));
            let mut copy = n.clone();
            copy.id = new_id;
            copy.id_was_string = false;
            copy.had_id = true;
            let pos = self.nodes.partition_point(|x| x.id < new_id);
            self.nodes.insert(pos, copy);
        }
        let mut seen = BTreeSet::new();
        for e in &blueprint.edges {
            if let (Some(&s), Some(&t)) = (map.get(&e.source), map.get(&e.target)) {
                let key = (s, e.source_port.clone(), t, e.target_port.clone());
                if seen.insert(key) {
                    self.edges
                        .push(Edge::new(s, &e.source_port, t, &e.target_port));
                }
            }
        }
        pairs
    }
}

impl Serialize for Graph {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Graph {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Graph::from_value(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn fixture(rel: &str) -> Value {
        let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub(crate) fn blueprint_files() -> Vec<String> {
        let dir = format!("{}/tests/fixtures/blueprints", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("blueprint fixtures")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn s9_every_blueprint_round_trips() {
        let files = blueprint_files();
        assert_eq!(files.len(), 13);
        for f in files {
            let v = fixture(&format!("blueprints/{f}"));
            let data = &v["WorkflowBlueprint"]["data"];
            let g = Graph::from_node_list(data).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(&g.to_node_list(), data, "{f}");
        }
    }

    #[test]
    fn s9_every_workflow_fixture_round_trips() {
        for (f, ptr) in [
            (
                "workflows/workflow-data_attribute-after-save_with-frames.json",
                "",
            ),
            (
                "workflows/workflow-data_event-publish_trigger-only.json",
                "",
            ),
            (
                "workflows/workflow-view_attribute-after-save_trigger-only.json",
                "/Workflow/data",
            ),
            (
                "workflows/workflow-view_event-after-save-new_publish-event.json",
                "/Workflow/data",
            ),
        ] {
            let v = fixture(f);
            let data = v.pointer(ptr).expect("data");
            let g = Graph::from_value(data).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(&g.to_value(), data, "{f}");
            let again: Graph =
                serde_json::from_value(serde_json::to_value(&g).expect("ser")).expect("de");
            assert_eq!(again, g);
        }
    }

    #[test]
    fn s9_frames_and_edges_are_typed() {
        let v = fixture("workflows/workflow-data_attribute-after-save_with-frames.json");
        let g = Graph::from_value(&v).expect("graph");
        assert_eq!(g.nodes.len(), 5);
        assert_eq!(g.frames.as_ref().map(Vec::len), Some(1));
        let e: Vec<_> = g
            .edges_from(NodeId(6), "output_2")
            .map(|e| e.target)
            .collect();
        assert_eq!(e, vec![NodeId(4)]);
        assert_eq!(g.edges.len(), 4);
        assert!(g
            .edges
            .iter()
            .all(|e| e.listed_by_source() && e.listed_by_target()));
        assert_eq!(
            g.node(NodeId(2)).and_then(|n| n.param("comment")),
            Some(&json!("just a test :D"))
        );
    }

    #[test]
    fn s9_keyed_values_keep_their_form() {
        for v in [
            json!({}),
            json!([]),
            json!({"a": 1}),
            json!([{"text": "selector", "value": ""}]),
            json!("x"),
        ] {
            assert_eq!(KeyedValues::from_value(&v).to_value(), v);
        }
        let list = KeyedValues::from_value(&json!([{"text": "value", "value": "tlp:red"}]));
        assert_eq!(list.get("value"), Some(&json!("tlp:red")));
    }

    #[test]
    fn s9_one_sided_and_reordered_inputs_survive() {
        let data = json!({
            "1": {"id": 1, "data": {"id": "a"}, "inputs": [], "outputs": {"output_1": {"connections": [
                {"node": "2", "output": "input_1"}, {"node": "3", "output": "input_1"}]}}},
            "2": {"id": 2, "data": {"id": "b"}, "inputs": {"input_1": {"connections": [
                {"node": "9", "input": "output_1"}, {"node": "1", "input": "output_1"}]}}, "outputs": []},
            "3": {"id": 3, "data": {"id": "c"}, "inputs": {"input_1": {"connections": []}}, "outputs": []}
        });
        let g = Graph::from_value(&data).expect("graph");
        assert_eq!(g.to_value(), data);
        assert_eq!(g.edges.len(), 3);
    }

    #[test]
    fn s9_bad_graphs_are_errors() {
        assert_eq!(Graph::from_value(&json!("x")), Err(GraphError::NotAGraph));
        assert!(matches!(
            Graph::from_value(&json!({"a": {}})),
            Err(GraphError::BadNodeKey(_))
        ));
        assert!(matches!(
            Graph::from_value(&json!({"1": {"id": 2, "data": {"id": "x"}}})),
            Err(GraphError::BadNodeId { .. })
        ));
        assert!(matches!(
            Graph::from_value(&json!({"1": {"id": 1}})),
            Err(GraphError::MissingModuleId(_))
        ));
        assert!(matches!(
            Graph::from_value(
                &json!({"1": {"id": 1, "data": {"id": "x"}, "outputs": {"output_1": {"connections": [{"node": []}]}}}})
            ),
            Err(GraphError::BadPort { .. })
        ));
        assert_eq!(
            Graph::from_value(&json!([])).map(|g| g.to_value()),
            Ok(json!([]))
        );
    }

    #[test]
    fn s13_blueprint_insertion_fresh_ids_internal_edges_only() {
        let wf = fixture("workflows/workflow-data_event-publish_trigger-only.json");
        let mut g = Graph::from_value(&wf).expect("graph");
        let bp = fixture(
            "blueprints/blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
        );
        let bpg = Graph::from_node_list(&bp["WorkflowBlueprint"]["data"]).expect("bp");
        let pairs = g.insert_blueprint(&bpg);
        // The blueprint's event-publish trigger is skipped; three nodes come in with ids 2..=4.
        assert_eq!(pairs.len(), 3);
        assert_eq!(g.nodes.len(), 4);
        assert_eq!(g.triggers().count(), 1);
        let new_ids: Vec<u64> = pairs.iter().map(|(_, n)| n.0).collect();
        assert_eq!(new_ids, vec![2, 3, 4]);
        // 30 -> 29 -> 28 kept; 1 -> 30 (from the skipped trigger) dropped.
        assert_eq!(g.edges.len(), 2);
        let v = g.to_value();
        let again = Graph::from_value(&v).expect("reparse");
        assert_eq!(again.to_value(), v);
    }

    /// §13 save selection as blueprint: the selected nodes without the trigger, only the edges
    /// between them; inserting the result elsewhere gives the same shape back.
    #[test]
    fn s13_selection_keeps_selected_nodes_and_their_inner_edges() {
        let bp = fixture(
            "blueprints/blueprint_set-tag-based-on-bgp-ranking-maliciousness-level_1668498668.json",
        );
        let g = Graph::from_node_list(&bp["WorkflowBlueprint"]["data"]).expect("bp");
        // Trigger 1 -> 30 -> 29 -> 28: select the trigger, 30 and 29.
        let picked = g
            .selection(&[NodeId(1), NodeId(30), NodeId(29)])
            .expect("selection");
        let ids: Vec<u64> = picked.nodes.iter().map(|n| n.id.0).collect();
        assert_eq!(ids, vec![29, 30], "trigger left out");
        assert_eq!(picked.edges.len(), 1, "only 30 -> 29 stays");
        let list = picked.to_node_list();
        assert_eq!(list.as_array().map(Vec::len), Some(2));
        let back = Graph::from_node_list(&list).expect("reparse");
        assert_eq!(back.to_node_list(), list);
        assert_eq!(
            g.selection(&[NodeId(30), NodeId(99)]).map(|_| ()),
            Err(GraphError::NotInGraph(NodeId(99)))
        );
    }
}
