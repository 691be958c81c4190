//! `/modules` (the module index: logic and action modules with their source, flags and enable
//! switch, filterable) and `/modules/<id>` (a module's parameters and the workflows using it).
//! Site admins only; triggers are on the Triggers page.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{ModuleDetail, ModuleRow};

#[server(endpoint = "modules/list")]
pub async fn load_modules(
    kind: String,
    source: String,
    blocking: String,
    enabled: String,
) -> Result<Vec<ModuleRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::module_pages::list(
                &state, &principal, &kind, &source, &blocking, &enabled,
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "modules/detail")]
pub async fn load_module(id: String) -> Result<ModuleDetail, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::module_pages::detail(&state, &principal, &id).await
        }
        .await,
    )
}

/// Switches a module on (`enable` = "1") or off.
#[server(endpoint = "modules/toggle")]
pub async fn toggle_module(module_id: String, enable: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::workflows::toggle_module(
                &state,
                &principal,
                &module_id,
                enable == "1",
                false,
            )
            .await
        }
        .await,
    )
}

#[component]
fn ModuleSwitch(id: String, enabled: bool, toggle: ServerAction<ToggleModule>) -> impl IntoView {
    let label = format!("{} {id}", if enabled { "Disable" } else { "Enable" });
    view! {
        <ActionForm action=toggle>
            <input type="hidden" name="module_id" value=id />
            <input type="hidden" name="enable" value=if enabled { "0" } else { "1" } />
            <button type="submit" class=if enabled { "toggle on" } else { "toggle" }
                aria-pressed=if enabled { "true" } else { "false" } aria-label=label>
                {if enabled { "On" } else { "Off" }}
            </button>
        </ActionForm>
    }
}

#[component]
pub fn ModulesPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |key: &str| query.with(|m| m.get(key).unwrap_or_default());
    let toggle = ServerAction::<ToggleModule>::new();
    let modules = Resource::new(
        move || {
            (
                q("type"),
                q("source"),
                q("blocking"),
                q("enabled"),
                toggle.version().get(),
            )
        },
        |(kind, source, blocking, enabled, _)| load_modules(kind, source, blocking, enabled),
    );
    let choice = move |key: &'static str, value: &'static str| move || q(key) == value;
    view! {
        <Title text="Modules" />
        <section class="panel" data-testid="modules">
            <h1>"Modules"</h1>
            <p class="muted">"Logic modules route, action modules act. A disabled module cannot be added to a workflow and is skipped when a workflow reaches it. Triggers are on the " <a href="/triggers">"Triggers"</a> " page."</p>
            <form method="get" action="/modules" class="inline-form" data-testid="module-filters">
                <label>"Type"
                    <select name="type" aria-label="Type">
                        <option value="" selected=choice("type", "")>"Any"</option>
                        <option value="logic" selected=choice("type", "logic")>"Logic"</option>
                        <option value="action" selected=choice("type", "action")>"Action"</option>
                    </select>
                </label>
                <label>"Source"
                    <select name="source" aria-label="Source">
                        <option value="" selected=choice("source", "")>"Any"</option>
                        <option value="built-in" selected=choice("source", "built-in")>"Built-in"</option>
                        <option value="misp-modules" selected=choice("source", "misp-modules")>"misp-modules"</option>
                        <option value="custom" selected=choice("source", "custom")>"Custom"</option>
                    </select>
                </label>
                <label>"Blocking"
                    <select name="blocking" aria-label="Blocking">
                        <option value="" selected=choice("blocking", "")>"Any"</option>
                        <option value="1" selected=choice("blocking", "1")>"Blocking"</option>
                        <option value="0" selected=choice("blocking", "0")>"Non-blocking"</option>
                    </select>
                </label>
                <label>"State"
                    <select name="enabled" aria-label="State">
                        <option value="" selected=choice("enabled", "")>"Any"</option>
                        <option value="1" selected=choice("enabled", "1")>"Enabled"</option>
                        <option value="0" selected=choice("enabled", "0")>"Disabled"</option>
                    </select>
                </label>
                <button type="submit">"Filter"</button>
            </form>
            <ActionResult value=toggle.value() success="Module saved." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match modules.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"No module matches."</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="grid" data-testid="module-table">
                                <thead><tr>
                                    <th scope="col">"Module"</th><th scope="col">"Type"</th><th scope="col">"Source"</th>
                                    <th scope="col">"Blocking"</th><th scope="col">"Core format"</th><th scope="col">"Version"</th>
                                    <th scope="col">"Used by"</th><th scope="col">"Enabled"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|m| view! {
                                        <tr data-testid=format!("module-{}", m.id)>
                                            <td>
                                                <a href=format!("/modules/{}", m.id)><strong>{m.name.clone()}</strong></a>
                                                <div class="muted"><code>{m.id.clone()}</code></div>
                                                <div class="muted small">{m.description.clone()}</div>
                                            </td>
                                            <td>{m.kind.clone()}</td>
                                            <td>{m.source.clone()}</td>
                                            <td>{if m.blocking { "yes" } else { "no" }}</td>
                                            <td>{if m.core_format { "yes" } else { "no" }}</td>
                                            <td>{m.version.clone()}</td>
                                            <td>{format!("{} workflow(s)", m.used_by)}</td>
                                            <td><ModuleSwitch id=m.id.clone() enabled=m.enabled toggle /></td>
                                        </tr>
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
pub fn ModulePage() -> impl IntoView {
    let params = use_params_map();
    let toggle = ServerAction::<ToggleModule>::new();
    let module = Resource::new(
        move || {
            (
                params.with(|p| p.get("id").unwrap_or_default()),
                toggle.version().get(),
            )
        },
        |(id, _)| load_module(id),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match module.await {
                    Ok(ModuleDetail { module: m, params, support_filters, workflows }) => view! {
                        <Title text=format!("Module {}", m.name) />
                        <section class="panel" data-testid="module-view">
                            <p><a href="/modules">"← Modules"</a></p>
                            <h1>{m.name.clone()}</h1>
                            <p>{m.description.clone()}</p>
                            <table class="facts"><tbody>
                                <tr><th scope="row">"Id"</th><td><code>{m.id.clone()}</code></td></tr>
                                <tr><th scope="row">"Type"</th><td>{m.kind.clone()}</td></tr>
                                <tr><th scope="row">"Source"</th><td>{m.source.clone()}</td></tr>
                                <tr><th scope="row">"Version"</th><td>{m.version.clone()}</td></tr>
                                <tr><th scope="row">"Blocking"</th><td>{if m.blocking { "yes" } else { "no" }}</td></tr>
                                <tr><th scope="row">"Core format"</th><td>{if m.core_format { "yes" } else { "no" }}</td></tr>
                                <tr><th scope="row">"Filtering conditions"</th><td>{if support_filters { "supported" } else { "no" }}</td></tr>
                                <tr><th scope="row">"Enabled"</th><td><ModuleSwitch id=m.id.clone() enabled=m.enabled toggle /></td></tr>
                            </tbody></table>
                            <ActionResult value=toggle.value() success="Module saved." />
                            <h2>"Parameters"</h2>
                            {if params.is_empty() {
                                view! { <p class="empty">"No parameters."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="grid" data-testid="param-table">
                                        <thead><tr>
                                            <th scope="col">"Id"</th><th scope="col">"Label"</th><th scope="col">"Type"</th>
                                            <th scope="col">"Default"</th><th scope="col">"Options"</th><th scope="col">"Jinja"</th>
                                        </tr></thead>
                                        <tbody>
                                            {params.into_iter().map(|p| view! {
                                                <tr>
                                                    <td><code>{p.id}</code></td><td>{p.label}</td><td>{p.kind}</td>
                                                    <td><code>{p.default}</code></td><td><code>{p.options}</code></td>
                                                    <td>{if p.jinja { "yes" } else { "no" }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h2>"Used by"</h2>
                            {if workflows.is_empty() {
                                view! { <p class="empty">"No workflow uses this module."</p> }.into_any()
                            } else {
                                view! {
                                    <ul data-testid="module-workflows">
                                        {workflows.into_iter().map(|w| view! {
                                            <li>{format!("#{} {} ", w.id, w.name)}<span class="muted">{format!("({})", w.trigger_id)}</span></li>
                                        }).collect_view()}
                                    </ul>
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
