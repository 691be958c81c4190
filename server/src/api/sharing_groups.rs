//! `sharing_groups/*` with MISP's shapes (PyMISP's `sharing_groups`, `add_sharing_group`, …); the
//! camelCase spelling `sharingGroups/*` PyMISP also uses reaches the same routes (see
//! `negotiate`).
use app::backend::services::input::loose_bool;
use app::backend::services::sharing_groups as service;
use app::backend::AppState;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, Saved, SHARING};
use super::workflows::saved;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index_groups))
        .routes(routes!(view_group))
        .routes(routes!(add_group))
        .routes(routes!(edit_group))
        .routes(routes!(delete_group))
        .routes(routes!(add_group_org))
        .routes(routes!(remove_group_org))
        .routes(routes!(add_group_org_by_body))
        .routes(routes!(remove_group_org_by_body))
}

/// `sg_id` and `org_id` from PyMISP's body (`{"sg_id", "org_id", "extend"}`).
fn member_refs(body: &Value) -> Result<(String, String), ApiError> {
    let text = |k: &str| match body.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (text("sg_id"), text("org_id")) {
        (Some(sg), Some(org)) => Ok((sg, org)),
        _ => Err(app::error::AppError::Invalid("`sg_id` and `org_id` are required.".into()).into()),
    }
}

#[utoipa::path(post, path = "/sharing_groups/addOrg", tag = SHARING,
    summary = "Add an organisation to a sharing group, PyMISP's form: `{\"sg_id\", \"org_id\", \"extend\"}`",
    request_body = Object,
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn add_group_org_by_body(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let (sg, org) = member_refs(&body.0)?;
    let extend = loose_bool(body.0.get("extend"));
    let message = service::change_member(&state, &actor, &sg, &org, Some(extend)).await?;
    Ok(saved(&message, &uri))
}

#[utoipa::path(post, path = "/sharing_groups/removeOrg", tag = SHARING,
    summary = "Remove an organisation from a sharing group, PyMISP's form: `{\"sg_id\", \"org_id\"}`",
    request_body = Object,
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn remove_group_org_by_body(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let (sg, org) = member_refs(&body.0)?;
    let message = service::change_member(&state, &actor, &sg, &org, None).await?;
    Ok(saved(&message, &uri))
}

#[utoipa::path(get, path = "/sharing_groups/index", tag = SHARING,
    summary = "The sharing groups the caller's organisation belongs to (all, for site admins)",
    responses((status = 200, description = "`{\"response\": [{\"SharingGroup\", \"Organisation\", \"SharingGroupOrg\", \"SharingGroupServer\", \"editable\", \"deletable\"}]}`", body = Object), ErrorResponses))]
async fn index_groups(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::index_groups(&state, &actor).await?))
}

#[utoipa::path(get, path = "/sharing_groups/view/{id}", tag = SHARING,
    summary = "One sharing group with its organisations",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"SharingGroup\", \"Organisation\", \"SharingGroupOrg\", \"SharingGroupServer\"}`", body = Object), ErrorResponses))]
async fn view_group(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::view_group(&state, &actor, &id).await?))
}

#[utoipa::path(post, path = "/sharing_groups/add", tag = SHARING,
    summary = "Create a sharing group (`perm_sharing_group`); the caller's organisation owns it",
    request_body = Object,
    responses((status = 200, description = "The group, as `view` shows it", body = Object), ErrorResponses))]
async fn add_group(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::add_group(&state, &actor, body.0).await?))
}

#[utoipa::path(method(post, put), path = "/sharing_groups/edit/{id}", tag = SHARING,
    summary = "Change a sharing group's name, releasability, description, active or roaming",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "The group, as `view` shows it", body = Object), ErrorResponses))]
async fn edit_group(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_group(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/sharing_groups/delete/{id}", tag = SHARING,
    summary = "Delete a sharing group nothing shares with",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_group(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let removed = service::delete_group(&state, &actor, &id).await?;
    let Json(mut answer) = saved("Sharing group deleted.", &uri);
    answer["id"] = json!(removed.to_string());
    Ok(Json(answer))
}

#[utoipa::path(post, path = "/sharing_groups/addOrg/{id}/{org_id}", tag = SHARING,
    summary = "Add an organisation to a sharing group (`extend` in the body lets it add others)",
    params(("id" = String, Path, description = "Sharing group id or uuid"),
           ("org_id" = String, Path, description = "Organisation id or uuid")),
    request_body = Object,
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn add_group_org(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, org)): Path<(String, String)>,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let extend = loose_bool(body.unwrap_model("SharingGroupOrg").get("extend"));
    let message = service::change_member(&state, &actor, &id, &org, Some(extend)).await?;
    Ok(saved(&message, &uri))
}

#[utoipa::path(method(post, delete), path = "/sharing_groups/removeOrg/{id}/{org_id}", tag = SHARING,
    summary = "Remove an organisation from a sharing group (never its owner)",
    params(("id" = String, Path, description = "Sharing group id or uuid"),
           ("org_id" = String, Path, description = "Organisation id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn remove_group_org(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, org)): Path<(String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let message = service::change_member(&state, &actor, &id, &org, None).await?;
    Ok(saved(&message, &uri))
}
