//! `shadowAttributes/*` (proposals), `posts/add` and `threads/*` (discussion), with MISP's
//! shapes.
use app::backend::services::discussion::{self, PostTarget};
use app::backend::services::proposals as service;
use app::backend::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, Filters, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, PROPOSALS};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_proposal))
        .routes(routes!(edit_proposal))
        .routes(routes!(delete_proposal))
        .routes(routes!(accept_proposal))
        .routes(routes!(discard_proposal))
        .routes(routes!(view_proposal))
        .routes(routes!(index_proposals))
        .routes(routes!(index_event_proposals))
        .routes(routes!(add_post))
        .routes(routes!(add_post_to))
        .routes(routes!(view_thread))
        .routes(routes!(view_event_thread))
        .routes(routes!(index_threads))
}

#[utoipa::path(post, path = "/shadowAttributes/add/{event_id}", tag = PROPOSALS,
    summary = "Propose a new attribute for an event",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"ShadowAttribute\": {...}}`", body = Object), ErrorResponses))]
async fn add_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::add_proposal(&state, &actor, &event_id, body.0).await?,
    ))
}

#[utoipa::path(method(post, put), path = "/shadowAttributes/edit/{attribute_id}", tag = PROPOSALS,
    summary = "Propose new values for an attribute",
    params(("attribute_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"ShadowAttribute\": {...}}`", body = Object), ErrorResponses))]
async fn edit_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(attribute_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_proposal(&state, &actor, &attribute_id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/shadowAttributes/delete/{attribute_id}", tag = PROPOSALS,
    summary = "Propose deleting an attribute",
    params(("attribute_id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"saved\": true, \"success\": ...}` (MISP answers 200 with `errors` when the attribute is unknown)", body = Object), ErrorResponses))]
async fn delete_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(attribute_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::delete_proposal(&state, &actor, &attribute_id).await?,
    ))
}

#[utoipa::path(post, path = "/shadowAttributes/accept/{id}", tag = PROPOSALS,
    summary = "Accept a proposal (the event's editors)",
    params(("id" = String, Path, description = "Proposal id")),
    responses((status = 200, description = "`{\"name\", \"message\", \"url\"}`", body = Object), ErrorResponses))]
async fn accept_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::accept_proposal(&state, &actor, &id).await?))
}

#[utoipa::path(post, path = "/shadowAttributes/discard/{id}", tag = PROPOSALS,
    summary = "Discard a proposal (the event's editors or its author)",
    params(("id" = String, Path, description = "Proposal id")),
    responses((status = 200, description = "`{\"name\", \"message\", \"url\"}`", body = Object), ErrorResponses))]
async fn discard_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::discard_proposal(&state, &actor, &id).await?))
}

#[utoipa::path(get, path = "/shadowAttributes/view/{id}", tag = PROPOSALS,
    summary = "One open proposal",
    params(("id" = String, Path, description = "Proposal id")),
    responses((status = 200, description = "`{\"ShadowAttribute\": {...}}`", body = Object), ErrorResponses))]
async fn view_proposal(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::view_proposal(&state, &actor, &id).await?))
}

#[utoipa::path(get, path = "/shadowAttributes/index", tag = PROPOSALS,
    summary = "Proposals the caller may see (handled ones too unless `deleted` is given)",
    params(("deleted" = Option<String>, Query), ("all" = Option<String>, Query), ("timestamp" = Option<String>, Query)),
    responses((status = 200, description = "`[{\"ShadowAttribute\": {...}}]`", body = Object), ErrorResponses))]
async fn index_proposals(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Filters(filters): Filters,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::index_proposals(&state, &actor, None, &filters).await?,
    ))
}

#[utoipa::path(get, path = "/shadowAttributes/index/{event_id}", tag = PROPOSALS,
    summary = "An event's proposals",
    params(("event_id" = String, Path, description = "Numeric id or uuid"),
           ("deleted" = Option<String>, Query), ("all" = Option<String>, Query), ("timestamp" = Option<String>, Query)),
    responses((status = 200, description = "`[{\"ShadowAttribute\": {...}}]`", body = Object), ErrorResponses))]
async fn index_event_proposals(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    Filters(filters): Filters,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::index_proposals(&state, &actor, Some(&event_id), &filters).await?,
    ))
}

#[utoipa::path(post, path = "/posts/add", tag = PROPOSALS,
    summary = "Start a discussion thread: `{\"Post\": {\"title\", \"message\", \"distribution\"}}`",
    request_body = Object,
    responses((status = 200, description = "The thread, as `threads/view` shows it", body = Object), ErrorResponses))]
async fn add_post(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        discussion::add_post(&state, &actor, PostTarget::NewThread, body.0).await?,
    ))
}

#[utoipa::path(post, path = "/posts/add/{target}/{id}", tag = PROPOSALS,
    summary = "Post to an event's discussion (`event`), a thread (`thread`) or in reply to a post (`post`)",
    params(("target" = String, Path, description = "`event`, `thread` or `post`"),
           ("id" = String, Path, description = "The event (id or uuid), thread or post")),
    request_body = Object,
    responses((status = 200, description = "The thread, as `threads/view` shows it", body = Object), ErrorResponses))]
async fn add_post_to(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((target, id)): Path<(String, String)>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let target = match target.as_str() {
        "event" => PostTarget::Event(&id),
        "thread" => PostTarget::Thread(&id),
        "post" => PostTarget::Post(&id),
        other => {
            return Err(app::error::AppError::NotFound(format!(
                "Unknown post target `{other}`: expected event, thread or post."
            ))
            .into())
        }
    };
    Ok(Json(
        discussion::add_post(&state, &actor, target, body.0).await?,
    ))
}

#[utoipa::path(get, path = "/threads/view/{id}", tag = PROPOSALS,
    summary = "A thread with its posts",
    params(("id" = String, Path)),
    responses((status = 200, description = "`{\"Thread\": {..., \"Post\": [...]}}`", body = Object), ErrorResponses))]
async fn view_thread(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(discussion::view_thread(&state, &actor, &id).await?))
}

#[utoipa::path(get, path = "/threads/viewEvent/{event_id}", tag = PROPOSALS,
    summary = "An event's discussion",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"Thread\": {..., \"Post\": [...]}}`", body = Object), ErrorResponses))]
async fn view_event_thread(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        discussion::view_event_thread(&state, &actor, &event_id).await?,
    ))
}

#[utoipa::path(get, path = "/threads/index", tag = PROPOSALS,
    summary = "The threads the caller may read, most recently active first",
    responses((status = 200, description = "`[{\"Thread\": {...}}]`", body = Object), ErrorResponses))]
async fn index_threads(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(discussion::index_threads(&state, &actor).await?))
}
