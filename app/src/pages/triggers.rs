//! `/triggers` (beside the JSON route `workflows/triggers`): every trigger with its scope, overhead (MISP's label and
//! the run time measured from the run log), run counter, blocking and core-format flags, its
//! workflow, and the enable and debug switches (plain forms before hydration). Site admins only.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::format::unix_time;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::TriggerRow;

#[server(endpoint = "triggers/list")]
pub async fn load_triggers(
    scope: String,
    enabled: String,
    blocking: String,
) -> Result<Vec<TriggerRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let flag = |v: &str| match v {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            };
            let filter = crate::backend::services::workflows::TriggerFilter {
                scope: (!scope.is_empty()).then_some(scope),
                enabled: flag(&enabled),
                blocking: flag(&blocking),
            };
            crate::backend::services::trigger_pages::rows(&state, &principal, &filter).await
        }
        .await,
    )
}

/// Turns a trigger on (`enable` = "1") or off.
#[server(endpoint = "triggers/toggle")]
pub async fn toggle_trigger(trigger_id: String, enable: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::workflows::toggle_module(
                &state,
                &principal,
                &trigger_id,
                enable == "1",
                true,
            )
            .await
        }
        .await,
    )
}

/// Turns debug mode of a workflow on (`enable` = "1") or off.
#[server(endpoint = "triggers/debug")]
pub async fn toggle_debug(workflow_id: String, enable: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::workflows::set_debug(
                &state,
                &principal,
                &workflow_id,
                enable == "1",
            )
            .await
        }
        .await,
    )
}

fn millis(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(ms) if ms < 10.0 => format!("{ms:.2} ms"),
        Some(ms) => format!("{ms:.0} ms"),
    }
}

#[component]
pub fn TriggersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |key: &str| query.with(|m| m.get(key).unwrap_or_default());
    let toggle = ServerAction::<ToggleTrigger>::new();
    let debug = ServerAction::<ToggleDebug>::new();
    let triggers = Resource::new(
        move || {
            (
                q("scope"),
                q("enabled"),
                q("blocking"),
                toggle.version().get(),
                debug.version().get(),
            )
        },
        |(scope, enabled, blocking, ..)| load_triggers(scope, enabled, blocking),
    );
    let choice = move |key: &'static str, value: &'static str| move || q(key) == value;
    view! {
        <Title text="Triggers" />
        <section class="panel" data-testid="triggers">
            <h1>"Triggers"</h1>
            <p class="muted">
                "A trigger runs the workflow bound to it when its action happens. Blocking triggers can
                 stop the action; the measured run time (p50 / p99 of the latest 1,000 runs) sits beside
                 MISP's overhead label."
            </p>
            <form method="get" action="/triggers" class="inline-form" data-testid="trigger-filters">
                <label>"Scope"
                    <select name="scope" aria-label="Scope">
                        <option value="" selected=choice("scope", "")>"Any"</option>
                        {["event", "attribute", "object", "tag", "sighting", "shadow-attribute", "event-report", "analyst-data", "user", "post", "log", "others"]
                            .into_iter()
                            .map(|s| view! { <option value=s selected=choice("scope", s)>{s}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>"State"
                    <select name="enabled" aria-label="State">
                        <option value="" selected=choice("enabled", "")>"Any"</option>
                        <option value="1" selected=choice("enabled", "1")>"Enabled"</option>
                        <option value="0" selected=choice("enabled", "0")>"Disabled"</option>
                    </select>
                </label>
                <label>"Blocking"
                    <select name="blocking" aria-label="Blocking">
                        <option value="" selected=choice("blocking", "")>"Any"</option>
                        <option value="1" selected=choice("blocking", "1")>"Blocking"</option>
                        <option value="0" selected=choice("blocking", "0")>"Non-blocking"</option>
                    </select>
                </label>
                <button type="submit">"Filter"</button>
            </form>
            <ActionResult value=toggle.value() success="Trigger saved." />
            <ActionResult value=debug.value() success="Debug mode saved." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match triggers.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"No trigger matches."</p> }.into_any(),
                        Ok(rows) => view! { <TriggerTable rows toggle debug /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TriggerTable(
    rows: Vec<TriggerRow>,
    toggle: ServerAction<ToggleTrigger>,
    debug: ServerAction<ToggleDebug>,
) -> impl IntoView {
    view! {
        <table class="grid" data-testid="trigger-table">
            <thead>
                <tr>
                    <th scope="col">"Trigger"</th>
                    <th scope="col">"Scope"</th>
                    <th scope="col">"Overhead"</th>
                    <th scope="col">"Run time p50 / p99"</th>
                    <th scope="col">"Runs"</th>
                    <th scope="col">"Blocking"</th>
                    <th scope="col">"Core format"</th>
                    <th scope="col">"Workflow"</th>
                    <th scope="col">"Last update"</th>
                    <th scope="col">"Enabled"</th>
                    <th scope="col">"Debug"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|t| {
                    let testid = format!("trigger-{}", t.id);
                    let (toggle_id, enabled) = (t.id.clone(), t.enabled);
                    let toggle_label = format!("{} {}", if enabled { "Disable" } else { "Enable" }, t.id);
                    let debug_label = format!("{} debug for {}", if t.debug { "Disable" } else { "Enable" }, t.id);
                    view! {
                        <tr data-testid=testid>
                            <td>
                                <strong>{t.name.clone()}</strong>
                                <div class="muted"><code>{t.id.clone()}</code></div>
                                <div class="muted small">{t.description.clone()}</div>
                                <a href=format!("/workflows/editor/{}", t.id) data-testid=format!("edit-{}", t.id)>"Edit workflow"</a>
                            </td>
                            <td>{t.scope.clone()}</td>
                            <td title=t.overhead_message.clone()>{t.overhead.clone()}</td>
                            <td>{format!("{} / {}", millis(t.p50_ms), millis(t.p99_ms))}</td>
                            <td>{t.counter.clone()}</td>
                            <td>{if t.blocking { "yes" } else { "no" }}</td>
                            <td>{if t.core_format { "yes" } else { "no" }}</td>
                            <td>
                                {match t.workflow_id.clone() {
                                    Some(id) => view! {
                                        <span>{format!("#{id} ")}</span>
                                        <a href=format!("/workflows/view/{id}.json") download=format!("workflow-{id}.json")>"Export"</a>
                                    }.into_any(),
                                    None => view! { <span class="muted">"none yet"</span> }.into_any(),
                                }}
                            </td>
                            <td>{unix_time(t.last_update)}</td>
                            <td>
                                <ActionForm action=toggle>
                                    <input type="hidden" name="trigger_id" value=toggle_id />
                                    <input type="hidden" name="enable" value=if enabled { "0" } else { "1" } />
                                    <button type="submit" class=if enabled { "toggle on" } else { "toggle" }
                                        aria-pressed=if enabled { "true" } else { "false" }
                                        aria-label=toggle_label>
                                        {if enabled { "On" } else { "Off" }}
                                    </button>
                                </ActionForm>
                            </td>
                            <td>
                                {match t.workflow_id.clone() {
                                    Some(id) => {
                                        let on = t.debug;
                                        view! {
                                            <ActionForm action=debug>
                                                <input type="hidden" name="workflow_id" value=id />
                                                <input type="hidden" name="enable" value=if on { "0" } else { "1" } />
                                                <button type="submit" class=if on { "toggle on" } else { "toggle" }
                                                    aria-pressed=if on { "true" } else { "false" }
                                                    aria-label=debug_label>
                                                    {if on { "On" } else { "Off" }}
                                                </button>
                                            </ActionForm>
                                        }.into_any()
                                    }
                                    None => view! { <span class="muted">"–"</span> }.into_any(),
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn run_times_read_well() {
        assert_eq!(millis(None), "–");
        assert_eq!(millis(Some(0.4321)), "0.43 ms");
        assert_eq!(millis(Some(153.7)), "154 ms");
    }
}
