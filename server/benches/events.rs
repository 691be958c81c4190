//! `events/add` of an event with 1,000 attributes, and `events/view` of it, through the real
//! router over HTTP on a temporary SQLite file (issue: MISP core objects, performance); the cost
//! of hooks on the write path and of the publish gate (issue: triggers).
//! Run: `cargo bench -p server --bench events`.
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

fn event(n: usize) -> Value {
    let attributes: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "ip-dst", "value": format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
                   "to_ids": true, "comment": "bench", "Tag": if i % 10 == 0 { json!([{"name": "tlp:white"}]) } else { json!([]) }})
        })
        .collect();
    json!({"info": "bench event", "distribution": "1", "Tag": [{"name": "tlp:green"}],
           "Attribute": attributes})
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = rt.block_on(common::spawn_sqlite());
    let body = serde_json::to_vec(&event(1_000)).expect("json");
    let add = |app: &common::TestApp, body: Vec<u8>| {
        let request = app
            .api
            .post(app.url("/events/add.json"))
            .header("authorization", common::ADMIN_KEY)
            .header("content-type", "application/json")
            .body(body);
        async move {
            let r = request.send().await.expect("send");
            assert_eq!(r.status(), 200);
            r.bytes().await.expect("body")
        }
    };
    let first: Value = serde_json::from_slice(&rt.block_on(add(&app, body.clone()))).expect("json");
    let id = first["Event"]["id"].as_str().expect("id").to_owned();

    let mut group = c.benchmark_group("events_1000_attributes");
    group.sample_size(20);
    group.bench_function("add", |b| b.to_async(&rt).iter(|| add(&app, body.clone())));
    let view_url = app.url(&format!("/events/view/{id}.json"));
    group.bench_function("view", |b| {
        b.to_async(&rt).iter(|| {
            let request = app
                .api
                .get(&view_url)
                .header("authorization", common::ADMIN_KEY);
            async move {
                let r = request.send().await.expect("send");
                assert_eq!(r.status(), 200);
                r.bytes().await.expect("body")
            }
        })
    });
    group.finish();

    // Hooks on the write path (issue: triggers): the cost of a trigger nobody listens to, and
    // `attributes/add` with and without an `attribute-after-save` workflow (its run happens in
    // the background; the answer does not wait for it).
    let mut group = c.benchmark_group("hooks");
    let listeners = app.state.workflows.listeners.clone();
    group.bench_function("listens_no_listener", |b| {
        b.iter(|| listeners.listens(std::hint::black_box("attribute-after-save")))
    });
    // Each variant adds to an event of its own, 1,000 attributes at the start, so that one
    // variant's additions do not make the next one's event bigger.
    let fresh_event = |app: &common::TestApp| {
        let ev: Value = serde_json::from_slice(&rt.block_on(add(app, body.clone()))).expect("json");
        ev["Event"]["id"].as_str().expect("id").to_owned()
    };
    let add_attribute = |app: &common::TestApp, event: &str, n: u64| {
        let request = app
            .api
            .post(app.url(&format!("/attributes/add/{event}.json")))
            .header("authorization", common::ADMIN_KEY)
            .json(&json!({"type": "ip-dst", "value": format!("172.16.{}.{}", n / 256 % 256, n % 256)}));
        async move {
            let r = request.send().await.expect("send");
            assert_eq!(r.status(), 200);
            r.bytes().await.expect("body")
        }
    };
    let counter = std::sync::atomic::AtomicU64::new(0);
    let next = || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Back to back, the store also carries each run the listener causes; paced (before each
    // request, not timed, the machine rests and the runs queued so far have ended), the request
    // pays only its own share: the write path's cost.
    let (app_ref, add_ref) = (&app, &add_attribute);
    let paced = |event: &str, iters: u64| {
        let numbers: Vec<u64> = (0..iters).map(|_| next()).collect();
        let event = event.to_owned();
        async move {
            let mut spent = std::time::Duration::ZERO;
            for n in numbers {
                settle(app_ref).await;
                let started = std::time::Instant::now();
                add_ref(app_ref, &event, n).await;
                spent += started.elapsed();
            }
            spent
        }
    };
    let events: Vec<String> = (0..4).map(|_| fresh_event(&app)).collect();
    group.sample_size(50);
    group.bench_function("attributes_add_no_listener", |b| {
        b.to_async(&rt)
            .iter(|| add_attribute(&app, &events[0], next()))
    });
    group.bench_function("attributes_add_paced_no_listener", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| paced(&events[1], iters))
    });
    rt.block_on(common::install_workflow(
        &app,
        "attribute-after-save",
        trigger_only("attribute-after-save"),
    ));
    group.bench_function("attributes_add_with_listener", |b| {
        b.to_async(&rt)
            .iter(|| add_attribute(&app, &events[2], next()))
    });
    group.bench_function("attributes_add_paced_with_listener", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| paced(&events[3], iters))
    });
    group.finish();

    // The same two paced measurements interleaved, so that both see the same machine: the
    // trigger is switched on and off between requests (not timed). Medians of the pairs.
    rt.block_on(interleaved(&app, "attributes/add paced", 300, || {
        add_attribute(&app, &events[3], next())
    }));
    // A bulk action: `events/add` of 1,000 attributes, which queues a run per attribute.
    rt.block_on(interleaved(
        &app,
        "events/add of 1,000 attributes",
        8,
        || add(&app, body.clone()),
    ));

    // `events/publish` without and with the publish gate (a blocking `event-publish` workflow:
    // IF tlp:red on the event or an attribute ⇒ stop), at 10 / 1,000 / 10,000 attributes
    // (issue: triggers). The events carry tlp:green / tlp:white, so the gate lets them through.
    let sizes = [10usize, 1_000, 10_000];
    let ids: Vec<String> = sizes
        .iter()
        .map(|n| {
            let body = serde_json::to_vec(&event(*n)).expect("json");
            let ev: Value = serde_json::from_slice(&rt.block_on(add(&app, body))).expect("json");
            ev["Event"]["id"].as_str().expect("id").to_owned()
        })
        .collect();
    // Making them fired `attribute-after-save` for each attribute (the hooks group's listener);
    // those runs would share the store with the publish requests.
    let started = std::time::Instant::now();
    let queued = rt.block_on(common::wait_no_open_jobs(&app.db));
    eprintln!(
        "jobs open once the publish group's events were made: {queued}, all done {:.1} s later",
        started.elapsed().as_secs_f64()
    );
    let publish = |app: &common::TestApp, id: &str| {
        let request = app
            .api
            .post(app.url(&format!("/events/publish/{id}.json")))
            .header("authorization", common::ADMIN_KEY)
            .json(&json!({}));
        async move {
            let r = request.send().await.expect("send");
            assert_eq!(r.status(), 200);
            r.bytes().await.expect("body")
        }
    };
    let mut group = c.benchmark_group("publish");
    group.sample_size(10);
    for gate in [false, true] {
        if gate {
            rt.block_on(common::install_workflow(
                &app,
                "event-publish",
                common::red_gate("event-publish", "Event Publish", true),
            ));
        }
        for (n, id) in sizes.iter().zip(&ids) {
            let name = format!("{}/{n}", if gate { "gate_on" } else { "gate_off" });
            group.bench_function(name, |b| b.to_async(&rt).iter(|| publish(&app, id)));
        }
    }
    group.finish();
}

/// Times `request` `pairs` times with the `attribute-after-save` trigger off and as often with it
/// on, switching it between requests (untimed) so that both variants see the same machine, each
/// request after [`settle`]; prints the medians. Leaves the trigger on and the queue drained.
async fn interleaved<R, F>(app: &common::TestApp, what: &str, pairs: usize, mut request: R)
where
    R: FnMut() -> F,
    F: std::future::Future,
{
    let switch = |on: bool| {
        common::post(
            app,
            "/servers/serverSettingsEdit/Plugin.Workflow_triggers_attribute-after-save",
            common::ADMIN_KEY,
            json!({"value": on}),
        )
    };
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        for on in [i % 2 == 0, i % 2 != 0] {
            assert_eq!(switch(on).await.status(), 200);
            settle(app).await;
            let started = std::time::Instant::now();
            request().await;
            let spent = started.elapsed();
            if on {
                with.push(spent)
            } else {
                without.push(spent)
            }
        }
    }
    assert_eq!(switch(true).await.status(), 200);
    settle(app).await;
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut without), median(&mut with));
    eprintln!(
        "{what}, interleaved, medians of {pairs}: no listener {a:?}, listening {b:?} ({:+.1} %)",
        (b.as_secs_f64() / a.as_secs_f64() - 1.0) * 100.0
    );
}

/// Before a paced request: a rest of the same length whatever the variant (a longer idle time
/// makes the next request slower by itself), then a check that no run is still open.
async fn settle(app: &common::TestApp) {
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    common::wait_no_open_jobs(&app.db).await;
}

/// A workflow holding only its (non-blocking) trigger.
fn trigger_only(id: &str) -> Value {
    let mut g = common::red_gate(id, id, false);
    g.as_object_mut().expect("graph").retain(|k, _| k == "1");
    g["1"]["outputs"] = json!({"output_1": {"connections": []}});
    g
}

criterion_group!(benches, bench);
criterion_main!(benches);
