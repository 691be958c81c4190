//! Profiling harness for the publish gate (README "Benchmarks"): times one operation many times
//! outside criterion, so that `perf record` and `valgrind --tool=callgrind` see only it.
//!
//! `cargo run --release -p engine --example gate_profile -- N WHAT ITERS`, WHAT one of
//! `extract` / `visit` (the `_allTags` path on built data, hot: same tree every time), `walk`
//! (execute on a fresh copy of built data, cold like the criterion bench), `full` (execute on
//! raw data, core format built lazily), `convert` (eager core format). Prints median and min.
//! Instruction counts of the walk alone:
//! `valgrind --tool=callgrind --toggle-collect='*Engine::execute*' target/release/examples/gate_profile 1000 walk 5`.

use async_trait::async_trait;
use engine::graph::{KeyedValues, Port};
use engine::hashpath::HashPath;
use engine::{
    core_format, Engine, Graph, Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, Node,
    NodeId, Registry, RoamingData, RunInput, Services, WorkflowInfo,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;
/// Webhook stand-in: the bench measures the engine, not HTTP.
struct NoopWebhook {
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

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
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
fn raw_event(n: usize, red: bool) -> Value {
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

fn node(id: u64, module: &str, params: Value, reg: &Registry) -> Node {
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

fn registry() -> Arc<Registry> {
    let mut r = Registry::builtin();
    let mut c = ModuleConfig::new("webhook", "Webhook", ModuleKind::Action);
    c.version = "0.7".into();
    r.register(Arc::new(NoopWebhook { config: c }))
        .expect("unique id");
    Arc::new(r)
}

/// event-publish → IF::Tag tlp:red (event_attribute) → stop-execution; else → IF::Tag tlp:white
/// (attribute) → webhook.
fn publish_gate(reg: &Registry) -> Graph {
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let what = args.get(2).cloned().unwrap_or_else(|| "all".into());
    let iters: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let reg = registry();
    let engine = Engine::new(reg.clone(), Services::noop());
    let wf = WorkflowInfo {
        id: 1,
        uuid: "u".into(),
        name: "gate".into(),
        trigger_id: "event-publish".into(),
        debug_enabled: false,
    };
    let prepared = engine.prepare(wf, publish_gate(&reg)).expect("valid");
    let raw = raw_event(n, what.ends_with("-red"));
    let built = core_format::convert(raw.clone()).expect("cf");
    let p = HashPath::parse("Event._AttributeFlattened.{n}._allTags.{n}.name").expect("valid path");
    let mut times = Vec::new();
    for _ in 0..iters {
        match what.as_str() {
            "extract" => {
                let t = Instant::now();
                std::hint::black_box(p.extract(&built).len());
                times.push(t.elapsed());
            }
            "visit" => {
                let t = Instant::now();
                let mut c = 0usize;
                let _ = p.visit(&built, &mut |_| {
                    c += 1;
                    std::ops::ControlFlow::Continue(())
                });
                std::hint::black_box(c);
                times.push(t.elapsed());
            }
            "walk" => {
                let d = built.clone();
                let t = Instant::now();
                let r = block_on(engine.execute(&prepared, RunInput::Normalized(d), None));
                times.push(t.elapsed());
                drop(r);
            }
            "full" | "full-red" => {
                let d = raw.clone();
                let t = Instant::now();
                let r = block_on(engine.execute(&prepared, RunInput::Raw(d), None));
                times.push(t.elapsed());
                drop(r);
            }
            "convert" => {
                let d = raw.clone();
                let t = Instant::now();
                let r = core_format::convert(d);
                times.push(t.elapsed());
                drop(r);
            }
            _ => {}
        }
    }
    times.sort();
    println!(
        "{what} n={n} median {:?} min {:?}",
        times[times.len() / 2],
        times[0]
    );
}
