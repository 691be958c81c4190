//! §12 execution log: MISP's `workflow-execution.log` lines, and run-log retention.
mod common;

use app::backend::runtime::{RuntimeOptions, WorkflowRuntime};
use app::backend::store::runs::{insert_run, insert_runs, reserve_run_ids, NewRun, NewRunNode};
use app::backend::store::settings::upsert_setting;
use app::backend::AppState;
use common::{for_each_backend, ADMIN_EMAIL};
use serde_json::json;

fn run_at(started_at_us: i64) -> NewRun {
    NewRun {
        workflow_id: 1,
        trigger_id: "event-publish".into(),
        started_at_us,
        duration_us: 10,
        success: true,
        outcome: "success".into(),
        outcome_text: String::new(),
        user_id: 1,
        action: "test".into(),
        debug: false,
        walk: "{}".into(),
    }
}

/// Runs older than the retention days go; beyond the maximum count the oldest go; the rest stay.
#[tokio::test]
async fn prune_applies_retention_days_and_max_runs() {
    for_each_backend(|app| async move {
        let now_us = app::backend::now() * 1_000_000;
        let day = 86_400_000_000i64;
        for age_days in [40, 35, 3, 2, 1] {
            insert_run(&app.db, run_at(now_us - age_days * day), vec![])
                .await
                .unwrap();
        }
        let deleted = app::backend::services::runs::prune_runs(&app.db)
            .await
            .unwrap();
        assert_eq!(deleted, 2, "30-day default retention");

        upsert_setting(&app.db, "Plugin.Workflow_log_max_runs", &json!(2))
            .await
            .unwrap();
        let deleted = app::backend::services::runs::prune_runs(&app.db)
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        use sea_orm::{EntityTrait, PaginatorTrait};
        let left = app::backend::entities::workflow_run::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(left.len(), 2);
        assert!(left
            .iter()
            .all(|r| r.started_at >= now_us - 2 * day - 1_000_000));
        assert_eq!(
            app::backend::entities::workflow_run::Entity::find()
                .count(&app.db)
                .await
                .unwrap(),
            2
        );
    })
    .await;
}

/// A blocked run writes MISP's file line `[date] Workflow(<trigger>:<id>). Execution stopped. …`.
#[tokio::test]
async fn blocked_runs_write_the_execution_log_file() {
    let app = common::spawn_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("logs/workflow-execution.log");
    let runtime = WorkflowRuntime::start(
        &app.db,
        RuntimeOptions {
            execution_log: Some(file.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let state = AppState {
        db: app.db.clone(),
        read_db: app.state.read_db.clone(),
        workflows: std::sync::Arc::new(runtime),
        leptos_options: std::sync::Arc::new(common::leptos_options()),
        login_throttle: Default::default(),
        principals: Default::default(),
    };
    let admin = app.principal(ADMIN_EMAIL).await;
    let graph = json!({
        "1": {"id": 1, "data": {"id": "event-publish", "module_type": "trigger", "indexed_params": []}, "inputs": [],
              "outputs": {"output_1": {"connections": [{"node": "2", "output": "input_1"}]}}},
        "2": {"id": 2, "data": {"id": "stop-execution", "module_type": "action", "indexed_params": {"message": "stopped by test"}},
              "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}}, "outputs": []}
    });
    let added = app::backend::services::workflows::add_workflow(
        &state,
        &admin,
        app::backend::services::workflows::AddWorkflow {
            trigger_id: Some("event-publish".into()),
            data: Some(graph),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
    let result = app::backend::services::workflows::execute_workflow(
        &state,
        &admin,
        &id,
        json!({"Event": {"id": "1"}}),
    )
    .await
    .unwrap();
    assert_eq!(result["outcome"], "blocked");

    let expected = format!("Workflow(event-publish:{id}). Execution stopped.");
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains(&expected) {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = text
        .lines()
        .find(|l| l.contains(&expected))
        .unwrap_or_else(|| panic!("no line in {text:?}"));
    assert!(
        line.starts_with('[') && line.as_bytes()[20] == b']',
        "{line}"
    );
    assert!(line.contains("stopped by test"), "{line}");
}

/// A batch of runs keeps each run's nodes: each run gets its own id and exactly its own nodes, in
/// order, on both stores, also across the 1,000-row limit of a node statement. Nodes without
/// captured data are kept in their run's row, those of a run with captured data in rows of their
/// own; both read back the same way.
#[tokio::test]
async fn a_batch_of_runs_keeps_each_runs_nodes() {
    for_each_backend(|app| async move {
        use app::backend::entities::workflow_run_node;
        use app::backend::store::runs::find_run;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let node = |run: usize, seq: usize, debug: bool| NewRunNode {
            node_id: i32::try_from(seq).unwrap(),
            module_id: format!("m-{run}-{seq}"),
            status: "success".into(),
            duration_us: 1,
            errors: if seq == 1 {
                vec![format!("error \"{run}\"")]
            } else {
                Vec::new()
            },
            data: debug.then(|| format!("{{\"seq\": {seq}}}")),
        };
        // Node counts straddle the statement limit: 0, 3, 1,200 (debug), 2 (debug), 1.
        let counts = [
            (0usize, false),
            (3, false),
            (1_200, true),
            (2, true),
            (1, false),
        ];
        let batch: Vec<_> = counts
            .iter()
            .enumerate()
            .map(|(run, &(n, debug))| {
                let mut r = run_at(1_000 + i64::try_from(run).unwrap());
                r.action = format!("run-{run}");
                r.debug = debug;
                (
                    r,
                    (0..n).map(|seq| node(run, seq, debug)).collect::<Vec<_>>(),
                )
            })
            .collect();
        insert_run(&app.db, run_at(1), vec![node(99, 0, false)])
            .await
            .unwrap();
        let ids = reserve_run_ids(&app.db, 5).await.unwrap();
        assert_eq!(ids.len(), counts.len());
        let batch = ids
            .iter()
            .zip(batch)
            .map(|(&id, (run, nodes))| (id, run, nodes))
            .collect();
        insert_runs(&app.db, batch).await.unwrap();
        for (run, (&id, &(n, debug))) in ids.iter().zip(&counts).enumerate() {
            let (row, nodes) = find_run(&app.db, id).await.unwrap().unwrap();
            assert_eq!(row.action, format!("run-{run}"));
            assert_eq!(
                row.nodes.is_none(),
                debug,
                "run {run} keeps its nodes inline"
            );
            let rows = workflow_run_node::Entity::find()
                .filter(workflow_run_node::Column::RunId.eq(id))
                .count(&app.db)
                .await
                .unwrap();
            assert_eq!(
                rows,
                if debug { n as u64 } else { 0 },
                "node rows of run {run}"
            );
            let modules: Vec<&str> = nodes.iter().map(|n| n.module_id.as_str()).collect();
            let want: Vec<String> = (0..n).map(|seq| format!("m-{run}-{seq}")).collect();
            assert_eq!(modules, want, "nodes of run {run}");
            for (seq, got) in nodes.iter().enumerate() {
                assert_eq!(got.seq, i32::try_from(seq).unwrap());
                let errors: Vec<String> = serde_json::from_str(&got.errors).unwrap();
                let want: Vec<String> = node(run, seq, debug).errors;
                assert_eq!(errors, want, "errors of node {seq} of run {run}");
                assert_eq!(got.data, node(run, seq, debug).data);
            }
        }
    })
    .await;
}

/// Run ids taken ahead are unique: two blocks never overlap, and a row the database numbers
/// itself (no id given) gets none of them, also when the blocks were taken on an empty run table;
/// on both stores.
#[tokio::test]
async fn reserved_run_ids_are_never_handed_out_twice() {
    for_each_backend(|app| async move {
        use app::backend::entities::workflow_run;
        use sea_orm::{ActiveModelTrait, Set};
        use std::collections::HashSet;
        // A row numbered by the database itself, as any insert without an id would be.
        let numbered_by_the_store = |action: &'static str| {
            let db = app.db.clone();
            async move {
                workflow_run::ActiveModel {
                    workflow_id: Set(1),
                    trigger_id: Set("event-publish".into()),
                    started_at: Set(1),
                    duration_us: Set(1),
                    success: Set(true),
                    outcome: Set("success".into()),
                    outcome_text: Set(String::new()),
                    user_id: Set(1),
                    action: Set(action.into()),
                    debug: Set(false),
                    walk: Set("{}".into()),
                    ..Default::default()
                }
                .insert(&db)
                .await
                .unwrap()
                .id
            }
        };
        let first = reserve_run_ids(&app.db, 3).await.unwrap();
        assert_eq!(first.len(), 3);
        let auto = numbered_by_the_store("auto-1").await;
        let second = reserve_run_ids(&app.db, 5).await.unwrap();
        assert_eq!(second.len(), 5);
        let mut all: HashSet<i64> = first.iter().chain(&second).copied().collect();
        assert_eq!(all.len(), 8, "{first:?} {second:?}");
        assert!(all.insert(auto), "{auto} was reserved already: {first:?}");
        // A reserved id is used as it is; the store's next own number is still fresh.
        insert_runs(&app.db, vec![(second[0], run_at(2), vec![])])
            .await
            .unwrap();
        let auto = numbered_by_the_store("auto-2").await;
        assert!(
            all.insert(auto),
            "{auto} was handed out already: {second:?}"
        );
        assert!(reserve_run_ids(&app.db, 0).await.unwrap().is_empty());
    })
    .await;
}
