//! How errors and confirmations appear on a page: next to the action that caused them.
use leptos::prelude::*;

use crate::error::AppError;

/// The outcome of the last submission of a form, if any.
#[component]
pub fn ActionResult<T, V>(
    /// An action's `value()`.
    value: V,
    /// What to say on success.
    success: &'static str,
) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(err)) => {
            view! { <p class="flash error" role="alert">{err.to_string()}</p> }.into_any()
        }
        Some(Ok(_)) => view! { <p class="flash success" role="status">{success}</p> }.into_any(),
        None => ().into_any(),
    }
}

/// A page-level error, e.g. when the page's data could not be loaded.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let title = match error.status() {
        401 => "Please log in",
        403 => "Forbidden",
        404 => "Not found",
        _ => "Something went wrong",
    };
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
    }
    view! {
        <section class="panel error-panel" data-testid="error-panel">
            <h1>{title}</h1>
            <p role="alert">{error.to_string()}</p>
            {(error.status() == 401).then(|| view! { <p><a href="/users/login">"Log in"</a></p> })}
        </section>
    }
}
