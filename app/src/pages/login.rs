//! `/users/login`, MISP's login path. A plain HTML form posted to the server, so it works with
//! or without JavaScript; the server answers with a redirect.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let message = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("throttled") => Some((
                "error",
                "Too many failed login attempts. Please wait a few minutes before trying again.",
            )),
            Some(_) => Some(("error", "Unknown e-mail address or wrong password.")),
            None if q.get("logged_out").is_some() => Some(("success", "You have been logged out.")),
            None => None,
        })
    };
    let redirect = move || query.with(|q| q.get("redirect").unwrap_or_default());
    view! {
        <Title text="Log in" />
        <section class="panel narrow">
            <h1>"Log in"</h1>
            {move || {
                message()
                    .map(|(kind, text)| {
                        view! {
                            <p class=format!("flash {kind}") role="alert" data-testid="login-message">
                                {text}
                            </p>
                        }
                    })
            }}
            <form method="post" action="/users/login" class="stack" data-testid="login-form">
                <input type="hidden" name="redirect" prop:value=redirect />
                <label>
                    "E-mail"
                    <input type="email" name="email" autocomplete="username" required autofocus />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <button type="submit" class="primary">"Log in"</button>
            </form>
        </section>
    }
}
