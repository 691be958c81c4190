//! Profiling harness for the publish gate (README "Benchmarks"): times one operation many times
//! outside criterion, so that `perf record` and `valgrind --tool=callgrind` see only it.
//!
//! `cargo run --release -p engine --example gate_profile -- N WHAT ITERS`, WHAT one of
//! `extract` / `visit` (the `_allTags` path on built data, hot: same tree every time), `walk`
//! (execute on a fresh copy of the complete core format), `walk-lazy` (execute on
//! roaming data just built by `RoamingData::core_format`, extras pending), `full` (execute on
//! raw data, core format built lazily), `convert` (eager core format). Prints median and min.
//! Instruction counts of the walk alone:
//! `valgrind --tool=callgrind --toggle-collect='*Engine::execute*' target/release/examples/gate_profile 1000 walk 5`.

use engine::hashpath::HashPath;
use engine::{core_format, Engine, RunInput, Services, WorkflowInfo};
use std::time::Instant;
#[path = "../benches/support/mod.rs"]
mod support;
use support::{block_on, publish_gate, raw_event, registry};

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
            "walk-lazy" | "walk-lazy-red" => {
                let d = engine::RoamingData::core_format(raw.clone()).expect("cf");
                let t = Instant::now();
                let r = block_on(engine.execute(&prepared, RunInput::Data(d), None));
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
