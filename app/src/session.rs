//! Who is logged in, as the pages see it: one resource fetched per page load and shared
//! through context.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::CurrentUser;

/// The session key holding the logged-in user's id.
pub const SESSION_USER_ID: &str = "user_id";

pub type CurrentUserResource = Resource<Result<Option<CurrentUser>, AppError>>;

pub fn provide_current_user() {
    let resource: CurrentUserResource = Resource::new_blocking(|| (), |_| get_current_user());
    provide_context(resource);
}

pub fn use_current_user() -> CurrentUserResource {
    expect_context::<CurrentUserResource>()
}

/// The logged-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(request_principal().map(|p| p.current_user()))
}

/// The principal the server's auth layer attached to this request, if any.
#[cfg(feature = "ssr")]
pub fn request_principal() -> Option<crate::backend::Principal> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::backend::Principal>().cloned())
}

/// The principal, or the error a page or server function should answer with.
#[cfg(feature = "ssr")]
pub fn require_principal() -> Result<crate::backend::Principal, AppError> {
    request_principal().ok_or(AppError::Unauthenticated)
}

/// The application state provided by the server's Leptos routes.
#[cfg(feature = "ssr")]
pub fn app_state() -> Result<crate::backend::AppState, AppError> {
    use_context::<crate::backend::AppState>().ok_or(AppError::Internal)
}

/// Gives a server function's HTTP response the status of its error (403, 404, 409, …) instead
/// of the generic 500, so API callers and tests see what went wrong.
#[cfg(feature = "ssr")]
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        if let (Some(response), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(err.status()),
        ) {
            response.set_status(status);
        }
    }
    result
}
