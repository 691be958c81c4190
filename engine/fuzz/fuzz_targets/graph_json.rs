//! Arbitrary bytes as MISP workflow JSON: parse (both the Drawflow object and the blueprint node
//! list), validate, render `checkGraph`, serialise, and re-parse the serialised form, which must
//! give the same JSON again (the round trip is lossless, issue 3 item 1).
#![no_main]

use engine::services::AllEnabled;
use engine::{validate, Graph, Registry};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check(graph: &Graph, registry: &Registry) {
    let validation = validate(graph, registry, &AllEnabled);
    let _ = validation.check_graph();
    let _ = validation.message();
    let once = graph.to_value();
    let again = Graph::from_value(&once).expect("a serialised graph parses");
    assert_eq!(again.to_value(), once, "serialised graph round-trips");
    let _ = graph.to_node_list();
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let registry = Registry::builtin();
    if let Ok(graph) = Graph::from_value(&json) {
        check(&graph, &registry);
        let mut copy = graph.clone();
        let _ = copy.insert_blueprint(&graph);
        check(&copy, &registry);
    }
    if let Ok(graph) = Graph::from_node_list(&json) {
        check(&graph, &registry);
    }
});
