//! Engine benchmarks (issue 3, item 13): the publish gate at 10 / 1,000 / 10,000 attributes, the
//! core-format build, hash-path extraction, validation of a 200-node graph, and the roaming-data
//! representation comparison (item 14). Events are generated here, shaped like
//! `shared/bench/payloads/gen.py`: 80 % of attributes at top level, 20 % inside objects.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde::Deserialize;
use serde_json::{json, Value};

use engine::graph::{KeyedValues, Port};
use engine::hashpath::HashPath;
use engine::{
    core_format, validate, Engine, Graph, Module, ModuleConfig, ModuleContext, ModuleError,
    ModuleKind, Node, NodeId, Outcome, Registry, RoamingData, RunInput, Services, WorkflowInfo,
};

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

fn quick(c: &mut Criterion) -> criterion::BenchmarkGroup<'_, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group("engine");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g
}

fn bench_publish_gate(c: &mut Criterion) {
    let reg = registry();
    let engine = Engine::new(reg.clone(), Services::noop());
    let wf = WorkflowInfo {
        id: 1,
        uuid: "u".into(),
        name: "gate".into(),
        trigger_id: "event-publish".into(),
        debug_enabled: false,
    };
    let prepared = engine
        .prepare(wf, publish_gate(&reg))
        .expect("valid publish gate");
    let mut group = quick(c);
    for n in [10usize, 1_000, 10_000] {
        for (kind, red) in [("white", false), ("red-attr", true)] {
            let raw = raw_event(n, red);
            let built = core_format::convert(raw.clone()).expect("core format");
            let expect = if red {
                Outcome::Blocked
            } else {
                Outcome::Success
            };
            let check =
                block_on(engine.execute(&prepared, RunInput::Normalized(built.clone()), None));
            assert_eq!(check.outcome, expect);
            group.bench_with_input(
                BenchmarkId::new(format!("publish_gate_walk/{kind}"), n),
                &built,
                |b, built| {
                    b.iter_batched(
                        || built.clone(),
                        |d| block_on(engine.execute(&prepared, RunInput::Normalized(d), None)),
                        BatchSize::LargeInput,
                    )
                },
            );
            group.bench_with_input(
                BenchmarkId::new(format!("publish_gate_with_core_format/{kind}"), n),
                &raw,
                |b, raw| {
                    b.iter_batched(
                        || raw.clone(),
                        |d| block_on(engine.execute(&prepared, RunInput::Raw(d), None)),
                        BatchSize::LargeInput,
                    )
                },
            );
        }
    }
    group.finish();
}

fn bench_core_format(c: &mut Criterion) {
    let mut group = quick(c);
    for n in [1_000usize, 10_000] {
        let raw = raw_event(n, false);
        group.bench_with_input(BenchmarkId::new("core_format_build", n), &raw, |b, raw| {
            b.iter_batched(|| raw.clone(), core_format::convert, BatchSize::LargeInput)
        });
        // The lazy form a run uses: `_allTags` / `_AttributeFlattened` deferred (see data.rs).
        group.bench_with_input(
            BenchmarkId::new("core_format_build_lazy", n),
            &raw,
            |b, raw| {
                b.iter_batched(
                    || raw.clone(),
                    RoamingData::core_format,
                    BatchSize::LargeInput,
                )
            },
        );
        // What a reader of the whole document (webhook body, Jinja, generic paths) then pays.
        group.bench_with_input(
            BenchmarkId::new("core_format_complete_lazy", n),
            &raw,
            |b, raw| {
                b.iter_batched(
                    || RoamingData::core_format(raw.clone()).expect("core format"),
                    RoamingData::into_value,
                    BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

fn bench_hash_path(c: &mut Criterion) {
    let built = core_format::convert(raw_event(10_000, false)).expect("core format");
    let mut group = quick(c);
    for path in [
        "Event._AttributeFlattened.{n}._allTags.{n}.name",
        "Event._AttributeFlattened.{n}[type=ip-dst].Tag.{n}[name=/^tlp:/i].name",
    ] {
        let compiled = HashPath::parse(path).expect("valid");
        group.bench_with_input(
            BenchmarkId::new("hash_path_extract_10000", path),
            &built,
            |b, d| b.iter(|| compiled.extract(d).len()),
        );
    }
    group.finish();
}

fn bench_validation(c: &mut Criterion) {
    let reg = registry();
    // A 200-node tree: trigger → IF chain, each IF's else branch to an action.
    let mut g = Graph::default();
    g.add_node(node(1, "event-publish", json!([]), &reg))
        .expect("unique");
    let mut prev = (1u64, "output_1");
    let mut id = 2u64;
    while id < 200 {
        g.add_node(node(
            id,
            "generic-if",
            json!({"operator": "in", "value": "x", "hash_path": "Event.Tag.{n}.name"}),
            &reg,
        ))
        .expect("unique");
        g.connect(NodeId(prev.0), prev.1, NodeId(id), "input_1");
        g.add_node(node(id + 1, "published-if", json!([]), &reg))
            .expect("unique");
        g.connect(NodeId(id), "output_2", NodeId(id + 1), "input_1");
        prev = (id, "output_1");
        id += 2;
    }
    g.add_node(node(200, "stop-execution", json!([]), &reg))
        .expect("unique");
    g.connect(NodeId(prev.0), prev.1, NodeId(200), "input_1");
    assert_eq!(g.nodes.len(), 200);
    let switches = engine::services::AllEnabled;
    assert!(validate(&g, &reg, &switches).is_valid());
    let mut group = quick(c);
    group.bench_function("validate_200_nodes", |b| {
        b.iter(|| validate(&g, &reg, &switches).is_valid())
    });
    let json = g.to_value();
    group.bench_function("graph_parse_200_nodes", |b| {
        b.iter(|| Graph::from_value(&json).map(|g| g.nodes.len()))
    });
    group.finish();
}

/// Item 14: parsing the raw bytes into `serde_json::Value` vs a typed, borrowing parse of only
/// what the publish gate reads (the `bench/limit` server's approach).
fn bench_representation(c: &mut Criterion) {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(rename = "Event", borrow)]
        event: Ev<'a>,
    }
    #[derive(Deserialize)]
    struct Ev<'a> {
        #[serde(rename = "Tag", default, borrow)]
        tags: Vec<Tag<'a>>,
        #[serde(rename = "Attribute", default, borrow)]
        attributes: Vec<Attr<'a>>,
        #[serde(rename = "Object", default, borrow)]
        objects: Vec<Obj<'a>>,
    }
    #[derive(Deserialize)]
    struct Obj<'a> {
        #[serde(rename = "Attribute", default, borrow)]
        attributes: Vec<Attr<'a>>,
    }
    #[derive(Deserialize)]
    struct Attr<'a> {
        #[serde(rename = "Tag", default, borrow)]
        tags: Vec<Tag<'a>>,
    }
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(borrow)]
        name: Cow<'a, str>,
    }
    let mut group = quick(c);
    for n in [1_000usize, 10_000] {
        let bytes = serde_json::to_vec(&raw_event(n, true)).expect("serialise");
        group.bench_with_input(BenchmarkId::new("parse_value", n), &bytes, |b, bytes| {
            b.iter(|| serde_json::from_slice::<Value>(bytes).map(|v| v.is_object()))
        });
        group.bench_with_input(
            BenchmarkId::new("parse_typed_borrowed", n),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    serde_json::from_slice::<Envelope<'_>>(bytes).map(|e| {
                        let red = |t: &Tag<'_>| t.name == "tlp:red";
                        e.event.tags.iter().any(red)
                            || e.event
                                .attributes
                                .iter()
                                .chain(e.event.objects.iter().flat_map(|o| o.attributes.iter()))
                                .any(|a| a.tags.iter().any(red))
                    })
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("parse_value_and_core_format", n),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    serde_json::from_slice::<Value>(bytes)
                        .ok()
                        .map(core_format::convert)
                        .map(|r| r.is_ok())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_publish_gate,
    bench_core_format,
    bench_hash_path,
    bench_validation,
    bench_representation
);
criterion_main!(benches);
