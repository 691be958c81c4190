//! Shared by the criterion benches and `examples/gate_profile.rs`: generated events (shaped like
//! `shared/bench/payloads/gen.py`: 80 % of attributes at top level, 20 % inside objects), the
//! publish-gate graph, a no-op webhook module and a minimal `block_on`.
#![allow(dead_code)]

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use async_trait::async_trait;
use serde_json::{json, Value};

use engine::graph::{KeyedValues, Port};
use engine::{
    Graph, Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, Node, NodeId, Registry,
    RoamingData,
};

/// Webhook stand-in: the bench measures the engine, not HTTP.
pub struct NoopWebhook {
    config: ModuleConfig,
}

#[async_trait]
impl Module for NoopWebhook {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }
    async fn run(
        &self,
        _: &ModuleContext<'_>,
        _: &mut RoamingData,
        _: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        Ok(true)
    }
}

pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct W(std::thread::Thread);
    impl Wake for W {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(W(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// A raw MISP event with `n` attributes; 10 % carry tlp:white; `red` puts tlp:red on the last one.
pub fn raw_event(n: usize, red: bool) -> Value {
    let attr = |i: usize| {
        let mut tags = vec![
            json!({"id": "3", "name": "PAP:AMBER", "colour": "#ffa800", "exportable": true, "local": 0}),
        ];
        if i.is_multiple_of(10) {
            tags.push(json!({"id": "4", "name": "tlp:white", "colour": "#ffffff", "exportable": true, "local": 0}));
        }
        if red && i == n - 1 {
            tags.push(json!({"id": "5", "name": "tlp:red", "colour": "#cc0033", "exportable": true, "local": 0}));
        }
        json!({"id": (1000 + i).to_string(), "type": "ip-dst", "category": "Network activity", "to_ids": true,
            "uuid": format!("5f1b2c3d-0000-4000-8000-{i:012}"), "event_id": "42", "distribution": "5",
            "timestamp": "1700000000", "comment": "generated", "sharing_group_id": "0", "deleted": false,
            "disable_correlation": false, "object_id": "0", "object_relation": null, "first_seen": null,
            "last_seen": null, "value": format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256), "Tag": tags})
    };
    let top = n * 4 / 5;
    let attributes: Vec<Value> = (0..top).map(attr).collect();
    let objects: Vec<Value> = (top..n)
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|c| json!({"id": c[0].to_string(), "name": "domain-ip", "distribution": "5", "sharing_group_id": "0",
            "Attribute": c.iter().map(|i| attr(*i)).collect::<Vec<_>>()}))
        .collect();
    json!({"Event": {"id": "42", "orgc_id": "1", "org_id": "1", "date": "2026-11-28", "threat_level_id": "2",
        "info": "bench event", "published": false, "uuid": "5f1b2c3d-0000-4000-8000-000000000000",
        "attribute_count": n.to_string(), "analysis": "1", "timestamp": "1700000000", "distribution": "1",
        "sharing_group_id": "0", "Orgc": {"id": "1", "name": "ORGNAME", "uuid": "5f1b2c3d-0000-4000-8000-00000000000a"},
        "Tag": [{"id": "1", "name": "tlp:green", "colour": "#339900", "exportable": true, "local": 0}],
        "Attribute": attributes, "Object": objects}})
}

pub fn node(id: u64, module: &str, params: Value, reg: &Registry) -> Node {
    let mut n = Node::new(NodeId(id), module);
    n.params = KeyedValues::from_value(&params);
    if let Some(c) = reg.get(module).map(|m| m.config()) {
        n.module_type = Some(c.kind.as_str().into());
        for i in 1..=c.inputs {
            n.inputs.ports.push(Port {
                name: format!("input_{i}"),
                extra: Default::default(),
            });
        }
        for o in 1..=c.outputs {
            n.outputs.ports.push(Port {
                name: format!("output_{o}"),
                extra: Default::default(),
            });
        }
    }
    n
}

pub fn registry() -> Arc<Registry> {
    let mut r = Registry::builtin();
    let mut c = ModuleConfig::new("webhook", "Webhook", ModuleKind::Action);
    c.version = "0.7".into();
    r.register(Arc::new(NoopWebhook { config: c }))
        .expect("unique id");
    Arc::new(r)
}

/// event-publish → IF::Tag tlp:red (event_attribute) → stop-execution; else → IF::Tag tlp:white
/// (attribute) → webhook.
pub fn publish_gate(reg: &Registry) -> Graph {
    let mut g = Graph::default();
    let nodes = [
        node(1, "event-publish", json!([]), reg),
        node(
            2,
            "tag-if",
            json!({"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]}),
            reg,
        ),
        node(3, "stop-execution", json!({"message": "tlp:red data"}), reg),
        node(
            4,
            "tag-if",
            json!({"scope": "attribute", "condition": "in_or", "tags": ["tlp:white"]}),
            reg,
        ),
        node(5, "webhook", json!({}), reg),
    ];
    for n in nodes {
        g.add_node(n).expect("unique");
    }
    g.connect(NodeId(1), "output_1", NodeId(2), "input_1");
    g.connect(NodeId(2), "output_1", NodeId(3), "input_1");
    g.connect(NodeId(2), "output_2", NodeId(4), "input_1");
    g.connect(NodeId(4), "output_1", NodeId(5), "input_1");
    g
}
