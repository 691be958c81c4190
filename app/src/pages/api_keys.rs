//! `/users/keys`: the user's own API keys. A new key is shown once, right after creation.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::format::unix_time;
use crate::components::messages::{ActionResult, ErrorPanel};
use crate::error::AppError;
use crate::model::{AuthKeyRow, NewAuthKey};

#[server(endpoint = "my_keys")]
pub async fn list_my_keys() -> Result<Vec<AuthKeyRow>, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::auth;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            auth::list_authkeys(&state.db, principal.user.id).await
        }
        .await,
    )
}

#[server(endpoint = "my_keys/create")]
pub async fn create_my_key(
    comment: String,
    read_only: Option<String>,
) -> Result<NewAuthKey, AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::auth;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            auth::create_own_authkey(&state.db, &principal, &comment, read_only.is_some()).await
        }
        .await,
    )
}

#[server(endpoint = "my_keys/revoke")]
pub async fn revoke_my_key(id: i32) -> Result<(), AppError> {
    crate::session::respond(
        async move {
            use crate::backend::services::auth;
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            auth::revoke_own_authkey(&state.db, &principal, id).await
        }
        .await,
    )
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateMyKey>::new();
    let revoke = ServerAction::<RevokeMyKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_my_keys(),
    );
    view! {
        <Title text="My API keys" />
        <section class="panel">
            <h1>"My API keys"</h1>
            <p class="muted">
                "MISP clients such as PyMISP send a key in the " <code>"Authorization"</code>
                " header. Keys are stored hashed: a key is shown once, when it is created."
            </p>
            <ActionForm action=create attr:class="inline-form" attr:data-testid="create-key-form">
                <label>"Comment" <input type="text" name="comment" maxlength="255" /></label>
                <label class="check"><input type="checkbox" name="read_only" />"Read only"</label>
                <button type="submit" class="primary">"Create key"</button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(new_key)) => view! {
                    <div class="flash success new-key" role="status">
                        <p>"Your new key (copy it now, it will not be shown again):"</p>
                        <code data-testid="new-key">{new_key.authkey}</code>
                    </div>
                }.into_any(),
                Some(Err(err)) => view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <ActionResult value=revoke.value() success="Key revoked." />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(rows) if rows.is_empty() => view! {
                            <p class="empty">"You have no API keys yet."</p>
                        }.into_any(),
                        Ok(rows) => view! { <KeyTable rows revoke /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn KeyTable(rows: Vec<AuthKeyRow>, revoke: ServerAction<RevokeMyKey>) -> impl IntoView {
    view! {
        <table class="grid" data-testid="key-table">
            <thead>
                <tr>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Comment"</th>
                    <th scope="col">"Access"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|key| {
                        view! {
                            <tr>
                                <td><code>{format!("{}…{}", key.authkey_start, key.authkey_end)}</code></td>
                                <td>{key.comment}</td>
                                <td>{if key.read_only { "read only" } else { "full" }}</td>
                                <td>{unix_time(key.created)}</td>
                                <td>{unix_time(key.last_used)}</td>
                                <td>
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="id" value=key.id />
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
