//! Triggers fired by real actions (spec §3, §6.1).
//!
//! A blocking trigger runs inline through [`super::workflows::run_blocking_hook`] and can refuse
//! the action. A non-blocking one goes through [`fire`]: the run is handed to a background task
//! and the action answers at once. Either way, when no workflow listens on the trigger the hook
//! costs one in-memory lookup ([`crate::backend::runtime::Listeners`]): no query, and the data is
//! never built.
use std::future::Future;

use serde_json::{json, Value};

use crate::backend::entities::{event, user};
use crate::backend::{AppState, Principal};
use crate::error::AppError;

/// Whether a workflow listens on `trigger_id`.
pub fn listens(state: &AppState, trigger_id: &str) -> bool {
    state.workflows.listeners.listens(trigger_id)
}

/// Re-reads which triggers have listeners, after a change to workflows or their switches.
pub async fn refresh_listeners(state: &AppState) {
    if let Err(e) = state.workflows.listeners.refresh(&state.db).await {
        tracing::warn!(error = %e, "could not refresh the workflow listeners");
    }
}

/// `actor` with every permission, as MISP fetches hook data ("site-admin view", spec §6.7).
pub fn elevated(actor: &Principal) -> Principal {
    let mut p = actor.clone();
    p.role.perm_site_admin = true;
    p
}

/// Fires non-blocking `trigger_id`: when a workflow listens, `build` makes the data in a
/// background task (after the action's transaction committed) and the workflow runs on it; the
/// run lands in the run log with `action`. `build` answering `None` (the row is gone) skips it.
pub fn fire<F, Fut>(
    state: &AppState,
    trigger_id: &'static str,
    action: String,
    user_id: i32,
    build: F,
) where
    F: FnOnce(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<Value>, AppError>> + Send + 'static,
{
    if !listens(state, trigger_id) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let data = match build(state.clone()).await {
            Ok(Some(data)) => data,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(trigger = trigger_id, error = %e, "could not build the trigger's data");
                return;
            }
        };
        if let Err(e) = super::workflows::run_hook(&state, trigger_id, data, &action, user_id).await
        {
            tracing::warn!(trigger = trigger_id, error = %e, "background workflow run failed");
        }
    });
}

/// Runs blocking `trigger_id` when a workflow listens, building its data only then; answers the
/// workflow's errors when it refuses the action.
pub async fn block<F, Fut>(
    state: &AppState,
    trigger_id: &str,
    action: &str,
    user_id: i32,
    build: F,
) -> Result<Option<Vec<String>>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Value, AppError>>,
{
    if !listens(state, trigger_id) {
        return Ok(None);
    }
    let data = build().await?;
    super::workflows::run_blocking_hook(state, trigger_id, data, action, user_id).await
}

/// MISP's answer when a blocking workflow refuses an action: "<what> stopped by a blocking
/// workflow. Returned message: <errors>".
pub fn refused(what: &str, errors: Vec<String>) -> AppError {
    AppError::Rejected {
        message: format!(
            "{what} stopped by a blocking workflow. Returned message: {}",
            errors.join(", ")
        ),
        errors,
    }
}

/// [`refused`], after writing the audit entry MISP writes when a blocking workflow stops an
/// action: `entry` with the workflow's messages as its change.
pub async fn refuse(
    state: &AppState,
    actor: &Principal,
    entry: super::audit::Entry,
    what: &str,
    errors: Vec<String>,
) -> AppError {
    let entry = entry.change(format!(
        "stopped by a blocking workflow: {}",
        errors.join(", ")
    ));
    if let Err(e) = super::audit::record(&state.db, Some(actor), entry).await {
        tracing::warn!(error = %e, "could not record the refused action in the audit log");
    }
    refused(what, errors)
}

/// A user's own fields, flat (the data of `user-before-save` / `user-after-save`); the password
/// hash is left out.
pub fn user_fields(u: &user::Model) -> Value {
    json!({
        "id": u.id.to_string(),
        "email": u.email,
        "org_id": u.org_id.to_string(),
        "role_id": u.role_id.to_string(),
        "disabled": u.disabled,
        "change_pw": u.change_pw,
        "date_created": u.date_created.to_string(),
        "date_modified": u.date_modified.to_string(),
        "last_pw_change": u.last_pw_change.to_string(),
        "invited_by": u.invited_by.to_string(),
    })
}

/// The `{"Event": {...}}` document of `ev` as a site admin sees it, for a background run.
pub async fn full_event(
    state: &AppState,
    actor: &Principal,
    ev: &event::Model,
) -> Result<Value, AppError> {
    super::events::event_document(state, &elevated(actor), ev).await
}
