//! Discussion threads and their posts (MISP's `threads` / `posts`): a free-standing thread, or
//! the one discussion of an event, created with its first post.
//!
//! Who sees a thread: an event's thread follows the event; a free-standing one with
//! distribution 0 stays in its organisation, 1–3 are seen by every user. MISP answers `posts/add`
//! with a redirect to the thread; Flowgate answers the thread itself (`threads/view`'s JSON), which
//! is what a client following the redirect would read.
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Map, Value};

use super::audit::{self, Entry};
use super::events::{can_see, read_only, visible_event};
use crate::backend::entities::{event, organisation, post, thread, user};
use crate::backend::store::{events as store, orgs};
use crate::backend::{misp_datetime, now, AppState, Principal};
use crate::error::AppError;

/// Longest post accepted.
const MAX_POST: usize = 65_535;

/// The thread a post goes to: an existing one, or one to create (event id or 0, title,
/// distribution).
enum Thread {
    Existing(i32),
    New(i32, String, i16),
}

/// Where `posts/add` puts a post.
#[derive(Debug, Clone, Copy)]
pub enum PostTarget<'a> {
    /// A new free-standing thread (needs a `title`).
    NewThread,
    /// The event's discussion (created on its first post).
    Event(&'a str),
    /// An existing thread.
    Thread(&'a str),
    /// A reply to a post, in that post's thread.
    Post(&'a str),
}

fn thread_fields(t: &thread::Model) -> Map<String, Value> {
    let v = json!({
        "id": t.id.to_string(),
        "date_created": misp_datetime(t.date_created),
        "date_modified": misp_datetime(t.date_modified),
        "distribution": t.distribution.to_string(),
        "user_id": t.user_id.to_string(),
        "post_count": t.post_count.to_string(),
        "event_id": t.event_id.to_string(),
        "title": t.title,
        "org_id": t.org_id.to_string(),
        "sharing_group_id": t.sharing_group_id.to_string(),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Whether `actor` may read thread `t` (and `ev`, its event, when it has one).
fn may_read(actor: &Principal, t: &thread::Model, ev: Option<&event::Model>) -> bool {
    if actor.is_site_admin() {
        return true;
    }
    match ev {
        Some(ev) => can_see(actor, ev),
        None if t.event_id != 0 => false,
        None => t.org_id == actor.org.id || (1..=3).contains(&t.distribution),
    }
}

async fn thread_event(
    db: &impl ConnectionTrait,
    t: &thread::Model,
) -> Result<Option<event::Model>, AppError> {
    if t.event_id == 0 {
        return Ok(None);
    }
    Ok(store::find_event(db, &t.event_id.to_string()).await?)
}

/// `{"Thread": {..., "Post": [...]}}`; posters' e-mails only for site admins and the poster's
/// organisation, as in MISP.
async fn thread_document(
    db: &impl ConnectionTrait,
    actor: &Principal,
    t: &thread::Model,
) -> Result<Value, AppError> {
    let posts = post::Entity::find()
        .filter(post::Column::ThreadId.eq(t.id))
        .order_by_asc(post::Column::Id)
        .all(db)
        .await?;
    let mut users: HashMap<i32, Option<user::Model>> = HashMap::new();
    let mut orgs_seen: HashMap<i32, Option<organisation::Model>> = HashMap::new();
    let mut rendered = Vec::with_capacity(posts.len());
    for p in &posts {
        if let std::collections::hash_map::Entry::Vacant(slot) = users.entry(p.user_id) {
            slot.insert(user::Entity::find_by_id(p.user_id).one(db).await?);
        }
        let author = users.get(&p.user_id).cloned().flatten();
        let org_id = author.as_ref().map_or(0, |u| u.org_id);
        if let std::collections::hash_map::Entry::Vacant(slot) = orgs_seen.entry(org_id) {
            slot.insert(orgs::find_org(db, org_id).await?);
        }
        let org = orgs_seen.get(&org_id).cloned().flatten();
        let mut v = json!({
            "id": p.id.to_string(),
            "date_created": misp_datetime(p.date_created),
            "date_modified": misp_datetime(p.date_modified),
            "user_id": p.user_id.to_string(),
            "contents": p.contents,
            "post_id": p.post_id.to_string(),
            "thread_id": p.thread_id.to_string(),
            "org_name": org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        });
        if actor.is_site_admin() || org_id == actor.org.id {
            v["user_email"] = json!(author.map(|u| u.email).unwrap_or_default());
        }
        rendered.push(v);
    }
    let mut m = thread_fields(t);
    if !rendered.is_empty() {
        m.insert("Post".into(), Value::Array(rendered));
    }
    Ok(json!({"Thread": m}))
}

async fn readable_thread(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<thread::Model, AppError> {
    let invalid = || AppError::NotFound("Invalid thread.".into());
    let id: i32 = id.parse().map_err(|_| invalid())?;
    let t = thread::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let ev = thread_event(&state.db, &t).await?;
    if may_read(actor, &t, ev.as_ref()) {
        Ok(t)
    } else {
        Err(invalid())
    }
}

/// `GET threads/view/<id>`.
pub async fn view_thread(state: &AppState, actor: &Principal, id: &str) -> Result<Value, AppError> {
    let t = readable_thread(state, actor, id).await?;
    thread_document(&state.db, actor, &t).await
}

async fn event_thread(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<Option<thread::Model>, sea_orm::DbErr> {
    thread::Entity::find()
        .filter(thread::Column::EventId.eq(event_id))
        .order_by_asc(thread::Column::Id)
        .one(db)
        .await
}

/// `GET threads/viewEvent/<event id|uuid>`: the event's discussion (404 when it has none; MISP
/// answers 500 there).
pub async fn view_event_thread(
    state: &AppState,
    actor: &Principal,
    event_ref: &str,
) -> Result<Value, AppError> {
    let ev = visible_event(state, actor, event_ref)
        .await
        .map_err(|_| AppError::NotFound("Invalid Thread.".into()))?;
    let t = event_thread(&state.db, ev.id)
        .await?
        .ok_or_else(|| AppError::NotFound("This event has no discussion yet.".into()))?;
    thread_document(&state.db, actor, &t).await
}

/// `GET threads/index`: the threads `actor` may read that have posts, most recent first.
pub async fn index_threads(state: &AppState, actor: &Principal) -> Result<Value, AppError> {
    let threads = thread::Entity::find()
        .filter(thread::Column::PostCount.gt(0))
        .order_by_desc(thread::Column::DateModified)
        .order_by_desc(thread::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for t in &threads {
        let ev = thread_event(&state.db, t).await?;
        if may_read(actor, t, ev.as_ref()) {
            out.push(json!({"Thread": thread_fields(t)}));
        }
    }
    Ok(Value::Array(out))
}

/// `POST posts/add[/event/<id>|/thread/<id>|/post/<id>]` with `{"Post": {"message", "title"}}`.
pub async fn add_post(
    state: &AppState,
    actor: &Principal,
    target: PostTarget<'_>,
    body: Value,
) -> Result<Value, AppError> {
    read_only(actor)?;
    if !(actor.role.perm_add || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to post.".into(),
        ));
    }
    let m = match body {
        Value::Object(mut m) => match m.remove("Post") {
            Some(Value::Object(inner)) => inner,
            _ => m,
        },
        _ => Map::new(),
    };
    let message = m
        .get("message")
        .or_else(|| m.get("contents"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if message.is_empty() {
        return Err(AppError::Invalid("Cannot post an empty message.".into()));
    }
    if message.len() > MAX_POST {
        return Err(AppError::Invalid(format!(
            "A post is at most {MAX_POST} bytes."
        )));
    }
    // Resolve the target first (reads; SQLite has one connection, held by a transaction).
    let (thread, reply_to) = match target {
        PostTarget::NewThread => {
            let title = m
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            if title.is_empty() || title.chars().count() > 255 {
                return Err(AppError::Invalid(
                    "A new thread needs a title (at most 255 characters).".into(),
                ));
            }
            let distribution = match m.get("distribution") {
                None | Some(Value::Null) => 1,
                Some(v) => match v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                {
                    Some(d @ 0..=3) => d as i16,
                    _ => return Err(AppError::Invalid("distribution: expected 0 to 3.".into())),
                },
            };
            (Thread::New(0, title, distribution), 0)
        }
        PostTarget::Event(r) => {
            let ev = visible_event(state, actor, r).await?;
            match event_thread(&state.db, ev.id).await? {
                Some(t) => (Thread::Existing(t.id), 0),
                None => {
                    let title = format!("Discussion about Event #{} ({})", ev.id, ev.info);
                    let title: String = title.chars().take(255).collect();
                    (Thread::New(ev.id, title, ev.distribution), 0)
                }
            }
        }
        PostTarget::Thread(id) => (
            Thread::Existing(readable_thread(state, actor, id).await?.id),
            0,
        ),
        PostTarget::Post(id) => {
            let invalid = || AppError::NotFound("Invalid post.".into());
            let pid: i32 = id.parse().map_err(|_| invalid())?;
            let parent = post::Entity::find_by_id(pid)
                .one(&state.db)
                .await?
                .ok_or_else(invalid)?;
            let t = readable_thread(state, actor, &parent.thread_id.to_string())
                .await
                .map_err(|_| invalid())?;
            (Thread::Existing(t.id), parent.id)
        }
    };
    let ts = now();
    let txn = state.db.begin().await?;
    let thread_id = match thread {
        Thread::Existing(id) => id,
        Thread::New(event_id, title, distribution) => {
            new_thread(&txn, actor, event_id, title, distribution, ts)
                .await?
                .id
        }
    };
    let saved = post::ActiveModel {
        id: NotSet,
        date_created: Set(ts),
        date_modified: Set(ts),
        user_id: Set(actor.user.id),
        contents: Set(message),
        post_id: Set(reply_to),
        thread_id: Set(thread_id),
    }
    .insert(&txn)
    .await?;
    // Counted in the database, so concurrent posts are not lost.
    thread::Entity::update_many()
        .col_expr(
            thread::Column::PostCount,
            Expr::col(thread::Column::PostCount).add(1),
        )
        .col_expr(thread::Column::DateModified, Expr::value(ts))
        .filter(thread::Column::Id.eq(thread_id))
        .exec(&txn)
        .await?;
    let t = thread::Entity::find_by_id(thread_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Post",
            saved.id,
            "add",
            format!("Post ({}) in Thread ({}): {}", saved.id, t.id, t.title),
        ),
    )
    .await?;
    let out = thread_document(&txn, actor, &t).await?;
    // `post-after-save` (non-blocking, raw data): `{Post, Thread, Event?}`.
    let action = format!("posts/add/{}", saved.id);
    let subject = super::hooks::Subject::Post { id: saved.id };
    super::hooks::fire(&txn, state, "post-after-save", action, actor, subject).await?;
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(out)
}

/// The data of `post-after-save` for stored post `id`: `{Post, Thread, Event?}`; `None` when
/// the post or its thread is gone.
pub(super) async fn post_subject(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<Value>, AppError> {
    let Some(p) = post::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(thread) = thread::Entity::find_by_id(p.thread_id).one(db).await? else {
        return Ok(None);
    };
    let mut data = json!({
        "Post": {"id": p.id.to_string(), "date_created": misp_datetime(p.date_created),
                 "date_modified": misp_datetime(p.date_modified), "user_id": p.user_id.to_string(),
                 "contents": p.contents, "post_id": p.post_id.to_string(),
                 "thread_id": p.thread_id.to_string()},
        "Thread": thread_fields(&thread),
    });
    if let Some(ev) = thread_event(db, &thread).await? {
        data["Event"] = super::events::event_row_document(db, &ev).await?["Event"].take();
    }
    Ok(Some(data))
}

async fn new_thread(
    db: &impl ConnectionTrait,
    actor: &Principal,
    event_id: i32,
    title: String,
    distribution: i16,
    ts: i64,
) -> Result<thread::Model, AppError> {
    Ok(thread::ActiveModel {
        id: NotSet,
        date_created: Set(ts),
        date_modified: Set(ts),
        distribution: Set(distribution),
        user_id: Set(actor.user.id),
        post_count: Set(0),
        event_id: Set(event_id),
        title: Set(title),
        org_id: Set(actor.org.id),
        sharing_group_id: Set(0),
    }
    .insert(db)
    .await?)
}
