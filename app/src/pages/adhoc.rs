//! `/workflows/adhoc` (beside the JSON route of the same address): ad-hoc workflows, started by
//! hand rather than by an action (spec §6.6). Lists them with their input scope and switch,
//! creates new ones (MISP: `workflows/add` with empty data), opens them in the editor, and runs
//! one on a JSON input. Site admins only.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::format::unix_time;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{AdhocRow, RunDetail};
use crate::pages::editor::RunWorkflowInput;
use crate::pages::triggers::ToggleTrigger;

#[server(endpoint = "adhoc/list")]
pub async fn load_adhoc() -> Result<Vec<AdhocRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::workflows::adhoc_rows(&state, &principal).await
        }
        .await,
    )
}

/// Creates an ad-hoc workflow; answers its id.
#[server(endpoint = "adhoc/create")]
pub async fn create_adhoc(name: String, description: String) -> Result<String, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let created = crate::backend::services::workflows::add_workflow(
                &state,
                &principal,
                crate::backend::services::workflows::AddWorkflow {
                    name: Some(name),
                    description: Some(description),
                    ..Default::default()
                },
            )
            .await?;
            Ok(crate::backend::services::input::value_text(
                &created["Workflow"],
                "id",
            ))
        }
        .await,
    )
}

#[component]
pub fn AdhocPage() -> impl IntoView {
    let create = ServerAction::<CreateAdhoc>::new();
    let toggle = ServerAction::<ToggleTrigger>::new();
    let rows = Resource::new(
        move || (create.version().get(), toggle.version().get()),
        |_| load_adhoc(),
    );
    view! {
        <Title text="Ad-hoc workflows" />
        <section class="panel" data-testid="adhoc">
            <h1>"Ad-hoc workflows"</h1>
            <p class="muted">
                "An ad-hoc workflow is not bound to an action: it runs when started by hand, by the
                 run-workflow module or through the API, on the data its trigger node asks for (data
                 passed in, events by id, or events found by filters)."
            </p>
            <ActionForm action=create attr:class="inline-form" attr:data-testid="create-adhoc-form">
                <label>"Name" <input type="text" name="name" required /></label>
                <label>"Description" <input type="text" name="description" /></label>
                <button type="submit" class="primary">"Create"</button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(id)) => view! {
                    <p class="flash success" role="status">
                        "Ad-hoc workflow created. "
                        <a href=format!("/workflows/editor/{id}") data-testid="new-adhoc-link">"Open it in the editor"</a>
                    </p>
                }.into_any(),
                Some(Err(e)) => view! { <p class="flash error" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionResult value=toggle.value() success="Workflow switched." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No ad-hoc workflow yet: create one above."</p>
                        }.into_any(),
                        Ok(list) => view! { <AdhocTable rows=list toggle /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AdhocTable(rows: Vec<AdhocRow>, toggle: ServerAction<ToggleTrigger>) -> impl IntoView {
    view! {
        <table class="grid" data-testid="adhoc-table">
            <thead>
                <tr>
                    <th scope="col">"Workflow"</th>
                    <th scope="col">"Input"</th>
                    <th scope="col">"Runs"</th>
                    <th scope="col">"Last update"</th>
                    <th scope="col">"Enabled"</th>
                    <th scope="col">"Run"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let enabled = r.enabled;
                    let label = format!("{} {}", if enabled { "Disable" } else { "Enable" }, r.trigger_id);
                    let (testid, trigger_id) = (format!("adhoc-{}", r.trigger_id), r.trigger_id.clone());
                    view! {
                        <tr data-testid=testid>
                            <td>
                                <a href=format!("/workflows/editor/{}", r.workflow_id)><strong>{r.name.clone()}</strong></a>
                                <div class="muted"><code>{r.trigger_id.clone()}</code>{format!(" · #{}", r.workflow_id)}</div>
                                <div class="muted small">{r.description.clone()}</div>
                            </td>
                            <td><code>{r.scope.clone()}</code></td>
                            <td>{r.counter.clone()}</td>
                            <td>{unix_time(r.timestamp)}</td>
                            <td>
                                <ActionForm action=toggle>
                                    <input type="hidden" name="trigger_id" value=trigger_id />
                                    <input type="hidden" name="enable" value=if enabled { "0" } else { "1" } />
                                    <button type="submit" class=if enabled { "toggle on" } else { "toggle" }
                                        aria-pressed=if enabled { "true" } else { "false" } aria-label=label>
                                        {if enabled { "On" } else { "Off" }}
                                    </button>
                                </ActionForm>
                            </td>
                            <td><RunForm workflow_id=r.workflow_id.clone() /></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Runs one ad-hoc workflow on a JSON input and shows the outcome.
#[component]
fn RunForm(workflow_id: String) -> impl IntoView {
    let run = ServerAction::<RunWorkflowInput>::new();
    let result = move || -> Option<Result<RunDetail, AppError>> { run.value().get() };
    view! {
        <ActionForm action=run attr:class="stack">
            <input type="hidden" name="id" value=workflow_id />
            <label>"Input (JSON)"
                <textarea name="input" rows="2">"{}"</textarea>
            </label>
            <button type="submit">"Run"</button>
        </ActionForm>
        {move || match result() {
            Some(Ok(r)) => view! {
                <p data-testid="adhoc-run-result">
                    <span class=format!("outcome {}", r.run.outcome)>{r.run.outcome.clone()}</span>
                    {format!(" {}", r.run.errors.join(" "))}
                    " "
                    <a href=format!("/logs/{}", r.run.id)>"Run log"</a>
                </p>
            }.into_any(),
            Some(Err(e)) => view! { <p class="flash error" role="alert">{e.to_string()}</p> }.into_any(),
            None => ().into_any(),
        }}
    }
}
