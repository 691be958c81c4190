//! `/administration`: users and organisations, for site admins.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::format::unix_time;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{AdminOverview, OrgRow, RoleRow, UserRow};

#[server(endpoint = "admin/overview")]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::accounts;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            accounts::overview(&state.db, &principal).await
        }
        .await,
    )
}

#[server(endpoint = "admin/users/add")]
pub async fn add_user(
    email: String,
    org_id: i32,
    role_id: i32,
    password: String,
) -> Result<UserRow, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::accounts;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            accounts::add_user(
                &state,
                &principal,
                accounts::UserInput {
                    email,
                    org_id,
                    role_id,
                    password,
                },
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "admin/users/edit")]
pub async fn edit_user(
    user_id: i32,
    org_id: i32,
    role_id: i32,
    disabled: Option<String>,
    password: Option<String>,
) -> Result<UserRow, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::accounts;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            let edit = accounts::UserEdit {
                org_id,
                role_id,
                disabled: disabled.is_some(),
                password: password.unwrap_or_default(),
            };
            accounts::edit_user(&state, &principal, user_id, edit).await
        }
        .await,
    )
}

#[server(endpoint = "admin/orgs/add")]
pub async fn add_org(name: String, description: String) -> Result<OrgRow, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::accounts;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            accounts::add_org(&state.db, &principal, &name, &description).await
        }
        .await,
    )
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let add_user = ServerAction::<AddUser>::new();
    let edit_user = ServerAction::<EditUser>::new();
    let add_org = ServerAction::<AddOrg>::new();
    let overview = Resource::new(
        move || {
            (
                add_user.version().get(),
                edit_user.version().get(),
                add_org.version().get(),
            )
        },
        |_| get_admin_overview(),
    );
    view! {
        <Title text="Administration" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(AdminOverview { users, orgs, roles }) => {
                        let (orgs_for_table, orgs_for_add, roles_for_add) =
                            (orgs.clone(), orgs.clone(), roles.clone());
                        view! {
                        <section class="panel" data-testid="admin-users">
                            <h1>"Administration"</h1>
                            <h2>"Users"</h2>
                            <ActionResult value=edit_user.value() success="User saved." />
                            <UserTable users orgs=orgs_for_table roles edit=edit_user />
                            <h3>"Add a user"</h3>
                            <ActionResult value=add_user.value() success="User added." />
                            <ActionForm action=add_user attr:class="inline-form" attr:data-testid="add-user-form">
                                <label>"E-mail" <input type="email" name="email" required /></label>
                                <OrgSelect orgs=orgs_for_add selected=None />
                                <RoleSelect roles=roles_for_add selected=None />
                                <label>"Password"
                                    <input type="password" name="password" minlength="12" required autocomplete="new-password" />
                                </label>
                                <button type="submit" class="primary">"Add user"</button>
                            </ActionForm>
                        </section>
                        <section class="panel" data-testid="admin-orgs">
                            <h2>"Organisations"</h2>
                            <OrgTable orgs />
                            <h3>"Add an organisation"</h3>
                            <ActionResult value=add_org.value() success="Organisation added." />
                            <ActionForm action=add_org attr:class="inline-form" attr:data-testid="add-org-form">
                                <label>"Name" <input type="text" name="name" maxlength="255" required /></label>
                                <label>"Description" <input type="text" name="description" /></label>
                                <button type="submit" class="primary">"Add organisation"</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrgSelect(orgs: Vec<OrgRow>, selected: Option<i32>) -> impl IntoView {
    view! {
        <label>"Organisation"
            <select name="org_id" required>
                {orgs.into_iter().map(|o| view! {
                    <option value=o.id selected=selected == Some(o.id)>{o.name}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn RoleSelect(roles: Vec<RoleRow>, selected: Option<i32>) -> impl IntoView {
    // New accounts default to MISP's "User" role (id 3).
    let selected = selected.unwrap_or(3);
    view! {
        <label>"Role"
            <select name="role_id" required>
                {roles.into_iter().map(|r| view! {
                    <option value=r.id selected=r.id == selected>{r.name}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn UserTable(
    users: Vec<UserRow>,
    orgs: Vec<OrgRow>,
    roles: Vec<RoleRow>,
    edit: ServerAction<EditUser>,
) -> impl IntoView {
    view! {
        <table class="grid" data-testid="user-table">
            <thead>
                <tr>
                    <th scope="col">"E-mail"</th>
                    <th scope="col">"Organisation"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last login"</th>
                    <th scope="col"><span class="sr-only">"Edit"</span></th>
                </tr>
            </thead>
            <tbody>
                {users.into_iter().map(|u| {
                    let orgs = orgs.clone();
                    let roles = roles.clone();
                    view! {
                        <tr data-testid=format!("user-row-{}", u.email)>
                            <td>{u.email.clone()}</td>
                            <td>{u.org_name.clone()}</td>
                            <td>{u.role_name.clone()}</td>
                            <td>{if u.disabled { "disabled" } else { "enabled" }}</td>
                            <td>{unix_time(u.last_login)}</td>
                            <td>
                                <details>
                                    <summary>"Edit"</summary>
                                    <ActionForm action=edit attr:class="stack">
                                        <input type="hidden" name="user_id" value=u.id />
                                        <OrgSelect orgs selected=Some(u.org_id) />
                                        <RoleSelect roles selected=Some(u.role_id) />
                                        <label class="check">
                                            <input type="checkbox" name="disabled" checked=u.disabled />
                                            "Disabled"
                                        </label>
                                        <label>"New password (leave empty to keep)"
                                            <input type="password" name="password" autocomplete="new-password" />
                                        </label>
                                        <button type="submit" class="primary">"Save"</button>
                                    </ActionForm>
                                </details>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn OrgTable(orgs: Vec<OrgRow>) -> impl IntoView {
    view! {
        <table class="grid" data-testid="org-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"UUID"</th>
                    <th scope="col">"Users"</th>
                    <th scope="col">"Description"</th>
                </tr>
            </thead>
            <tbody>
                {orgs.into_iter().map(|o| view! {
                    <tr>
                        <td>{o.name}</td>
                        <td><code>{o.uuid}</code></td>
                        <td>{o.user_count}</td>
                        <td>{o.description}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
