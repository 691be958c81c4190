//! Organisations and users as MISP's REST API manages them (`admin/organisations/*`,
//! `admin/users/*`, `organisations/*`), for PyMISP's `add_organisation`, `add_user`, … .
use app::backend::entities::{organisation, role, user};
use app::backend::services::accounts::{self, UserInput};
use app::backend::store::{orgs, roles, users};
use app::backend::{AppState, Principal};
use app::error::AppError;
use axum::extract::{OriginalUri, Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, Saved, USERS};
use super::users::{organisation_json, role_json, user_json};
use super::workflows::saved;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_org))
        .routes(routes!(view_org))
        .routes(routes!(index_orgs))
        .routes(routes!(delete_org))
        .routes(routes!(add_user))
        .routes(routes!(admin_view_user))
        .routes(routes!(index_users))
        .routes(routes!(delete_user))
}

fn text(obj: &Value, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id_of(obj: &Value, key: &str) -> Result<Option<i32>, ApiError> {
    match text(obj, key) {
        None => Ok(None),
        Some(s) => {
            s.trim().parse().map(Some).map_err(|_| {
                ApiError::from(AppError::Invalid(format!("`{key}` must be a number.")))
            })
        }
    }
}

async fn org_by_ref(state: &AppState, reference: &str) -> Result<organisation::Model, ApiError> {
    let found = match reference.parse::<i32>() {
        Ok(id) => orgs::find_org(&state.db, id)
            .await
            .map_err(AppError::from)?,
        Err(_) => {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            organisation::Entity::find()
                .filter(organisation::Column::Uuid.eq(reference.to_lowercase()))
                .one(&state.db)
                .await
                .map_err(AppError::from)?
        }
    };
    found.ok_or_else(|| AppError::NotFound("Invalid organisation.".into()).into())
}

#[utoipa::path(post, path = "/admin/organisations/add", tag = USERS,
    summary = "Create an organisation (site admins)",
    request_body = Object,
    responses((status = 200, description = "`{\"Organisation\": {...}}`", body = Object), ErrorResponses))]
async fn add_org(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let body = body.unwrap_model("Organisation");
    let name = text(&body, "name").unwrap_or_default();
    let description = text(&body, "description").unwrap_or_default();
    let row = accounts::add_org(&state.db, &actor, &name, &description).await?;
    let org = org_by_ref(&state, &row.id.to_string()).await?;
    Ok(Json(json!({"Organisation": organisation_json(&org)})))
}

/// Organisations are visible to every user, as in MISP.
#[utoipa::path(get, path = "/organisations/view/{id}", tag = USERS,
    summary = "One organisation",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"Organisation\": {...}}`", body = Object), ErrorResponses))]
async fn view_org(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = org_by_ref(&state, &id).await?;
    Ok(Json(json!({"Organisation": organisation_json(&org)})))
}

#[utoipa::path(get, path = "/organisations/index", tag = USERS,
    summary = "Every organisation",
    responses((status = 200, description = "A list of `{\"Organisation\": {...}}`", body = Vec<Object>), ErrorResponses))]
async fn index_orgs(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<Json<Vec<Value>>, ApiError> {
    use sea_orm::{EntityTrait, QueryOrder};
    let all = organisation::Entity::find()
        .order_by_asc(organisation::Column::Name)
        .all(&state.db)
        .await
        .map_err(AppError::from)?;
    Ok(Json(
        all.iter()
            .map(|o| json!({"Organisation": organisation_json(o)}))
            .collect(),
    ))
}

#[utoipa::path(method(post, delete), path = "/admin/organisations/delete/{id}", tag = USERS,
    summary = "Delete an organisation without users or events (site admins)",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_org(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let org = org_by_ref(&state, &id).await?;
    accounts::delete_org(&state.db, &actor, org.id).await?;
    Ok(saved("Organisation deleted", &uri))
}

/// MISP's `{"User", "Role", "UserSetting", "Organisation"}`.
pub(crate) async fn user_document(state: &AppState, u: &user::Model) -> Result<Value, ApiError> {
    let role: Option<role::Model> = roles::find_role(&state.db, u.role_id)
        .await
        .map_err(AppError::from)?;
    let org = orgs::find_org(&state.db, u.org_id)
        .await
        .map_err(AppError::from)?;
    Ok(json!({
        "User": user_json(u),
        "Role": role.as_ref().map(role_json),
        "UserSetting": [],
        "Organisation": org.as_ref().map(organisation_json),
    }))
}

fn require_site_admin(actor: &Principal) -> Result<(), ApiError> {
    actor.require_site_admin().map_err(ApiError::from)
}

/// `email`, `org_id` (default: the caller's organisation), `role_id` (default: the default
/// role), `password` (default: a random one the user must change).
#[utoipa::path(post, path = "/admin/users/add", tag = USERS,
    summary = "Create a user (site admins)",
    request_body = Object,
    responses((status = 200, description = "`{\"User\": {...}}`", body = Object), ErrorResponses))]
async fn add_user(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    require_site_admin(&actor)?;
    let body = body.unwrap_model("User");
    let default_role = roles::list_roles(&state.db)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .find(|r| r.default_role)
        .map_or(roles::ROLE_USER, |r| r.id);
    let input = UserInput {
        email: text(&body, "email").unwrap_or_default(),
        org_id: id_of(&body, "org_id")?.unwrap_or(actor.org.id),
        role_id: id_of(&body, "role_id")?.unwrap_or(default_role),
        password: text(&body, "password")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| app::backend::services::auth::random_token(32)),
    };
    let row = accounts::add_user(&state, &actor, input).await?;
    let created = users::find_user(&state.db, row.id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::Internal)?;
    Ok(Json(json!({"User": user_json(&created)})))
}

#[utoipa::path(get, path = "/admin/users/view/{id}", tag = USERS,
    summary = "One user with role and organisation (site admins)",
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn admin_view_user(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_site_admin(&actor)?;
    let found = match id.parse() {
        Ok(n) => users::find_user(&state.db, n)
            .await
            .map_err(AppError::from)?,
        Err(_) => None,
    };
    let u = found.ok_or_else(|| ApiError::from(AppError::NotFound("Invalid user".into())))?;
    Ok(Json(user_document(&state, &u).await?))
}

#[utoipa::path(get, path = "/admin/users/index", tag = USERS,
    summary = "Every user with role and organisation (site admins)",
    responses((status = 200, description = "Success", body = Vec<Object>), ErrorResponses))]
async fn index_users(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<Value>>, ApiError> {
    use sea_orm::{EntityTrait, QueryOrder};
    require_site_admin(&actor)?;
    let all = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(&state.db)
        .await
        .map_err(AppError::from)?;
    let mut out = Vec::with_capacity(all.len());
    for u in &all {
        out.push(user_document(&state, u).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(method(post, delete), path = "/admin/users/delete/{id}", tag = USERS,
    summary = "Delete a user and their API keys (site admins)",
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_user(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let id = id
        .parse()
        .map_err(|_| ApiError::from(AppError::NotFound("Invalid user".into())))?;
    accounts::delete_user(&state.db, &actor, id).await?;
    Ok(saved("User deleted.", &uri))
}
