//! No-panic tests on generated input (issue item 12's invariant, run as ordinary unit tests
//! until `cargo fuzz` targets exist): malformed hash paths, graph JSON and payloads must give
//! errors, never panics.

use serde_json::{json, Value};

use crate::core_format;
use crate::graph::Graph;
use crate::hashpath::HashPath;
use crate::registry::Registry;
use crate::services::AllEnabled;
use crate::validate::validate;

/// Deterministic xorshift generator: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
        &items[i]
    }
}

fn sample() -> Value {
    json!({"Event": {"id": "1", "Tag": [{"name": "tlp:red"}, {"name": 5}], "Attribute": [
        {"type": "ip-src", "value": "1.2.3.4", "to_ids": true, "Tag": null},
        {"type": "md5", "value": 7, "n": [1, [2, {"x": null}]]}], "s": "str", "0": {"1": true}}})
}

#[test]
fn generated_hash_paths_never_panic() {
    let pieces = [
        "Event",
        "Attribute",
        "Tag",
        "{n}",
        "{s}",
        "{*}",
        "name",
        "0",
        "1",
        ".",
        ".",
        "[",
        "]",
        "[type=ip-src]",
        "[value>1]",
        "[value<=2]",
        "[x!=y]",
        "[name=/^tlp/i]",
        "[name=/(/]",
        "=",
        "!",
        "<",
        ">",
        "/",
        "..",
        "[]",
        "[=]",
        "[a]",
        "x",
        "é",
        "[to_ids=1]",
        "[n]",
    ];
    let data = sample();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let n = 1 + rng.next() % 8;
        let path: String = (0..n).map(|_| *rng.pick(&pieces)).collect();
        if let Ok(p) = HashPath::parse(&path) {
            let _ = p.extract(&data);
            let mut copy = data.clone();
            p.for_each_mut(&mut copy, &mut |v| *v = Value::Null);
        }
        let _ = crate::hashpath::get(&data, &path);
    }
}

#[test]
fn generated_graphs_never_panic() {
    let registry = Registry::builtin();
    let values = [
        json!(null),
        json!(1),
        json!("2"),
        json!([]),
        json!({}),
        json!("output_1"),
        json!("input_1"),
        json!(-3),
        json!({"connections": []}),
        json!({"connections": [{"node": "1", "output": "input_1"}]}),
        json!({"connections": [{"node": "2", "input": "output_1"}]}),
        json!({"connections": [{"node": []}]}),
        json!({"id": "tag-if", "module_type": "logic"}),
        json!({"id": "event-publish", "module_type": "trigger"}),
        json!({"id": "stop-execution", "indexed_params": [{"text": "a", "value": 1}]}),
    ];
    let keys = [
        "1",
        "2",
        "3",
        "x",
        "_frames",
        "_y",
        "-1",
        "18446744073709551616",
    ];
    let node_keys = ["id", "data", "inputs", "outputs", "pos_x", "class", "name"];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..5_000 {
        let mut g = serde_json::Map::new();
        for _ in 0..(rng.next() % 4) {
            let mut node = serde_json::Map::new();
            for _ in 0..(rng.next() % 7) {
                let v = rng.pick(&values).clone();
                node.insert((*rng.pick(&node_keys)).to_owned(), v);
            }
            let key = *rng.pick(&keys);
            g.insert(key.to_owned(), Value::Object(node));
        }
        let v = Value::Object(g);
        if let Ok(graph) = Graph::from_value(&v) {
            let _ = graph.to_value();
            let _ = validate(&graph, &registry, &AllEnabled).check_graph();
        }
        let _ = Graph::from_node_list(&Value::Array(
            v.as_object()
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default(),
        ));
    }
}

#[test]
fn generated_payloads_never_panic_in_core_format() {
    let values = [
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!([{"Tag": 1}]),
        json!({"Tag": "t"}),
    ];
    let keys = [
        "Event",
        "Attribute",
        "Object",
        "Tag",
        "EventTag",
        "AttributeTag",
        "Orgc",
        "_x",
        "id",
        "object_id",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..5_000 {
        let build = |depth: u32, rng: &mut Rng| -> Value {
            let mut m = serde_json::Map::new();
            for _ in 0..(rng.next() % 5) {
                let v = if depth > 0 && rng.next().is_multiple_of(2) {
                    let mut inner = serde_json::Map::new();
                    for _ in 0..(rng.next() % 4) {
                        inner.insert((*rng.pick(&keys)).to_owned(), rng.pick(&values).clone());
                    }
                    if rng.next().is_multiple_of(2) {
                        Value::Array(vec![Value::Object(inner)])
                    } else {
                        Value::Object(inner)
                    }
                } else {
                    rng.pick(&values).clone()
                };
                m.insert((*rng.pick(&keys)).to_owned(), v);
            }
            Value::Object(m)
        };
        let mut event = build(1, &mut rng);
        if !rng.next().is_multiple_of(3) {
            let inner = build(1, &mut rng);
            if let Value::Object(m) = &mut event {
                m.insert("Event".into(), inner);
            }
        }
        let _ = core_format::convert(event);
    }
}
