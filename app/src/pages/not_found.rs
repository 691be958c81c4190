use leptos::prelude::*;

use crate::components::messages::ErrorPanel;
use crate::error::AppError;

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <ErrorPanel error=AppError::NotFound("There is no page at this address.".into()) /> }
}
