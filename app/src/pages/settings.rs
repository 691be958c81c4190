//! `/settings`: the workflow settings of spec §16 and the ones Flowgate adds (outbound rules,
//! SMTP, ZeroMQ, module servers), each saved on its own with the server's validation message
//! next to it. Secrets are write-only. Site admins only.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::messages::ErrorPanel;
use crate::error::AppError;
use crate::model::SettingRow;

#[server(endpoint = "settings/list")]
pub async fn load_settings() -> Result<Vec<SettingRow>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::settings::setting_rows(&state, &principal).await
        }
        .await,
    )
}

/// Saves one setting; `value` is absent for an unticked checkbox. An empty secret keeps the
/// stored one.
#[server(endpoint = "settings/save")]
pub async fn save_setting(name: String, value: Option<String>) -> Result<String, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::settings;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            if settings::is_secret(&name) && value.as_deref().is_none_or(str::is_empty) {
                principal.require_site_admin_writer()?;
                return Ok(format!("{name} unchanged."));
            }
            let json = settings::form_value(&state, &name, value)?;
            settings::edit_setting(&state, &principal, &name, &json).await?;
            Ok(format!("{name} saved."))
        }
        .await,
    )
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSetting>::new();
    let rows = Resource::new(move || save.version().get(), |_| load_settings());
    view! {
        <Title text="Settings" />
        <section class="panel" data-testid="settings">
            <h1>"Settings"</h1>
            <p class="muted">"Each setting is saved on its own; a refused value changes nothing and says why."</p>
            {move || match save.value().get() {
                Some(Ok(message)) => view! { <p class="flash success" role="status">{message}</p> }.into_any(),
                Some(Err(err)) => view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => view! {
                            <table class="grid" data-testid="settings-table">
                                <thead><tr>
                                    <th scope="col">"Setting"</th>
                                    <th scope="col">"Value"</th>
                                    <th scope="col">"Level"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|row| view! { <SettingLine row save /> }).collect_view()}
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
fn SettingLine(row: SettingRow, save: ServerAction<SaveSetting>) -> impl IntoView {
    let level = match row.level {
        0 => "critical",
        1 => "recommended",
        _ => "optional",
    };
    let input_id = format!("setting-{}", row.name.replace('.', "-"));
    let field = match row.kind.as_str() {
        "boolean" => view! {
            <input type="checkbox" id=input_id.clone() name="value" checked=row.value == "true" />
        }
        .into_any(),
        "choice" => {
            let current = row.value.clone();
            view! {
                <select id=input_id.clone() name="value">
                    {row.options.iter().map(|o| view! {
                        <option value=o.clone() selected=*o == current>{o.clone()}</option>
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        _ if row.secret => view! {
            <input type="password" id=input_id.clone() name="value" autocomplete="new-password"
                placeholder=if row.is_set { "set (type to replace)" } else { "not set" } />
        }
        .into_any(),
        kind => view! {
            <input type=if kind == "numeric" { "number" } else { "text" } id=input_id.clone()
                name="value" value=row.value.clone() />
        }
        .into_any(),
    };
    let (testid, form_name) = (format!("setting-row-{}", row.name), row.name.clone());
    view! {
        <tr data-testid=testid>
            <td>
                <label for=input_id><code>{row.name.clone()}</code></label>
                <div class="muted small">{row.description.clone()}</div>
            </td>
            <td>
                <ActionForm action=save attr:class="inline-form">
                    <input type="hidden" name="name" value=form_name />
                    {field}
                    <button type="submit">"Save"</button>
                </ActionForm>
            </td>
            <td>{level}</td>
        </tr>
    }
}
