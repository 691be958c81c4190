//! Flowgate's web application: Leptos pages, components and server functions.
//!
//! With the `ssr` feature it also holds [`backend`]: state, store, services and authentication,
//! which the server functions and the `server` crate's MISP REST routes share.
#![recursion_limit = "256"]

pub mod components;
pub mod editor;
pub mod error;
pub mod model;
pub mod pages;
pub mod session;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::layout::Shell;
use pages::{
    adhoc::AdhocPage,
    admin::AdminPage,
    api_keys::ApiKeysPage,
    blueprints::{BlueprintPage, BlueprintsPage},
    editor::EditorPage,
    events::{EventPage, EventsPage},
    home::HomePage,
    login::LoginPage,
    logs::{LogPage, LogsPage},
    modules::{ModulePage, ModulesPage},
    not_found::NotFound,
    settings::SettingsPage,
    triggers::TriggersPage,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Routes are declared once here; each page is a module under `pages/`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_current_user();

    // Playwright waits for this before clicking: clicks before hydration would be lost.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/flowgate.css" />
        <Title formatter=|text: String| {
            if text.is_empty() { "Flowgate".to_owned() } else { format!("{text} · Flowgate") }
        } />
        <Router>
            <Shell>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/users/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/users/keys") view=ApiKeysPage ssr=SsrMode::Async />
                    <Route path=path!("/administration") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/events") view=EventsPage ssr=SsrMode::Async />
                    <Route path=path!("/triggers") view=TriggersPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/modules") view=ModulesPage ssr=SsrMode::Async />
                    <Route path=path!("/logs") view=LogsPage ssr=SsrMode::Async />
                    <Route path=path!("/blueprints") view=BlueprintsPage ssr=SsrMode::Async />
                    <Route path=path!("/blueprints/:id") view=BlueprintPage ssr=SsrMode::Async />
                    <Route path=path!("/logs/:id") view=LogPage ssr=SsrMode::Async />
                    <Route path=path!("/modules/:id") view=ModulePage ssr=SsrMode::Async />
                    <Route path=path!("/events/:id") view=EventPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/editor/:id") view=EditorPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/adhoc") view=AdhocPage ssr=SsrMode::Async />
                </Routes>
            </Shell>
        </Router>
    }
}
