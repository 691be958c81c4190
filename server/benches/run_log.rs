//! Run-log queries at 1,000,000 runs (issue: "pages and filters in under 100 ms").
//!
//! Seeds a SQLite file once (kept under `target/bench-data/`, reused by later runs) with a
//! million runs spread over 20 workflows/triggers and three outcomes, then measures the queries
//! the Logs page and `GET /workflows/logs` make. Run: `cargo bench -p server --bench run_log`.
use std::time::Instant;

use app::backend::store::runs::{list_runs, RunFilter};
use criterion::{criterion_group, criterion_main, Criterion};
use sea_orm::{ConnectionTrait, DatabaseConnection};

const RUNS: i64 = 1_000_000;
const BATCH: i64 = 2_000;
const T0: i64 = 1_700_000_000_000_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn seeded() -> DatabaseConnection {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-data");
    std::fs::create_dir_all(dir).expect("bench folder");
    let path = format!("{dir}/run-log-{RUNS}.db");
    let fresh = !std::path::Path::new(&path).exists();
    let db =
        server::db::connect_and_migrate(&format!("sqlite://{path}?mode=rwc"), Default::default())
            .await
            .expect("db");
    if fresh {
        let started = Instant::now();
        for batch in 0..RUNS / BATCH {
            let mut sql = String::from(
                "INSERT INTO workflow_runs (workflow_id, trigger_id, started_at, duration_us, success, outcome, outcome_text, user_id, action, debug, walk) VALUES ",
            );
            for i in 0..BATCH {
                let n = batch * BATCH + i;
                let wf = n % 20 + 1;
                let outcome = match n % 10 {
                    0 => "blocked",
                    1 => "failure",
                    _ => "success",
                };
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({wf}, 'trigger-{wf}', {}, {}, {}, '{outcome}', '', 1, 'executeWorkflow', 0, '{{}}')",
                    T0 + n * 1_000,
                    50 + n % 400,
                    i32::from(outcome == "success"),
                ));
            }
            db.execute_unprepared(&format!("BEGIN; {sql}; COMMIT;"))
                .await
                .expect("seed");
        }
        db.execute_unprepared("ANALYZE").await.expect("analyze");
        eprintln!(
            "seeded {RUNS} runs in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    db
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let db = rt.block_on(seeded());
    let mut group = c.benchmark_group("run_log_1m");
    // Seed pattern: run n belongs to workflow n % 20 + 1 and is blocked when n % 10 == 0,
    // failed when n % 10 == 1; every case below matches at least one page of runs.
    let cases: Vec<(&str, RunFilter)> = vec![
        ("newest_page", RunFilter::default()),
        (
            "by_workflow",
            RunFilter {
                workflow_id: Some(7),
                ..Default::default()
            },
        ),
        (
            "by_trigger",
            RunFilter {
                trigger_id: Some("trigger-7".into()),
                ..Default::default()
            },
        ),
        (
            "by_outcome_blocked",
            RunFilter {
                outcome: Some("blocked".into()),
                ..Default::default()
            },
        ),
        (
            "time_range_last_hour_of_data",
            RunFilter {
                from_us: Some(T0 + (RUNS - 3_600_000) * 1_000 / 1_000),
                ..Default::default()
            },
        ),
        (
            "deep_cursor_page",
            RunFilter {
                before: Some((T0 + 1_000 * 10_000, i64::MAX)),
                ..Default::default()
            },
        ),
        (
            "workflow_and_outcome",
            RunFilter {
                workflow_id: Some(2),
                outcome: Some("failure".into()),
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in cases {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let rows = list_runs(&db, &filter, 50).await.expect("query");
                assert!(!rows.is_empty());
                rows
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
