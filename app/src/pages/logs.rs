//! `/logs` (workflow runs newest first, filtered by workflow, trigger, outcome and days, paged by
//! cursor so deep pages stay fast) and `/logs/<id>` (a run: its workflow's graph with each node
//! coloured by what it did, node times, errors and, for debug runs, each node's output). Site
//! admins only.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::format::unix_time;
use crate::components::graph::GraphView;
use crate::components::messages::ActionResult;
use crate::components::messages::ErrorPanel;
use crate::error::AppError;
use crate::model::{JobRow, RunDetail, RunList};

#[server(endpoint = "logs/list")]
pub async fn load_runs(
    workflow_id: String,
    trigger_id: String,
    outcome: String,
    from: String,
    to: String,
    before: String,
) -> Result<RunList, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::run_pages::list(
                &state,
                &principal,
                &workflow_id,
                &trigger_id,
                &outcome,
                &from,
                &to,
                &before,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "logs/detail")]
pub async fn load_run(id: String) -> Result<RunDetail, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::run_pages::detail(&state, &principal, &id).await
        }
        .await,
    )
}

/// Jobs of the durable queue (`status` empty: every unfinished one).
#[server(endpoint = "jobs/list")]
pub async fn load_jobs(status: String) -> Result<Vec<JobRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::jobs::list(&state, &principal, &status, 100).await
        }
        .await,
    )
}

#[server(endpoint = "jobs/retry")]
pub async fn retry_job(id: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::jobs::retry(&state, &principal, &id).await
        }
        .await,
    )
}

#[server(endpoint = "jobs/discard")]
pub async fn discard_job(id: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::jobs::discard(&state, &principal, &id).await
        }
        .await,
    )
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.0} ms")
    }
}

const FILTERS: [&str; 5] = ["workflow_id", "trigger_id", "outcome", "from", "to"];

#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |key: &str| query.with(|m| m.get(key).unwrap_or_default());
    let runs = Resource::new(
        move || {
            (
                q("workflow_id"),
                q("trigger_id"),
                q("outcome"),
                q("from"),
                q("to"),
                q("before"),
            )
        },
        |(w, t, o, f, to, b)| load_runs(w, t, o, f, to, b),
    );
    let choice = move |value: &'static str| move || q("outcome") == value;
    view! {
        <Title text="Logs" />
        <section class="panel" data-testid="logs">
            <h1>"Workflow runs"</h1>
            <form method="get" action="/logs" class="inline-form" data-testid="log-filters">
                <label>"Workflow id" <input type="text" name="workflow_id" inputmode="numeric" value=move || q("workflow_id") /></label>
                <label>"Trigger" <input type="text" name="trigger_id" value=move || q("trigger_id") placeholder="event-publish" /></label>
                <label>"Outcome"
                    <select name="outcome" aria-label="Outcome">
                        <option value="" selected=choice("")>"Any"</option>
                        <option value="success" selected=choice("success")>"Success"</option>
                        <option value="blocked" selected=choice("blocked")>"Blocked"</option>
                        <option value="failure" selected=choice("failure")>"Failure"</option>
                    </select>
                </label>
                <label>"From" <input type="date" name="from" value=move || q("from") /></label>
                <label>"To" <input type="date" name="to" value=move || q("to") /></label>
                <button type="submit">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(list) if list.rows.is_empty() => view! { <p class="empty">"No run matches."</p> }.into_any(),
                        Ok(RunList { rows, next }) => {
                            let older = next.map(|cursor| {
                                let mut parts: Vec<String> = FILTERS
                                    .iter()
                                    .filter_map(|k| query.with_untracked(|m| m.get(k)).filter(|v| !v.is_empty()).map(|v| format!("{k}={v}")))
                                    .collect();
                                parts.push(format!("before={cursor}"));
                                format!("/logs?{}", parts.join("&"))
                            });
                            view! {
                                <table class="grid" data-testid="run-table">
                                    <thead><tr>
                                        <th scope="col">"Run"</th><th scope="col">"Started"</th><th scope="col">"Trigger"</th>
                                        <th scope="col">"Workflow"</th><th scope="col">"Action"</th><th scope="col">"Outcome"</th>
                                        <th scope="col">"Duration"</th><th scope="col">"Errors"</th>
                                    </tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|r| view! {
                                            <tr data-testid=format!("run-{}", r.id)>
                                                <td><a href=format!("/logs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                                                <td>{unix_time(r.started_at)}</td>
                                                <td><code>{r.trigger_id.clone()}</code></td>
                                                <td>{format!("#{}", r.workflow_id)}</td>
                                                <td><code>{r.action.clone()}</code></td>
                                                <td><span class=format!("outcome {}", r.outcome)>{r.outcome.clone()}</span></td>
                                                <td>{ms(r.duration_ms)}</td>
                                                <td class="small">{r.errors.join(" · ")}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    <a href="/logs">"Newest"</a>
                                    {older.map(|href| view! { <a href=href rel="next">"Older runs →"</a> })}
                                </nav>
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <JobsPanel />
    }
}

/// Background jobs (concurrent-task branches) that are not done: queued, running, retrying
/// after a failure, or dead; a dead or retrying one can be queued again, any idle one discarded.
#[component]
fn JobsPanel() -> impl IntoView {
    let retry = ServerAction::<RetryJob>::new();
    let discard = ServerAction::<DiscardJob>::new();
    let jobs = Resource::new(
        move || (retry.version().get(), discard.version().get()),
        |_| load_jobs(String::new()),
    );
    view! {
        <section class="panel" data-testid="jobs">
            <h2>"Background jobs"</h2>
            <p class="muted">
                "Concurrent-task branches run as jobs kept in the database: a failed attempt is tried
                 again later (waiting longer each time), and after its last attempt the job is dead
                 until you retry or discard it."
            </p>
            <ActionResult value=retry.value() success="Job queued again." />
            <ActionResult value=discard.value() success="Job discarded." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"No job waiting, running or failed."</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="grid" data-testid="job-table">
                                <thead><tr>
                                    <th scope="col">"Job"</th><th scope="col">"Kind"</th><th scope="col">"State"</th>
                                    <th scope="col">"Attempts"</th><th scope="col">"Next attempt"</th>
                                    <th scope="col">"Last error"</th><th scope="col">"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|j| {
                                        let (retry_id, discard_id) = (j.id.clone(), j.id.clone());
                                        let (retry_label, discard_label) = (format!("Retry job {}", j.id), format!("Discard job {}", j.id));
                                        let can_retry = j.status == "dead" || j.status == "retrying";
                                        let can_discard = j.status != "running";
                                        view! {
                                            <tr data-testid=format!("job-{}", j.id)>
                                                <td>{format!("#{}", j.id)}<div class="muted small" title="Idempotency key">{j.idempotency_key.clone()}</div></td>
                                                <td><code>{j.kind.clone()}</code></td>
                                                <td><span class=format!("outcome {}", j.status)>{j.status.clone()}</span></td>
                                                <td>{format!("{} / {}", j.attempts, j.max_attempts)}</td>
                                                <td>{if j.status == "dead" { "–".to_owned() } else { unix_time(j.run_after) }}</td>
                                                <td class="small">{j.last_error.clone()}</td>
                                                <td>
                                                    {can_retry.then(|| view! {
                                                        <ActionForm action=retry>
                                                            <input type="hidden" name="id" value=retry_id />
                                                            <button type="submit" aria-label=retry_label>"Retry"</button>
                                                        </ActionForm>
                                                    })}
                                                    {can_discard.then(|| view! {
                                                        <ActionForm action=discard>
                                                            <input type="hidden" name="id" value=discard_id />
                                                            <button type="submit" class="danger" aria-label=discard_label>"Discard"</button>
                                                        </ActionForm>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn LogPage() -> impl IntoView {
    let params = use_params_map();
    let run = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        load_run,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(RunDetail { run: r, nodes, graph, edges }) => view! {
                        <Title text=format!("Run {}", r.id) />
                        <section class="panel" data-testid="run-view">
                            <p><a href="/logs">"← Logs"</a></p>
                            <h1>{format!("Run #{} of {}", r.id, r.trigger_id)}</h1>
                            <table class="facts"><tbody>
                                <tr><th scope="row">"Outcome"</th><td><span class=format!("outcome {}", r.outcome) data-testid="run-outcome">{r.outcome.clone()}</span></td></tr>
                                <tr><th scope="row">"Started"</th><td>{unix_time(r.started_at)}</td></tr>
                                <tr><th scope="row">"Duration"</th><td>{ms(r.duration_ms)}</td></tr>
                                <tr><th scope="row">"Workflow"</th><td>{format!("#{}", r.workflow_id)}</td></tr>
                                <tr><th scope="row">"Action"</th><td><code>{r.action.clone()}</code></td></tr>
                            </tbody></table>
                            {(!r.errors.is_empty()).then(|| view! {
                                <h2>"Errors"</h2>
                                <ul class="errors">{r.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                            })}
                            <h2>"Graph"</h2>
                            <div class="graph-box"><GraphView nodes=graph edges /></div>
                            <h2>"Nodes"</h2>
                            {if nodes.is_empty() {
                                view! { <p class="empty">"No node ran."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid" data-testid="run-nodes">
                                        <thead><tr>
                                            <th scope="col">"Node"</th><th scope="col">"Module"</th><th scope="col">"Status"</th>
                                            <th scope="col">"Duration"</th><th scope="col">"Errors"</th><th scope="col">"Output"</th>
                                        </tr></thead>
                                        <tbody>
                                            {nodes.into_iter().map(|n| view! {
                                                <tr>
                                                    <td>{n.node_id}</td><td><code>{n.module_id}</code></td>
                                                    <td><span class=format!("outcome {}", n.status)>{n.status.clone()}</span></td>
                                                    <td>{ms(n.duration_ms)}</td>
                                                    <td class="small">{n.errors.join(" · ")}</td>
                                                    <td>{if n.data.is_empty() {
                                                        view! { <span class="muted">"(debug off)"</span> }.into_any()
                                                    } else {
                                                        view! { <details><summary>"Data"</summary><pre class="report-body">{n.data}</pre></details> }.into_any()
                                                    }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
