//! `eventBlocklists/*` and `warninglists/*`, with MISP's shapes.
use app::backend::services::lists as service;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, Filters, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, Saved, LISTS};
use super::workflows::saved;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index_blocklist))
        .routes(routes!(add_blocklist))
        .routes(routes!(edit_blocklist))
        .routes(routes!(delete_blocklist))
        .routes(routes!(index_warninglists))
        .routes(routes!(view_warninglist))
        .routes(routes!(add_warninglist))
        .routes(routes!(edit_warninglist))
        .routes(routes!(delete_warninglist))
        .routes(routes!(toggle_warninglists))
        .routes(routes!(check_value))
}

#[utoipa::path(get, path = "/eventBlocklists/index", tag = LISTS,
    summary = "The event blocklist (site admins and host-organisation users who may add events)",
    params(("event_uuid" = Option<String>, Query), ("comment" = Option<String>, Query),
           ("event_info" = Option<String>, Query), ("event_orgc" = Option<String>, Query),
           ("searchall" = Option<String>, Query, description = "Substring of any of the four")),
    responses((status = 200, description = "A bare list of entries, as MISP answers", body = Object), ErrorResponses))]
async fn index_blocklist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Filters(filters): Filters,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::index_blocklist(&state, &actor, &filters).await?,
    ))
}

#[utoipa::path(post, path = "/eventBlocklists/add", tag = LISTS,
    summary = "Blocklist event uuids: `{\"uuids\": [...], \"comment\", \"event_info\", \"event_orgc\"}`",
    request_body = Object,
    responses((status = 200, description = "`{\"result\": {\"successes\", \"fails\"}, \"message\"}`", body = Object), ErrorResponses))]
async fn add_blocklist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::add_blocklist(&state, &actor, body.0).await?))
}

#[utoipa::path(method(post, put), path = "/eventBlocklists/edit/{id}", tag = LISTS,
    summary = "Change a blocklist entry's comment, event_info or event_orgc",
    params(("id" = String, Path, description = "Entry id or the blocklisted event uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"EventBlocklist\": {...}}`", body = Object), ErrorResponses))]
async fn edit_blocklist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_blocklist(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/eventBlocklists/delete/{id}", tag = LISTS,
    summary = "Remove a blocklist entry",
    params(("id" = String, Path, description = "Entry id or the blocklisted event uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_blocklist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let removed = service::delete_blocklist(&state, &actor, &id).await?;
    let Json(mut answer) = saved("Blocklist entry removed", &uri);
    answer["id"] = json!(removed.to_string());
    Ok(Json(answer))
}

#[utoipa::path(get, path = "/warninglists/index", tag = LISTS,
    summary = "Warninglists with their entry counts",
    params(("value" = Option<String>, Query, description = "Substring of name or description, or the type"),
           ("enabled" = Option<String>, Query)),
    responses((status = 200, description = "`{\"Warninglists\": [{\"Warninglist\": {...}}]}`", body = Object), ErrorResponses))]
async fn index_warninglists(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
    Filters(filters): Filters,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::index_warninglists(&state, &filters).await?))
}

#[utoipa::path(get, path = "/warninglists/view/{id}", tag = LISTS,
    summary = "One warninglist with its entries and attribute types",
    params(("id" = String, Path)),
    responses((status = 200, description = "`{\"Warninglist\": {..., \"WarninglistEntry\", \"WarninglistType\"}}`", body = Object), ErrorResponses))]
async fn view_warninglist(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::view_warninglist(&state, &id).await?))
}

#[utoipa::path(post, path = "/warninglists/add", tag = LISTS,
    summary = "Add a custom warninglist (name, description, type, category, entries, matching_attributes)",
    request_body = Object,
    responses((status = 200, description = "`{\"Warninglist\": {...}}`", body = Object), ErrorResponses))]
async fn add_warninglist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::add_warninglist(&state, &actor, body.0).await?,
    ))
}

#[utoipa::path(method(post, put), path = "/warninglists/edit/{id}", tag = LISTS,
    summary = "Change a custom warninglist; `entries` replaces every entry",
    params(("id" = String, Path)),
    request_body = Object,
    responses((status = 200, description = "`{\"Warninglist\": {...}}`", body = Object), ErrorResponses))]
async fn edit_warninglist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_warninglist(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/warninglists/delete/{id}", tag = LISTS,
    summary = "Delete a custom warninglist",
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_warninglist(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_warninglist(&state, &actor, &id).await?;
    Ok(saved("Warninglist deleted", &uri))
}

#[utoipa::path(post, path = "/warninglists/toggleEnable", tag = LISTS,
    summary = "Enable, disable or toggle warninglists by `id` and/or `name` (lists allowed)",
    request_body = Object,
    responses((status = 200, description = "`{\"saved\": true, \"success\": \"1 warninglist(s) enabled\"}` (or `saved: false` with `errors`)", body = Object), ErrorResponses))]
async fn toggle_warninglists(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::toggle_warninglists(&state, &actor, body.0).await?,
    ))
}

#[utoipa::path(post, path = "/warninglists/checkValue", tag = LISTS,
    summary = "Which enabled warninglists match each value",
    request_body = Object,
    responses((status = 200, description = "`{\"<value>\": [{\"id\", \"name\", \"matched\"}]}`, or `[]`", body = Object), ErrorResponses))]
async fn check_value(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::check_values(&state, body.0).await?))
}
