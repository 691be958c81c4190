//! Triggers fired by real actions (spec §3, §6.1).
//!
//! A blocking trigger runs inline through [`super::workflows::run_blocking_hook`] and can refuse
//! the action. A non-blocking one goes through [`fire`]: a job naming the trigger and its
//! [`Subject`] is queued in the action's own transaction (the action is saved with its job or
//! neither is), and a worker of any server process builds the data from the stored rows and
//! runs the workflow ([`run_trigger_job`]). Where the action writes an audit row for the very
//! subject (an attribute's add, edit, soft delete), the job rides on that row instead
//! ([`carry`]) and the log follower ([`follow_log`]) queues it once the row is committed: just
//! as durable, without a statement of its own on the action's path. Either way, when no
//! workflow listens on the trigger the hook costs one in-memory lookup
//! ([`crate::backend::runtime::Listeners`]): no query, and the data is never built.
use std::future::Future;

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::backend::entities::{event, user};
use crate::backend::store::settings;
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

/// What a non-blocking trigger's data is built from when its job runs: the stored row the
/// action saved (read then, so the workflow sees it as committed), or the data itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "subject", rename_all = "kebab-case")]
pub enum Subject {
    /// The event row with `Orgc` and tags (`event-after-save`).
    Event { id: i32 },
    /// The whole event, as a site admin views it (`event-after-save-new`).
    FullEvent { id: i32 },
    /// The attribute inside its event and object (`attribute-after-save`, sightings).
    Attribute { id: i32 },
    /// The object inside its event (`object-after-save`).
    Object { id: i32 },
    /// The event (or the attribute in its event) with the raw tag link as `Tag`
    /// (`tag-attached-after-save`).
    TagLink {
        event_id: i32,
        attribute_id: Option<i32>,
        link: Value,
    },
    /// The event row with `EventReport` = [the report] (`event-report-after-save`).
    Report { id: i32 },
    /// The proposal in MISP's shape (`shadow-attribute-after-save`).
    Proposal { id: i32 },
    /// `{Post, Thread, Event?}` (`post-after-save`).
    Post { id: i32 },
    /// The user's own fields, flat (`user-after-save`).
    User { id: i32 },
    /// The data as it is (`log-after-save`: the committed log row).
    Data { data: Value },
}

impl Subject {
    /// The trigger's data, `None` when the row is gone (the job then ends without a run).
    async fn build(self, state: &AppState, actor: &Principal) -> Result<Option<Value>, AppError> {
        use super::{discussion, events, proposals, reports};
        use crate::backend::store::events as store;
        // Committed rows only: read beside the writer.
        let db = &state.read_db;
        Ok(match self {
            Subject::Event { id } => match store::find_event(db, &id.to_string()).await? {
                Some(ev) => Some(events::event_row_document(db, &ev).await?),
                None => None,
            },
            Subject::FullEvent { id } => match store::find_event(db, &id.to_string()).await? {
                Some(ev) => Some(full_event(state, actor, &ev).await?),
                None => None,
            },
            Subject::Attribute { id } => match store::find_attribute(db, &id.to_string()).await? {
                Some(a) => events::attribute_document(db, &a).await?,
                None => None,
            },
            Subject::Object { id } => match store::find_object(db, &id.to_string()).await? {
                Some(o) => events::object_in_event_document(db, &o).await?,
                None => None,
            },
            Subject::TagLink {
                event_id,
                attribute_id,
                link,
            } => {
                let doc = match attribute_id {
                    Some(a) => match store::find_attribute(db, &a.to_string()).await? {
                        Some(a) => events::attribute_document(db, &a).await?,
                        None => None,
                    },
                    None => match store::find_event(db, &event_id.to_string()).await? {
                        Some(ev) => Some(events::event_row_document(db, &ev).await?),
                        None => None,
                    },
                };
                doc.map(|mut d| {
                    d["Tag"] = link;
                    d
                })
            }
            Subject::Report { id } => reports::report_subject(db, id).await?,
            Subject::Proposal { id } => proposals::proposal_subject(db, id).await?,
            Subject::Post { id } => discussion::post_subject(db, id).await?,
            Subject::User { id } => crate::backend::store::users::find_user(db, id)
                .await?
                .map(|u| user_fields(&u)),
            Subject::Data { data } => Some(data),
        })
    }
}

/// A queued run of a non-blocking trigger.
#[derive(Debug, Serialize, Deserialize)]
struct TriggerJob {
    trigger: String,
    /// What fired it (`events/add/12`, …), for the run log.
    action: String,
    /// Who acted (0: SYSTEM).
    user_id: i32,
    /// The chain depth of the action (the loop guard).
    depth: u8,
    #[serde(flatten)]
    subject: Subject,
}

/// Fires non-blocking `trigger_id` on `subject` when a workflow listens: queues its job on
/// `db`, the transaction of the action that fires it (so both are saved or neither is; call
/// [`wake`] once it commits). The run lands in the run log with `action`.
pub async fn fire(
    db: &impl ConnectionTrait,
    state: &AppState,
    trigger_id: &'static str,
    action: String,
    actor: &Principal,
    subject: Subject,
) -> Result<(), AppError> {
    queue(db, state, trigger_id, &action, actor, [(subject, None)]).await
}

/// [`fire`] on each of `subjects` (the attributes an action saved, …), their jobs queued
/// together: a statement per few hundred instead of one each.
pub async fn fire_each(
    db: &impl ConnectionTrait,
    state: &AppState,
    trigger_id: &'static str,
    action: &str,
    actor: &Principal,
    subjects: impl IntoIterator<Item = Subject>,
) -> Result<(), AppError> {
    let runs = subjects.into_iter().map(|subject| (subject, None));
    queue(db, state, trigger_id, action, actor, runs).await
}

/// The queued form of a run of `trigger_id` on `subject` (a trigger job's payload).
fn run_payload(
    trigger_id: &str,
    action: &str,
    actor: &Principal,
    subject: Subject,
) -> Result<String, AppError> {
    let payload = TriggerJob {
        trigger: trigger_id.to_owned(),
        action: action.to_owned(),
        user_id: actor.user.id,
        depth: actor.chain_depth,
        subject,
    };
    serde_json::to_string(&payload).map_err(|_| AppError::Internal)
}

/// Queues a run on each subject, under its key when given: a second job with the same key is
/// not queued (the log followers of several processes see the same row).
async fn queue(
    db: &impl ConnectionTrait,
    state: &AppState,
    trigger_id: &'static str,
    action: &str,
    actor: &Principal,
    runs: impl IntoIterator<Item = (Subject, Option<String>)>,
) -> Result<(), AppError> {
    use crate::backend::jobs::{new_job_key, note_queued, now_us};
    if !should_run(state, trigger_id, action, actor) {
        return Ok(());
    }
    let now = now_us();
    let jobs = runs
        .into_iter()
        .map(|(subject, key)| {
            let payload = run_payload(trigger_id, action, actor, subject)?;
            Ok(trigger_job(
                state,
                payload,
                key.unwrap_or_else(new_job_key),
                now,
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    if jobs.is_empty() {
        return Ok(());
    }
    crate::backend::store::jobs::enqueue_many_once(db, jobs, now).await?;
    note_queued();
    Ok(())
}

/// The queue row of a trigger run: `payload` from [`run_payload`], under `key`, due `now`.
fn trigger_job(
    state: &AppState,
    payload: String,
    key: String,
    now: i64,
) -> crate::backend::store::jobs::NewJob {
    crate::backend::store::jobs::NewJob {
        kind: crate::backend::jobs::KIND_TRIGGER.into(),
        payload,
        idempotency_key: key,
        max_attempts: state.workflows.max_job_attempts,
        run_after: now,
    }
}

/// Fires non-blocking `trigger_id` on `subject` through the audit row the action writes for
/// that subject: answers the run to put on the row ([`super::audit::Entry::carrying`]) when a
/// workflow listens, `None` otherwise. The row commits with the action (both are saved or
/// neither is), and the log follower queues the run when it reads the row: at once when the
/// request answers (it is woken then), or when a process starts if none ran. Unlike [`fire`],
/// the action pays no statement and no job-table pages for its trigger.
pub fn carry(
    state: &AppState,
    trigger_id: &'static str,
    action: &str,
    actor: &Principal,
    subject: Subject,
) -> Result<Option<String>, AppError> {
    if !should_run(state, trigger_id, action, actor) {
        return Ok(None);
    }
    let payload = run_payload(trigger_id, action, actor, subject)?;
    crate::backend::jobs::note_carried();
    Ok(Some(payload))
}

/// Wakes this process's idle workers and its log follower after a transaction that fired
/// triggers committed, or, inside a request, once the request answers (the other processes find
/// the jobs and rows at their next look).
pub fn wake(state: &AppState) {
    crate::backend::jobs::wake_workers(&state.workflows.job_wake);
    crate::backend::jobs::wake_follower(&state.workflows.log_wake);
}

/// Runs a queued trigger job: the actor as stored now (SYSTEM when the user is gone), the data
/// built from the subject, the workflow saved for the trigger. Answers the run's failure, so
/// the job can be tried again.
pub async fn run_trigger_job(
    state: &AppState,
    payload: &str,
) -> Result<Result<(), String>, AppError> {
    let job: TriggerJob = serde_json::from_str(payload)
        .map_err(|e| AppError::Invalid(format!("unreadable trigger job: {e}")))?;
    let found = if job.user_id > 0 {
        super::auth::principal_for_user_id(&state.read_db, &state.principals, job.user_id).await?
    } else {
        None
    };
    let mut actor = match found {
        Some(p) => p,
        None => system_principal(state, 0).await?,
    };
    actor.chain_depth = job.depth;
    let Some(data) = job.subject.build(state, &actor).await? else {
        return Ok(Ok(()));
    };
    let report = super::workflows::run_hook(state, &job.trigger, data, &job.action, &actor).await?;
    Ok(
        match report.as_ref().and_then(super::workflows::job_error) {
            Some(error) => Err(error),
            None => Ok(()),
        },
    )
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
    if !should_run(state, trigger_id, action, actor) {
        return Ok(None);
    }
    let data = build().await?;
    super::workflows::run_blocking_hook(state, trigger_id, data, action, actor).await
}

/// Whether `action` runs `trigger_id`: a workflow listens on it, and the action is not too deep
/// in a chain of runs.
fn should_run(state: &AppState, trigger_id: &str, action: &str, actor: &Principal) -> bool {
    listens(state, trigger_id) && !too_deep(state, trigger_id, action, actor)
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
    // The refusal is no edit: an edit a job attempted stays unnoted in its ledger.
    let written =
        crate::backend::jobs::not_an_edit(super::audit::record(&state.db, Some(actor), entry))
            .await;
    if let Err(e) = written {
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

/// The prefix of a `log-after-save` job's key; the log row's id and time follow.
const LOG_JOB_KEY: &str = "log-after-save/";

fn log_job_key(row: &crate::backend::entities::log::Model) -> String {
    format!("{LOG_JOB_KEY}{}/{}", row.id, row.created)
}

/// The prefix of the key of a run an audit row carried; the row's id and time follow.
const CARRIED_JOB_KEY: &str = "carried/";

/// How long a follower woken by a request waits before it looks.
const LOG_GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// The most rows a follower reads in one look.
const LOG_PAGE: u64 = 500;

/// The stored setting (internal, not listed) holding the log row up to which the followers
/// queued the `log-after-save` runs.
const LOG_FOLLOWER_POSITION: &str = "Flowgate.log_follower_position";
/// How often a follower writes its position at most (a busy log is not a write every look).
const LOG_POSITION_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The log follower. It queues two kinds of runs from committed audit rows:
/// - the runs rows carry ([`carry`]: the trigger a change fired, committed with it), through
///   [`queue_carried_runs`];
/// - the `log-after-save` trigger (spec §3): a run of the listening workflow for each new row,
///   `{"Log": {...}}`, except rows about workflows and the log itself (MISP's loop guard).
///   Reading committed rows (rather than hooking each writer) means a rolled-back change never
///   fires. Each run acts with the chain depth the row was written at, so a workflow whose
///   actions write log rows stops at the configured depth. Every process follows the log; a
///   row's job is keyed by the row, so it is queued once however many see it. The followers
///   note how far they got, and a process that starts resumes there (rows written while none
///   ran are not lost); history before the listener appeared is skipped.
///
/// It looks every `every`, and 2 ms after a request of this process that wrote a row carrying
/// a run has answered (so the answer reaches its client first). When no workflow listens on
/// `log-after-save` and no row carries a run, a look is one lookup in an empty partial index.
pub async fn follow_log(state: AppState, every: std::time::Duration) {
    use crate::backend::entities::log;
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use std::collections::BTreeMap;
    use std::time::Instant;

    let mut cursor: Option<i32> = None;
    // At start, resume where the followers got to.
    let mut resume = true;
    let mut noted_at: Option<Instant> = None;
    let mut gaps: BTreeMap<i32, Instant> = BTreeMap::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A look that moved a full page of carried runs looks again at once.
    let mut behind = false;
    loop {
        if !std::mem::take(&mut behind) {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.workflows.log_wake.notified() => {
                    tokio::time::sleep(LOG_GATHER).await;
                }
            }
        }
        match queue_carried_runs(&state).await {
            Ok(0) => {}
            Ok(moved) => {
                crate::backend::jobs::wake_workers(&state.workflows.job_wake);
                behind = moved as u64 == LOG_PAGE;
            }
            Err(e) => {
                tracing::warn!(error = %e, "log follower: could not queue the runs rows carry")
            }
        }
        if !listens(&state, "log-after-save") {
            cursor = None;
            resume = false;
            gaps.clear();
            continue;
        }
        let Some(last) = cursor else {
            if std::mem::take(&mut resume) {
                match settings::find_setting(&state.db, LOG_FOLLOWER_POSITION).await {
                    Ok(Some(position)) => {
                        if let Some(id) = position.as_i64().and_then(|p| i32::try_from(p).ok()) {
                            cursor = Some(id);
                            continue;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "log-after-save: could not read where the followers got to")
                    }
                }
            }
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
            .limit(LOG_PAGE)
            .all(&state.db)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "log-after-save: could not read the log");
                continue;
            }
        };
        // A row that cannot be queued is read again at the next look, with the rows after it
        // (queuing is idempotent by the row's key).
        let before = gaps.clone();
        let mut next = last;
        let mut failed = false;
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
            match queue_log_run(&state, &row).await {
                Ok(()) => crate::backend::jobs::wake_workers(&state.workflows.job_wake),
                Err(e) => {
                    tracing::warn!(error = %e, log = row.id, "log-after-save: could not queue the run");
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            gaps = before;
            continue;
        }
        // Every row below the oldest one not yet seen committed is queued: where a process that
        // starts later resumes (several followers may write it; a position behind only makes
        // the next start queue rows again that their keys already cover).
        let done = gaps.keys().next().map_or(next, |gap| (gap - 1).min(next));
        if done > last && noted_at.is_none_or(|at| at.elapsed() >= LOG_POSITION_EVERY) {
            noted_at = Some(Instant::now());
            let position = json!(done);
            if let Err(e) =
                settings::upsert_setting(&state.db, LOG_FOLLOWER_POSITION, &position).await
            {
                tracing::warn!(error = %e, "log-after-save: could not note where the follower got to");
            }
        }
        cursor = Some(next);
        gaps.retain(|_, seen| seen.elapsed() < LOG_GAP_WAIT);
    }
}

/// Moves the runs audit rows carry to the job queue, oldest first, a page at a time: in one
/// transaction each run is queued under its row's key and the row's copy is cleared, so a run
/// is queued once, and a row committed late (on PostgreSQL a lower id can commit after a higher
/// one) is simply found at a later look. Reads through a partial index of the rows that still
/// carry one. Answers how many were moved.
pub async fn queue_carried_runs(state: &AppState) -> Result<usize, AppError> {
    use crate::backend::entities::log;
    use sea_orm::sea_query::Expr;
    use sea_orm::{
        ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    };
    let rows = log::Entity::find()
        .select_only()
        .columns([
            log::Column::Id,
            log::Column::Created,
            log::Column::CarriedRun,
        ])
        .filter(log::Column::CarriedRun.is_not_null())
        .order_by_asc(log::Column::Id)
        .limit(LOG_PAGE)
        .into_tuple::<(i32, i64, Option<String>)>()
        .all(&state.read_db)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let now = crate::backend::jobs::now_us();
    let ids: Vec<i32> = rows.iter().map(|(id, _, _)| *id).collect();
    let jobs: Vec<_> = rows
        .into_iter()
        .filter_map(|(id, created, run)| {
            let key = format!("{CARRIED_JOB_KEY}{id}/{created}");
            run.map(|run| trigger_job(state, run, key, now))
        })
        .collect();
    let moved = ids.len();
    let txn = state.db.begin().await?;
    crate::backend::store::jobs::enqueue_many_once(&txn, jobs, now).await?;
    log::Entity::update_many()
        .col_expr(log::Column::CarriedRun, Expr::value(Option::<String>::None))
        .filter(log::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(moved)
}

/// Queues the `log-after-save` run of `row`, acting for its user.
async fn queue_log_run(
    state: &AppState,
    row: &crate::backend::entities::log::Model,
) -> Result<(), AppError> {
    let actor = match log_actor(state, row).await {
        Ok(actor) => actor,
        Err(e) => {
            tracing::warn!(error = %e, log = row.id, "log-after-save: no user to run as");
            return Ok(());
        }
    };
    let data = json!({"Log": super::audit::log_json(row)});
    queue(
        &state.db,
        state,
        "log-after-save",
        &format!("logs/{}", row.id),
        &actor,
        [(Subject::Data { data }, Some(log_job_key(row)))],
    )
    .await
}

/// Who a `log-after-save` run acts for: the row's user, or SYSTEM for the system's own rows,
/// at the chain depth the row was written at.
async fn log_actor(
    state: &AppState,
    row: &crate::backend::entities::log::Model,
) -> Result<Principal, AppError> {
    let depth = u8::try_from(row.chain_depth).unwrap_or(u8::MAX);
    let found = if row.user_id > 0 {
        super::auth::principal_for_user_id(&state.db, &state.principals, row.user_id).await?
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
