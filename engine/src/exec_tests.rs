//! Executor tests: one per rule of spec §6 (and the debug / log contracts of §11, §12).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::*;
use crate::graph::Port;
use crate::module::{ModuleConfig, ModuleError};
use crate::services::fakes::{block_on, services, Recorder, SteppingClock};
use crate::services::WorkflowInfo;

/// Test action: appends its node id to `trace`; param `ok` = "0" fails, `error` raises.
struct Record {
    config: ModuleConfig,
}

impl Record {
    fn new(id: &str, blocking: bool) -> Self {
        let mut c = ModuleConfig::new(id, "Record", ModuleKind::Action);
        c.multiple_output_connection = true;
        c.blocking = blocking;
        Record { config: c }
    }
}

#[async_trait]
impl Module for Record {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }
    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        if let Value::Object(m) = data.raw_mut() {
            let trace = m.entry("trace").or_insert_with(|| json!([]));
            if let Value::Array(t) = trace {
                t.push(json!(ctx.node.id.0));
            }
        }
        if ctx.node.param("error").is_some() {
            return Err(ModuleError::Failed("boom".into()));
        }
        if ctx.node.param("ok") == Some(&json!("0")) {
            errors.push("record failed".into());
            return Ok(false);
        }
        Ok(true)
    }
}

fn registry() -> Arc<Registry> {
    let mut r = Registry::builtin();
    r.register(Arc::new(Record::new("record", false)))
        .expect("unique");
    r.register(Arc::new(Record::new("record-blocking", true)))
        .expect("unique");
    Arc::new(r)
}

fn wf(trigger: &str, debug: bool) -> WorkflowInfo {
    WorkflowInfo {
        id: 7,
        uuid: "u".into(),
        name: "Test".into(),
        trigger_id: trigger.into(),
        debug_enabled: debug,
    }
}

/// Builds a graph: nodes (id, module, params), edges (source, output port, target).
fn graph(reg: &Registry, nodes: &[(u64, &str, Value)], edges: &[(u64, &str, u64)]) -> Graph {
    let mut g = Graph::default();
    for (id, m, params) in nodes {
        let mut n = Node::new(NodeId(*id), m);
        n.params = crate::graph::KeyedValues::from_value(params);
        if let Some(c) = reg.get(m).map(|m| m.config()) {
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
        } else {
            n.inputs.ports.push(Port {
                name: "input_1".into(),
                extra: Default::default(),
            });
            n.outputs.ports.push(Port {
                name: "output_1".into(),
                extra: Default::default(),
            });
        }
        g.add_node(n).expect("unique");
    }
    for (s, p, t) in edges {
        g.connect(NodeId(*s), p, NodeId(*t), "input_1");
    }
    g
}

struct Harness {
    engine: Engine,
    rec: Arc<Recorder>,
}

fn harness() -> Harness {
    let rec = Arc::new(Recorder::default());
    Harness {
        engine: Engine::new(registry(), services(&rec)),
        rec,
    }
}

impl Harness {
    fn run(&self, trigger: &str, g: Graph, data: Value) -> RunReport {
        let p = self
            .engine
            .prepare(wf(trigger, false), g)
            .expect("valid graph");
        block_on(self.engine.execute(&p, RunInput::Normalized(data), None))
    }
}

fn trace(r: &RunReport) -> Vec<u64> {
    r.data["trace"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn ids(v: &[NodeId]) -> Vec<u64> {
    v.iter().map(|n| n.0).collect()
}

#[test]
fn s6_3_depth_first_preorder_outputs_and_connections_in_order() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!([])),
            (3, "record", json!([])),
            (4, "record", json!([])),
            (5, "record", json!([])),
        ],
        &[
            (1, "output_1", 2),
            (2, "output_1", 3),
            (2, "output_1", 5),
            (3, "output_1", 4),
        ],
    );
    let r = h.run("event-publish", g, json!({}));
    assert_eq!(trace(&r), vec![2, 3, 4, 5]);
    assert_eq!(ids(&r.walk.executed_nodes), vec![2, 3, 4, 5]);
    assert_eq!(r.outcome, Outcome::Success);
}

#[test]
fn s6_3_node_reached_twice_runs_twice() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!([])),
            (3, "record", json!([])),
            (4, "record", json!([])),
            (5, "record", json!([])),
        ],
        &[
            (1, "output_1", 2),
            (2, "output_1", 3),
            (2, "output_1", 4),
            (3, "output_1", 5),
            (4, "output_1", 5),
        ],
    );
    let r = h.run("event-publish", g, json!({}));
    assert_eq!(trace(&r), vec![2, 3, 5, 4, 5]);
}

#[test]
fn s6_3_edge_already_on_current_path_is_skipped() {
    // Validation refuses cycles; the walker still terminates on one.
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!([])),
            (3, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3), (3, "output_1", 2)],
    );
    assert!(h
        .engine
        .prepare(wf("event-publish", false), g.clone())
        .is_err());
    let p = Prepared {
        workflow: wf("event-publish", false),
        graph: g,
        validation: validate(&Graph::default(), &reg, &crate::services::AllEnabled),
        trigger: NodeId(1),
        trigger_blocking: true,
        trigger_core: true,
    };
    let r = block_on(h.engine.execute(&p, RunInput::Normalized(json!({})), None));
    assert_eq!(trace(&r), vec![2, 3, 2]);
}

#[test]
fn s6_3_if_takes_output_1_on_true_output_2_on_false() {
    let h = harness();
    let reg = registry();
    let nodes = [
        (1, "event-publish", json!([])),
        (2, "published-if", json!({"condition": "equals"})),
        (3, "record", json!([])),
        (4, "record", json!([])),
    ];
    let edges = [(1, "output_1", 2), (2, "output_1", 3), (2, "output_2", 4)];
    let r = h.run(
        "event-publish",
        graph(&reg, &nodes, &edges),
        json!({"Event": {"published": true}}),
    );
    assert_eq!(trace(&r), vec![3]);
    let r = h.run(
        "event-publish",
        graph(&reg, &nodes, &edges),
        json!({"Event": {"published": false}}),
    );
    assert_eq!(trace(&r), vec![4]);
    // Logic nodes are control nodes: not listed as executed.
    assert_eq!(ids(&r.walk.executed_nodes), vec![4]);
}

#[test]
fn s6_3_stop_execution_blocks_with_misp_wording() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (
                2,
                "tag-if",
                json!({"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]}),
            ),
            (3, "stop-execution", json!({"message": "tlp:red data"})),
            (4, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3), (2, "output_2", 4)],
    );
    let data = json!({"Event": {"_AttributeFlattened": [{"_allTags": [{"name": "tlp:red"}]}]}});
    let r = h.run("event-publish", g, data);
    assert!(!r.success);
    assert_eq!(r.outcome, Outcome::Blocked);
    assert_eq!(ids(&r.walk.blocking_nodes), vec![3]);
    assert_eq!(r.errors, vec!["Node `stop-execution` (3) from Workflow `Test` (7) returned the following error: tlp:red data".to_owned()]);
    assert!(h
        .rec
        .logs
        .lock()
        .map(|l| l
            .iter()
            .any(|r| r.message.starts_with("Execution stopped.")))
        .unwrap_or(false));
}

#[test]
fn s6_3_blocking_module_failure_stops_whole_walk_any_run_type() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-after-save", json!([])),
            (2, "record-blocking", json!({"ok": "0"})),
            (3, "record", json!([])),
            (4, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3), (2, "output_1", 4)],
    );
    let r = h.run("event-after-save", g, json!({}));
    assert!(!r.success);
    assert_eq!(
        r.outcome,
        Outcome::Failure,
        "failed, but not by stop-execution"
    );
    assert_eq!(trace(&r), vec![2]);
}

#[test]
fn s6_4_non_blocking_failure_on_non_blocking_path_skips_descendants() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-after-save", json!([])),
            (6, "record", json!([])),
            (2, "record", json!({"ok": "0"})),
            (3, "record", json!([])),
            (4, "record", json!([])),
            (5, "record", json!([])),
        ],
        &[
            (1, "output_1", 6),
            (6, "output_1", 2),
            (2, "output_1", 3),
            (3, "output_1", 4),
            (6, "output_1", 5),
        ],
    );
    let r = h.run("event-after-save", g, json!({}));
    assert!(r.success);
    assert_eq!(r.outcome, Outcome::Success);
    assert_eq!(trace(&r), vec![6, 2, 5]);
    let p = |v: &[u64]| v.iter().map(|n| NodeId(*n)).collect::<Vec<_>>();
    assert_eq!(
        r.walk.blocked_paths,
        vec![p(&[1, 6, 2, 3]), p(&[1, 6, 2, 3, 4])]
    );
    assert_eq!(r.errors.len(), 1);
}

#[test]
fn s6_4_non_blocking_failure_on_blocking_path_children_still_run() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!({"ok": "0"})),
            (3, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3)],
    );
    let r = h.run("event-publish", g, json!({}));
    assert!(r.success);
    assert_eq!(trace(&r), vec![2, 3]);
    let logs = h.rec.logs.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(logs.iter().any(|l| l
        .message
        .starts_with("Execution encountered an error but continued.")));
}

#[test]
fn s6_3_guards_disabled_unloadable_and_errors() {
    let h = harness();
    let reg = registry();
    if let Ok(mut d) = h.rec.disabled.lock() {
        d.insert("published-if".into());
    }
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "published-if", json!([])),
            (3, "record", json!([])),
            (4, "webhook", json!([])),
            (5, "record", json!({"error": true})),
        ],
        &[
            (1, "output_1", 2),
            (2, "output_2", 4),
            (4, "output_1", 5),
            (2, "output_1", 3),
        ],
    );
    let r = h.run("event-publish", g, json!({"Event": {"published": true}}));
    // Disabled IF ⇒ else branch, even though the event is published.
    assert_eq!(trace(&r), vec![5]);
    let status: Vec<(u64, NodeStatus)> = r.nodes.iter().map(|n| (n.node_id.0, n.status)).collect();
    assert_eq!(
        status,
        vec![
            (2, NodeStatus::DisabledModule),
            (4, NodeStatus::LoadingError),
            (5, NodeStatus::Error)
        ]
    );
    assert!(r
        .errors
        .iter()
        .any(|e| e.ends_with("Could not execute disabled module")));
    assert!(r
        .errors
        .iter()
        .any(|e| e.ends_with("Error while executing module record. Error: boom")));
    assert!(
        r.success,
        "non-blocking failures on a blocking path do not fail the run"
    );
}

#[test]
fn s6_3_roaming_data_is_shared_across_branches() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-after-save", json!([])),
            (6, "record", json!([])),
            (2, "record", json!([])),
            (
                3,
                "count-if",
                json!({"selector": "trace.{n}", "operator": "equals", "value": "2"}),
            ),
            (4, "record", json!([])),
        ],
        &[
            (1, "output_1", 6),
            (6, "output_1", 2),
            (6, "output_1", 3),
            (3, "output_1", 4),
        ],
    );
    let r = h.run("event-after-save", g, json!({}));
    // The second branch sees what the first one wrote.
    assert_eq!(trace(&r), vec![6, 2, 4]);
}

#[test]
fn s8_4_path_filters_during_a_walk_and_reset_restores_snapshot() {
    let h = harness();
    let reg = registry();
    let filter = json!({"filtering-label": "A", "selector": "Event._AttributeFlattened.{n}", "operator": "in_or",
        "value_list": ["md5"], "hash_path": "type"});
    let g = graph(
        &reg,
        &[
            (1, "event-after-save", json!([])),
            (2, "concurrent-task", json!([])),
            (3, "generic-filter-data", filter),
            (
                4,
                "count-if",
                json!({"selector": "Event._AttributeFlattened.{n}", "operator": "equals", "value": "1"}),
            ),
            (5, "record", json!([])),
            (6, "generic-filter-reset", json!({"filtering-label": "all"})),
            (
                7,
                "count-if",
                json!({"selector": "Event._AttributeFlattened.{n}", "operator": "equals", "value": "2"}),
            ),
            (8, "record", json!([])),
        ],
        &[
            (1, "output_1", 3),
            (3, "output_1", 4),
            (4, "output_1", 5),
            (5, "output_1", 6),
            (6, "output_1", 7),
            (7, "output_1", 8),
        ],
    );
    let data = json!({"Event": {"_AttributeFlattened": [{"type": "md5"}, {"type": "ip-src"}]}});
    let r = h.run("event-after-save", g, data);
    // Filter ⇒ 1 attribute seen (node 5 runs); the reset restores the first snapshot, which
    // discards what node 5 wrote (§17, kept as in MISP); then both attributes are back.
    assert!(r.nodes.iter().any(|n| n.node_id == NodeId(5)));
    assert_eq!(trace(&r), vec![8]);
    assert!(r.data.get("enabledFilters").is_none());
}

#[test]
fn s6_5_concurrent_task_queues_jobs_and_resume_walks_non_blocking() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "concurrent-task", json!([])),
            (3, "record", json!({"ok": "0"})),
            (4, "record", json!([])),
            (5, "record", json!([])),
        ],
        &[
            (1, "output_1", 2),
            (2, "output_1", 3),
            (2, "output_1", 5),
            (3, "output_1", 4),
        ],
    );
    let p = h
        .engine
        .prepare(wf("event-publish", false), g)
        .expect("valid");
    let r = block_on(h.engine.execute(
        &p,
        RunInput::Normalized(json!({"Event": {"id": "1"}})),
        None,
    ));
    assert_eq!(
        trace(&r),
        Vec::<u64>::new(),
        "nothing below a concurrent task runs in-process"
    );
    assert_eq!(r.jobs_queued, 2);
    let jobs = h.rec.jobs.lock().map(|j| j.clone()).unwrap_or_default();
    assert_eq!(
        jobs.iter().map(|j| j.start_node.0).collect::<Vec<_>>(),
        vec![3, 5]
    );
    assert_eq!(jobs[0].data, json!({"Event": {"id": "1"}}));
    // Job 1: node 3 fails on a non-blocking path ⇒ node 4 is skipped.
    let first = block_on(h.engine.resume(&p, jobs[0].clone(), None));
    assert_eq!(trace(&first), vec![3]);
    assert_eq!(first.walk.blocked_paths, vec![vec![NodeId(3), NodeId(4)]]);
    assert!(!first.counter_incremented);
    let second = block_on(h.engine.resume(&p, jobs[1].clone(), None));
    assert_eq!(
        second.job_message(NodeId(5)),
        "Workflow concurrent task executed 1 nodes starting from node 5."
    );
}

#[test]
fn s6_2_counter_normalisation_and_trigger_conditions() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (
                2,
                "tag-if",
                json!({"scope": "event_attribute", "tags": ["tlp:green"]}),
            ),
            (3, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3)],
    );
    let p = h
        .engine
        .prepare(wf("event-publish", false), g)
        .expect("valid");
    // Raw export-shape event: converted to core format, so `_allTags` exists for tag-if.
    let raw = json!({"Event": {"id": 1, "Tag": [{"name": "tlp:green"}], "Attribute": [{"id": 2, "value": "x"}]}});
    let r = block_on(h.engine.execute(&p, RunInput::Raw(raw), None));
    assert_eq!(trace(&r), vec![3]);
    assert_eq!(r.data["Event"]["id"], json!("1"));
    // Not convertible ⇒ failure, counter still incremented.
    let r = block_on(
        h.engine
            .execute(&p, RunInput::Raw(json!({"Log": {}})), None),
    );
    assert!(!r.success);
    assert_eq!(h.rec.counter.lock().map(|c| *c).unwrap_or(0), 2);

    let mut tag = Node::new(NodeId(1), "tag-attached-after-save");
    tag.module_type = Some("trigger".into());
    tag.outputs.ports.push(Port {
        name: "output_1".into(),
        extra: Default::default(),
    });
    tag.params = crate::graph::KeyedValues::from_value(
        &json!({"scope": "any", "locality": "any", "tag": "tlp:red"}),
    );
    let mut g = graph(&reg, &[(2, "record", json!([]))], &[]);
    g.add_node(tag).expect("unique");
    g.connect(NodeId(1), "output_1", NodeId(2), "input_1");
    let p = h
        .engine
        .prepare(wf("tag-attached-after-save", false), g)
        .expect("valid");
    let raw = json!({"Tag": {"name": "tlp:white", "event_id": "1"}, "Event": {"id": "1"}});
    let r = block_on(h.engine.execute(&p, RunInput::Raw(raw), None));
    assert!(!r.success);
    assert!(r
        .outcome_text
        .contains("Conditions on the trigger are not satisfied"));
    let raw = json!({"Tag": {"name": "tlp:red", "event_id": "1"}, "Event": {"id": "1"}});
    let r = block_on(h.engine.execute(&p, RunInput::Raw(raw), None));
    assert_eq!(trace(&r), vec![2]);
}

#[test]
fn s11_debug_reports_paths_and_body() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!({"ok": "0"})),
            (3, "stop-execution", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3)],
    );
    let p = h
        .engine
        .prepare(wf("event-publish", true), g)
        .expect("valid");
    let r = block_on(
        h.engine
            .execute(&p, RunInput::Raw(json!({"Event": {"id": "1"}})), None),
    );
    assert_eq!(r.outcome, Outcome::Blocked);
    let posts = h.rec.debug.lock().map(|d| d.clone()).unwrap_or_default();
    let paths: Vec<&str> = posts.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/init?type=blocking",
            "/exec/record?result=partial-success",
            "/exec/stop-execution?result=partial-success",
            "/end?outcome=blocked"
        ]
    );
    assert!(posts.iter().all(|(t, _, _)| t == "event-publish"));
    let (_, _, init) = &posts[0];
    assert_eq!(
        init["source"],
        json!({"node_id": "", "module_id": "", "filters": "", "parameters": ""})
    );
    assert!(init["data"].get("original").is_some() && init["data"].get("normalized").is_some());
    let (_, _, exec) = &posts[1];
    assert_eq!(exec["source"]["node_id"], json!(2));
    assert_eq!(exec["source"]["module_id"], json!("record"));
    assert_eq!(exec["errors"], json!(["record failed"]));
    assert!(exec["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with("+00:00")));
    let (_, _, end) = &posts[3];
    assert_eq!(end["data"]["blocking_nodes"], json!([3]));
    let logs = h.rec.logs.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(logs
        .iter()
        .any(|l| l.message == "Started executing workflow for trigger `event-publish` (7)"));
    assert!(logs.iter().any(|l| l.message
        == "Finished executing workflow for trigger `event-publish` (7). Outcome: blocked"));
}

#[test]
fn s12_without_debug_only_failures_are_logged() {
    let h = harness();
    let reg = registry();
    let g = graph(
        &reg,
        &[(1, "event-publish", json!([])), (2, "record", json!([]))],
        &[(1, "output_1", 2)],
    );
    let r = h.run("event-publish", g, json!({}));
    assert!(r.success);
    assert!(h.rec.logs.lock().map(|l| l.is_empty()).unwrap_or(false));
    assert!(h.rec.debug.lock().map(|d| d.is_empty()).unwrap_or(false));
}

#[test]
fn limits_node_budget_ends_run_with_clear_error() {
    let rec = Arc::new(Recorder::default());
    let engine = Engine::new(registry(), services(&rec)).with_limits(Limits {
        max_nodes: 2,
        max_duration: Duration::from_secs(60),
    });
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!([])),
            (3, "record", json!([])),
            (4, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3), (3, "output_1", 4)],
    );
    let p = engine
        .prepare(wf("event-publish", false), g)
        .expect("valid");
    let r = block_on(engine.execute(&p, RunInput::Normalized(json!({})), None));
    assert!(!r.success);
    assert_eq!(r.outcome, Outcome::Failure);
    assert_eq!(trace(&r), vec![2, 3]);
    assert!(r.errors.iter().any(|e| e.contains("more than 2 nodes")));
}

#[test]
fn limits_time_budget_ends_run_with_clear_error() {
    let rec = Arc::new(Recorder::default());
    let mut s = services(&rec);
    s.clock = Arc::new(SteppingClock {
        step: Duration::from_secs(1),
        now: Mutex::new(Duration::ZERO),
    });
    let engine = Engine::new(registry(), s).with_limits(Limits {
        max_nodes: 100,
        max_duration: Duration::from_secs(3),
    });
    let reg = registry();
    let g = graph(
        &reg,
        &[
            (1, "event-publish", json!([])),
            (2, "record", json!([])),
            (3, "record", json!([])),
            (4, "record", json!([])),
        ],
        &[(1, "output_1", 2), (2, "output_1", 3), (3, "output_1", 4)],
    );
    let p = engine
        .prepare(wf("event-publish", false), g)
        .expect("valid");
    let r = block_on(engine.execute(&p, RunInput::Normalized(json!({})), None));
    assert!(!r.success);
    assert!(r.errors.iter().any(|e| e.contains("exceeded")));
}

#[test]
fn prepare_refuses_invalid_graphs() {
    let h = harness();
    let reg = registry();
    let g = graph(&reg, &[(2, "record", json!([]))], &[]);
    let err = h
        .engine
        .prepare(wf("x", false), g)
        .err()
        .map(|v| v.message());
    assert_eq!(
        err.as_deref(),
        Some("Cannot save a workflow containing no or more than one trigger")
    );
}

#[test]
fn blueprint_fixture_runs_end_to_end() {
    let h = harness();
    let bp = crate::graph::tests::fixture(
        "blueprints/blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
    );
    let bpg = Graph::from_node_list(&bp["WorkflowBlueprint"]["data"]).expect("blueprint");
    let mut g = Graph::from_value(&crate::graph::tests::fixture(
        "workflows/workflow-data_event-publish_trigger-only.json",
    ))
    .expect("wf");
    let pairs = g.insert_blueprint(&bpg);
    let if_node = pairs.first().map(|(_, n)| *n).expect("if node");
    g.connect(NodeId(1), "output_1", if_node, "input_1");
    let p = h
        .engine
        .prepare(wf("event-publish", false), g)
        .expect("valid");
    let event =
        crate::graph::tests::fixture("events/workflow-roaming-data_core-format-sample.json");
    let r = block_on(
        h.engine
            .execute(&p, RunInput::Normalized(event.clone()), None),
    );
    assert_eq!(
        r.outcome,
        Outcome::Success,
        "sample has no PAP:RED / tlp:red"
    );
    let mut red = event;
    if let Some(Value::Array(tags)) = red.pointer_mut("/Event/_AttributeFlattened/0/_allTags") {
        tags.push(json!({"name": "PAP:RED"}));
    }
    let r = block_on(h.engine.execute(&p, RunInput::Normalized(red), None));
    assert_eq!(r.outcome, Outcome::Blocked);
}

/// §7 + §6.3: a run from raw data (core format built lazily, tag paths answered from the
/// attributes) ends exactly like a run on the eagerly converted data: same walk, errors and
/// final document, for every tag-if scope and condition, blocked or not.
#[test]
fn s7_lazy_core_format_runs_like_converted_data() {
    let h = harness();
    let reg = registry();
    let events = [
        crate::graph::tests::fixture("events/pymisp_57c4445b-c548-4654-af0b-4be3950d210f.json"),
        json!({"Event": {"id": 1, "EventTag": [{"Tag": {"id": 2, "name": "tlp:red"}}],
            "Object": [{"Attribute": [{"id": 3, "Tag": {"name": "tlp:white"}}]}, 4]}}),
        json!({"Event": {"Tag": "odd", "Attribute": [7, {"AttributeTag": [{"Tag": {"name": "1"}}]}]}}),
    ];
    for scope in ["event", "attribute", "event_attribute"] {
        for condition in ["in_or", "in_and", "not_in_or", "not_in_and", "equals"] {
            for tags in [json!(["tlp:red"]), json!(["tlp:white", "1"]), json!("")] {
                let g = graph(
                    &reg,
                    &[
                        (1, "event-publish", json!([])),
                        (
                            2,
                            "tag-if",
                            json!({"scope": scope, "condition": condition, "tags": tags}),
                        ),
                        (3, "stop-execution", json!({"message": "stop"})),
                        (4, "record", json!([])),
                    ],
                    &[(1, "output_1", 2), (2, "output_1", 3), (2, "output_2", 4)],
                );
                let p = h
                    .engine
                    .prepare(wf("event-publish", false), g)
                    .expect("valid");
                for raw in &events {
                    let built = crate::core_format::convert(raw.clone()).expect("convert");
                    let lazy = block_on(h.engine.execute(&p, RunInput::Raw(raw.clone()), None));
                    let eager = block_on(h.engine.execute(&p, RunInput::Normalized(built), None));
                    assert_eq!(lazy.outcome, eager.outcome, "{scope} {condition} {tags}");
                    assert_eq!(lazy.walk, eager.walk);
                    assert_eq!(lazy.errors, eager.errors);
                    assert_eq!(lazy.data, eager.data);
                    assert_eq!(lazy.data.into_value(), eager.data.into_value());
                }
            }
        }
    }
}

/// §15 `moduleStatelessExecution`: one module on supplied data, raw data converted to the core
/// format first (`convert_data`), the module's verdict and errors returned.
#[test]
fn s15_stateless_execution_runs_one_module_on_converted_data() {
    let h = harness();
    let raw = json!({"Event": {"id": 7, "info": "x", "Tag": [{"id": 1, "name": "tlp:red"}], "Attribute": []}});
    let params = json!({"scope": "event", "condition": "in_or", "tags": ["tlp:red"]});
    let r = block_on(
        h.engine
            .execute_module("tag-if", &params, RunInput::Raw(raw.clone()), None),
    )
    .expect("runs");
    assert!(r.success, "{:?}", r.errors);
    assert!(r.errors.is_empty());
    // Converted: ids as strings, extras built when read.
    assert_eq!(r.data["Event"]["id"], json!("7"));
    assert!(r.data["Event"].get("_AttributeFlattened").is_some());

    let other = json!({"scope": "event", "condition": "in_or", "tags": ["tlp:white"]});
    let r = block_on(
        h.engine
            .execute_module("tag-if", &other, RunInput::Raw(raw), None),
    )
    .expect("runs");
    assert!(!r.success);

    // Data used as given when not converted; a module error is reported, not raised.
    let r = block_on(h.engine.execute_module(
        "generic-if",
        &json!({"value": "x", "operator": "in", "hash_path": "Event.[unclosed"}),
        RunInput::Normalized(json!({"Event": {}})),
        None,
    ))
    .expect("runs");
    assert!(!r.success);
    assert!(
        r.errors[0].starts_with("Error while executing module generic-if"),
        "{:?}",
        r.errors
    );
}

/// §15 `moduleStatelessExecution`: unknown modules, triggers, malformed params and unconvertible
/// data are refused before anything runs; a disabled module does not run.
#[test]
fn s15_stateless_execution_refuses_unknown_trigger_disabled_and_bad_input() {
    let h = harness();
    let none = json!({});
    let err =
        block_on(
            h.engine
                .execute_module("nope", &none, RunInput::Normalized(json!({})), None),
        )
        .unwrap_err();
    assert_eq!(err, StatelessError::UnknownModule("nope".into()));
    let err = block_on(h.engine.execute_module(
        "event-publish",
        &none,
        RunInput::Normalized(json!({})),
        None,
    ))
    .unwrap_err();
    assert_eq!(err, StatelessError::Trigger("event-publish".into()));
    let err = block_on(h.engine.execute_module(
        "tag-if",
        &json!("x"),
        RunInput::Normalized(json!({})),
        None,
    ))
    .unwrap_err();
    assert_eq!(err, StatelessError::Params);
    let err = block_on(
        h.engine
            .execute_module("tag-if", &none, RunInput::Raw(json!([1])), None),
    )
    .unwrap_err();
    assert!(matches!(err, StatelessError::Data(_)), "{err:?}");

    h.rec.disabled.lock().expect("lock").insert("record".into());
    let r =
        block_on(
            h.engine
                .execute_module("record", &none, RunInput::Normalized(json!({})), None),
        )
        .expect("runs");
    assert!(!r.success);
    assert_eq!(
        r.errors,
        vec!["Could not execute disabled module".to_owned()]
    );
}
