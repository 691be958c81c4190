//! Engine benchmarks (issue 3, item 13): the publish gate at 10 / 1,000 / 10,000 attributes, the
//! core-format build, hash-path extraction, validation of a 200-node graph, and the roaming-data
//! representation comparison (item 14). Events are generated here, shaped like
//! `shared/bench/payloads/gen.py`: 80 % of attributes at top level, 20 % inside objects.

use std::borrow::Cow;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde::Deserialize;
use serde_json::{json, Value};

use engine::hashpath::HashPath;
use engine::{
    core_format, validate, Engine, Graph, NodeId, Outcome, RoamingData, RunInput, Services,
    WorkflowInfo,
};

mod support;
use support::{block_on, node, publish_gate, raw_event, registry};

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
            // Inputs are made right before each run (`PerIteration`), as a server parses and
            // builds a hook's data right before running its workflow; `LargeInput` batches
            // would hand the walk data built ~10 events earlier and long evicted from the caches.
            //
            // The walk alone, on roaming data built as a run builds it
            // (`RoamingData::core_format`: the core format with its extras pending).
            group.bench_with_input(
                BenchmarkId::new(format!("publish_gate_walk/{kind}"), n),
                &raw,
                |b, raw| {
                    b.iter_batched(
                        || RoamingData::core_format(raw.clone()).expect("core format"),
                        |d| block_on(engine.execute(&prepared, RunInput::Data(d), None)),
                        BatchSize::PerIteration,
                    )
                },
            );
            // The walk alone, on the complete core-format document (`core_format::convert`:
            // `_allTags` / `_AttributeFlattened` built), as a caller passing a `Value` hands it.
            group.bench_with_input(
                BenchmarkId::new(format!("publish_gate_walk_complete/{kind}"), n),
                &built,
                |b, built| {
                    b.iter_batched(
                        || built.clone(),
                        |d| block_on(engine.execute(&prepared, RunInput::Normalized(d), None)),
                        BatchSize::PerIteration,
                    )
                },
            );
            // Build and walk: raw hook data in, verdict out.
            group.bench_with_input(
                BenchmarkId::new(format!("publish_gate_with_core_format/{kind}"), n),
                &raw,
                |b, raw| {
                    b.iter_batched(
                        || raw.clone(),
                        |d| block_on(engine.execute(&prepared, RunInput::Raw(d), None)),
                        BatchSize::PerIteration,
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
        // Flowgate's own path for a bare event (`engine::EventSource`): one validating pass
        // indexing the tag names and object spans, then the complete core-format document
        // written by copying the bytes (what the webhook sends).
        let shared = bytes::Bytes::from(bytes.clone());
        group.bench_with_input(BenchmarkId::new("index_source", n), &shared, |b, bytes| {
            b.iter(|| engine::EventSource::index(bytes).is_some())
        });
        group.bench_with_input(
            BenchmarkId::new("index_source_and_write_complete", n),
            &shared,
            |b, bytes| {
                b.iter(|| {
                    let src = engine::EventSource::index(bytes).expect("indexable");
                    let mut out = Vec::new();
                    src.write_complete(&mut out);
                    out.len()
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
