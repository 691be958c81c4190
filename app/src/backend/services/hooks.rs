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

/// How long an id skipped by the log follower is looked for again: on PostgreSQL a transaction
/// that took a lower id can commit after a higher one.
const LOG_GAP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// At most this many skipped ids are remembered (a rolled-back bulk insert leaves many).
const LOG_GAP_MAX: usize = 1_000;

/// The `log-after-save` trigger (spec §3): follows the audit log and runs the listening workflow
/// on each new committed row, `{"Log": {...}}`, except rows about workflows and the log itself
/// (MISP's loop guard). Reading committed rows (rather than hooking each writer) means a
/// rolled-back change never fires. Each run acts with the chain depth the row was written at,
/// so a workflow whose actions write log rows stops at the configured depth. When no workflow
/// listens, a tick costs one in-memory lookup; history before the listener appeared is skipped.
pub async fn follow_log(state: AppState, every: std::time::Duration) {
    use crate::backend::entities::log;
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use std::collections::BTreeMap;
    use std::time::Instant;

    let mut cursor: Option<i32> = None;
    let mut gaps: BTreeMap<i32, Instant> = BTreeMap::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !listens(&state, "log-after-save") {
            cursor = None;
            gaps.clear();
            continue;
        }
        let Some(last) = cursor else {
            let newest = log::Entity::find()
                .select_only()
                .column_as(log::Column::Id.max(), "max")
                .into_tuple::<Option<i32>>()
                .one(&state.db)
                .await;
            match newest {
                Ok(max) => cursor = Some(max.flatten().unwrap_or(0)),
                Err(e) => tracing::warn!(error = %e, "log-after-save: could not read the log"),
            }
            continue;
        };
        let mut wanted = Condition::any().add(log::Column::Id.gt(last));
        if !gaps.is_empty() {
            wanted = wanted.add(log::Column::Id.is_in(gaps.keys().copied().collect::<Vec<_>>()));
        }
        let rows = match log::Entity::find()
            .filter(wanted)
            .order_by_asc(log::Column::Id)
            .limit(500)
            .all(&state.db)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "log-after-save: could not read the log");
                continue;
            }
        };
        let mut next = last;
        for row in rows {
            if gaps.remove(&row.id).is_none() {
                let seen_at = Instant::now();
                for missing in (next + 1)..row.id {
                    if gaps.len() >= LOG_GAP_MAX {
                        break;
                    }
                    gaps.insert(missing, seen_at);
                }
                next = next.max(row.id);
            }
            if row.model == "Log" || row.model == "Workflow" {
                continue;
            }
            let actor = match log_actor(&state, &row).await {
                Ok(actor) => actor,
                Err(e) => {
                    tracing::warn!(error = %e, log = row.id, "log-after-save: no user to run as");
                    continue;
                }
            };
            let data = json!({"Log": super::audit::log_json(&row)});
            fire(
                &state,
                "log-after-save",
                format!("logs/{}", row.id),
                &actor,
                move |_| async move { Ok(Some(data)) },
            );
        }
        cursor = Some(next);
        gaps.retain(|_, seen| seen.elapsed() < LOG_GAP_WAIT);
    }
}

/// Who a `log-after-save` run acts for: the row's user, or SYSTEM for the system's own rows,
/// at the chain depth the row was written at.
async fn log_actor(
    state: &AppState,
    row: &crate::backend::entities::log::Model,
) -> Result<Principal, AppError> {
    let depth = u8::try_from(row.chain_depth).unwrap_or(u8::MAX);
    let found = if row.user_id > 0 {
        super::auth::principal_for_user_id(&state.db, row.user_id).await?
    } else {
        None
    };
    let mut actor = match found {
        Some(p) => p,
        None => system_principal(state, 0).await?,
    };
    actor.chain_depth = depth;
    Ok(actor)
}
