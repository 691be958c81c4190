//! `/`: where a logged-in user lands.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::messages::ErrorPanel;
use crate::error::AppError;
use crate::session::use_current_user;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Home" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        view! {
                            <section class="panel">
                                <h1>"Welcome, " {user.email.clone()}</h1>
                                <p>
                                    "You are logged in as " <strong>{user.role_name.clone()}</strong>
                                    " of " <strong>{user.org_name.clone()}</strong> "."
                                </p>
                                <ul class="links">
                                    <li><a href="/users/keys">"Manage your API keys"</a>
                                        " to use Flowgate's MISP-compatible REST API."</li>
                                    {user.site_admin.then(|| view! {
                                        <li><a href="/administration">"Administration"</a>
                                            ": users and organisations."</li>
                                    })}
                                </ul>
                            </section>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <ErrorPanel error=AppError::Unauthenticated /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
