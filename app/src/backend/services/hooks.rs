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
    actor: &Principal,
    build: F,
) where
    F: FnOnce(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<Value>, AppError>> + Send + 'static,
{
    if !listens(state, trigger_id) || too_deep(state, trigger_id, &action, actor) {
        return;
    }
    let state = state.clone();
    let actor = actor.clone();
    tokio::spawn(async move {
        let data = match build(state.clone()).await {
            Ok(Some(data)) => data,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(trigger = trigger_id, error = %e, "could not build the trigger's data");
                return;
            }
        };
        if let Err(e) = super::workflows::run_hook(&state, trigger_id, data, &action, &actor).await
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
    actor: &Principal,
    build: F,
) -> Result<Option<Vec<String>>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Value, AppError>>,
{
    if !listens(state, trigger_id) || too_deep(state, trigger_id, action, actor) {
        return Ok(None);
    }
    let data = build().await?;
    super::workflows::run_blocking_hook(state, trigger_id, data, action, actor).await
}
/// The loop guard: an action taken by a workflow module carries the chain depth of the run
/// that took it; past the configured depth the run it would cause is skipped, with a log line.
fn too_deep(state: &AppState, trigger_id: &str, action: &str, actor: &Principal) -> bool {
    let max = state.workflows.max_chain_depth;
    if actor.chain_depth > max {
        tracing::warn!(
            trigger = trigger_id,
            action,
            depth = actor.chain_depth,
            max,
            "workflow run skipped: it would be caused by a chain of runs deeper than the limit"
        );
        return true;
    }
    false
}

/// MISP's executing user for workflow modules (spec §6.7): SYSTEM, with every permission, in the
/// host organisation (`MISP.host_org_id`), one chain step deeper than `depth`.
pub async fn system_principal(state: &AppState, depth: u8) -> Result<Principal, AppError> {
    use crate::backend::entities::role;
    let host = crate::backend::store::settings::find_setting(&state.db, "MISP.host_org_id")
        .await?
        .and_then(|v| v.as_i64())
        .and_then(|v| i32::try_from(v).ok());
    let org = match host {
        Some(id) => crate::backend::store::orgs::find_org(&state.db, id).await?,
        None => None,
    };
    let Some(org) = org else {
        return Err(AppError::Invalid(
            "Could not find a valid user to run the workflow. Please set setting `MISP.host_org_id` or make sure a valid site_admin user exists.".into(),
        ));
    };
    let role = role::Model {
        id: 0,
        name: "SYSTEM".into(),
        perm_add: true,
        perm_modify: true,
        perm_modify_org: true,
        perm_publish: true,
        perm_delegate: true,
        perm_sync: true,
        perm_admin: true,
        perm_audit: true,
        perm_auth: true,
        perm_site_admin: true,
        perm_regexp_access: true,
        perm_tagger: true,
        perm_template: true,
        perm_sharing_group: true,
        perm_tag_editor: true,
        perm_sighting: true,
        perm_object_template: true,
        perm_publish_zmq: true,
        perm_publish_kafka: true,
        perm_decaying: true,
        perm_galaxy_editor: true,
        perm_warninglist: true,
        default_role: false,
        restricted_to_site_admin: false,
    };
    let user = user::Model {
        id: 0,
        org_id: org.id,
        role_id: 0,
        email: "SYSTEM".into(),
        password: String::new(),
        disabled: false,
        change_pw: false,
        termsaccepted: true,
        autoalert: false,
        contactalert: false,
        invited_by: 0,
        gpgkey: String::new(),
        nids_sid: 0,
        expiration: None,
        current_login: 0,
        last_login: 0,
        last_api_access: 0,
        last_pw_change: 0,
        force_logout: false,
        date_created: 0,
        date_modified: 0,
    };
    Ok(Principal {
        user,
        role,
        org,
        read_only: false,
        sharing_groups: Vec::new(),
        chain_depth: depth.saturating_add(1),
    })
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
