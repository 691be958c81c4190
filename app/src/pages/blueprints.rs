//! `/blueprints` (list, import MISP's export file, load the official set, delete) and
//! `/blueprints/<id>` (the graph, its Mermaid text, export). Site admins only.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::format::unix_time;
use crate::components::graph::GraphView;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{BlueprintDetail, BlueprintRow};

#[server(endpoint = "blueprints/list")]
pub async fn load_blueprints() -> Result<Vec<BlueprintRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::blueprint_pages::list(&state, &principal).await
        }
        .await,
    )
}

#[server(endpoint = "blueprints/detail")]
pub async fn load_blueprint(id: String) -> Result<BlueprintDetail, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::blueprint_pages::detail(&state, &principal, &id).await
        }
        .await,
    )
}

/// Imports the text of a MISP blueprint export file; answers the new blueprint's id.
#[server(endpoint = "blueprints/import")]
pub async fn import_blueprint(file: String) -> Result<String, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::blueprint_pages::import(&state, &principal, &file).await
        }
        .await,
    )
}

#[server(endpoint = "blueprints/delete")]
pub async fn delete_blueprint(id: String) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::blueprint_pages::delete(&state, &principal, &id).await
        }
        .await,
    )
}

#[server(endpoint = "blueprints/update")]
pub async fn update_official() -> Result<String, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::blueprint_pages::update_official(&state, &principal).await
        }
        .await,
    )
}

#[component]
pub fn BlueprintsPage() -> impl IntoView {
    let import = ServerAction::<ImportBlueprint>::new();
    let file_text = RwSignal::new(String::new());
    let delete = ServerAction::<DeleteBlueprint>::new();
    let update = ServerAction::<UpdateOfficial>::new();
    let rows = Resource::new(
        move || {
            (
                import.version().get(),
                delete.version().get(),
                update.version().get(),
            )
        },
        |_| load_blueprints(),
    );
    view! {
        <Title text="Blueprints" />
        <section class="panel" data-testid="blueprints">
            <h1>"Blueprints"</h1>
            <p class="muted">"Reusable parts of workflows. The official set ships with Flowgate; others are imported from MISP's export files or saved from a workflow."</p>
            <ActionForm action=update attr:class="inline-form">
                <button type="submit">"Load the official blueprints"</button>
            </ActionForm>
            {move || match update.value().get() {
                Some(Ok(message)) => view! { <p class="flash success" role="status">{message}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionResult value=delete.value() success="Blueprint deleted." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"No blueprints yet: load the official ones or import a file."</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="grid" data-testid="blueprint-table">
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Nodes"</th><th scope="col">"Official"</th>
                                    <th scope="col">"Updated"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|b| {
                                        let label = format!("Delete {}", b.name);
                                        view! {
                                            <tr data-testid=format!("blueprint-{}", b.uuid)>
                                                <td>
                                                    <a href=format!("/blueprints/{}", b.id)><strong>{b.name.clone()}</strong></a>
                                                    <div class="muted small">{b.description.clone()}</div>
                                                </td>
                                                <td>{b.nodes}</td>
                                                <td>{if b.default { "yes" } else { "no" }}</td>
                                                <td>{unix_time(b.timestamp)}</td>
                                                <td>
                                                    <a href=format!("/workflowBlueprints/export/{}", b.id)>"Export"</a>
                                                    <ActionForm action=delete attr:class="inline-form">
                                                        <input type="hidden" name="id" value=b.id.clone() />
                                                        <button type="submit" class="danger" aria-label=label>"Delete"</button>
                                                    </ActionForm>
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
        <section class="panel">
            <h2>"Import a blueprint"</h2>
            {move || match import.value().get() {
                Some(Ok(id)) => view! {
                    <p class="flash success" role="status">"Blueprint imported: " <a href=format!("/blueprints/{id}")>"open it"</a></p>
                }.into_any(),
                Some(Err(err)) => view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionForm action=import attr:class="stack" attr:data-testid="import-form">
                <label>"Choose MISP's export file"
                    <input type="file" accept=".json,application/json" data-testid="import-file"
                        on:change=move |ev| {
                            use leptos::wasm_bindgen::JsCast;
                            let file = ev
                                .target()
                                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
                                .and_then(|input| input.files())
                                .and_then(|files| files.get(0));
                            let Some(file) = file else { return };
                            let reading = wasm_bindgen_futures::JsFuture::from(file.text());
                            leptos::task::spawn_local(async move {
                                file_text.set(match reading.await {
                                    Ok(text) => text.as_string().unwrap_or_default(),
                                    Err(_) => String::new(),
                                });
                            });
                        } />
                </label>
                <label>"Export file (chosen above, or paste its content)"
                    <textarea name="file" rows="8" required prop:value=move || file_text.get()
                        on:input=move |ev| file_text.set(event_target_value(&ev))
                        placeholder="{\"WorkflowBlueprint\": {\"uuid\": …, \"name\": …, \"data\": [...]}}"></textarea>
                </label>
                <button type="submit" class="primary">"Import"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn BlueprintPage() -> impl IntoView {
    let params = use_params_map();
    let blueprint = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        load_blueprint,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match blueprint.await {
                    Ok(BlueprintDetail { blueprint: b, graph, edges, mermaid }) => view! {
                        <Title text=format!("Blueprint {}", b.name) />
                        <section class="panel" data-testid="blueprint-view">
                            <p><a href="/blueprints">"← Blueprints"</a></p>
                            <h1>{b.name.clone()}</h1>
                            <p>{b.description.clone()}</p>
                            <p class="muted"><code>{b.uuid.clone()}</code> " · " {format!("{} node(s)", b.nodes)} " · "
                                <a href=format!("/workflowBlueprints/export/{}", b.id)>"Export"</a></p>
                            <div class="graph-box"><GraphView nodes=graph edges /></div>
                            <details>
                                <summary>"Mermaid"</summary>
                                <pre class="report-body">{mermaid}</pre>
                            </details>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
