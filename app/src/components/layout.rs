//! The page shell: top navigation, user menu, and the main area.
use leptos::prelude::*;

use crate::model::CurrentUser;
use crate::session::use_current_user;

/// A top-level section of the product. `ready` is false for sections whose pages are not built
/// yet: they are shown, greyed out and unlinked, so nothing looks done that isn't.
struct Section {
    label: &'static str,
    href: &'static str,
    ready: bool,
    admin_only: bool,
}

const SECTIONS: &[Section] = &[
    Section {
        label: "Triggers",
        href: "/triggers",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Ad-hoc workflows",
        href: "/workflows/adhoc",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Modules",
        href: "/modules",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Blueprints",
        href: "/blueprints",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Logs",
        href: "/logs",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Settings",
        href: "/settings",
        ready: true,
        admin_only: true,
    },
    Section {
        label: "Events",
        href: "/events",
        ready: true,
        admin_only: false,
    },
    Section {
        label: "Administration",
        href: "/administration",
        ready: true,
        admin_only: true,
    },
];

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let user = use_current_user();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Flowgate"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! { <Nav user /> }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main id="main">{children()}</main>
    }
}

#[component]
fn Nav(user: CurrentUser) -> impl IntoView {
    let sections = SECTIONS
        .iter()
        .filter(|s| user.site_admin || !s.admin_only)
        .map(|s| {
            if s.ready {
                view! { <li><a href=s.href>{s.label}</a></li> }.into_any()
            } else {
                view! {
                    <li>
                        <span class="nav-pending" aria-disabled="true" title="Not available yet">
                            {s.label}
                        </span>
                    </li>
                }
                .into_any()
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Main">
            <ul class="nav">{sections}</ul>
        </nav>
        <details class="user-menu" data-testid="user-menu">
            <summary>{user.email.clone()}</summary>
            <div class="user-menu-body">
                <p class="muted">{user.org_name.clone()} " · " {user.role_name.clone()}</p>
                <a href="/users/keys">"My API keys"</a>
                <form method="post" action="/users/logout">
                    <button type="submit" class="link">"Log out"</button>
                </form>
            </div>
        </details>
    }
}
