//! `/users/*` REST routes.
use app::backend::entities::{organisation, role, user};
use app::backend::AppState;
use app::error::AppError;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::ApiUser;
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, USERS};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(view_user))
}

/// `GET /users/view/me`: the caller's account as MISP returns it. Other ids belong to the
/// admin user routes and are refused here.
#[utoipa::path(get, path = "/users/view/{id}", tag = USERS,
    summary = "The caller's account (`me` or the caller's own id); site admins: any account",
    params(("id" = String, Path, description = "`me` or a user id")),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn view_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let own = id == "me" || id.parse::<i32>().ok() == Some(principal.user.id);
    if !own {
        // Site admins see every account, as in MISP; others only their own.
        let other = match (principal.is_site_admin(), id.parse::<i32>()) {
            (true, Ok(n)) => app::backend::store::users::find_user(&state.db, n)
                .await
                .map_err(AppError::from)?,
            _ => None,
        };
        return match other {
            Some(u) => Ok(Json(super::admin::user_document(&state, &u).await?)),
            None => Err(AppError::NotFound("Invalid user".into()).into()),
        };
    }
    Ok(Json(json!({
        "User": user_json(&principal.user),
        "Role": role_json(&principal.role),
        "UserSetting": [],
        "Organisation": organisation_json(&principal.org),
    })))
}

/// MISP's `User` object. Ids and times are strings as MISP's MySQL driver returns them;
/// the password hash is never included and the legacy `authkey` field is hidden as MISP does
/// with advanced auth keys.
pub fn user_json(u: &user::Model) -> Value {
    json!({
        "id": u.id.to_string(),
        "org_id": u.org_id.to_string(),
        "server_id": "0",
        "email": u.email,
        "autoalert": u.autoalert,
        "authkey": null,
        "invited_by": u.invited_by.to_string(),
        "gpgkey": u.gpgkey,
        "certif_public": "",
        "nids_sid": u.nids_sid.to_string(),
        "termsaccepted": u.termsaccepted,
        "newsread": "0",
        "role_id": u.role_id.to_string(),
        "change_pw": u.change_pw,
        "contactalert": u.contactalert,
        "disabled": u.disabled,
        "expiration": u.expiration.map(|e| e.to_string()),
        "current_login": u.current_login.to_string(),
        "last_login": u.last_login.to_string(),
        "last_api_access": u.last_api_access.to_string(),
        "force_logout": u.force_logout,
        "date_created": u.date_created.to_string(),
        "date_modified": u.date_modified.to_string(),
        "last_pw_change": u.last_pw_change.to_string(),
        "external_auth_required": false,
        "external_auth_key": "",
        "notification_daily": false,
        "notification_weekly": false,
        "notification_monthly": false,
        "totp": null,
        "hotp_counter": null,
    })
}

/// MISP's `Role` object with every permission flag.
pub fn role_json(r: &role::Model) -> Value {
    let permission = if r.perm_publish {
        ("3", "publish")
    } else if r.perm_modify_org {
        ("2", "manage_org")
    } else if r.perm_modify {
        ("1", "manage_own")
    } else {
        ("0", "read_only")
    };
    json!({
        "id": r.id.to_string(),
        "name": r.name,
        "perm_add": r.perm_add,
        "perm_modify": r.perm_modify,
        "perm_modify_org": r.perm_modify_org,
        "perm_publish": r.perm_publish,
        "perm_delegate": r.perm_delegate,
        "perm_sync": r.perm_sync,
        "perm_admin": r.perm_admin,
        "perm_audit": r.perm_audit,
        "perm_full": r.perm_site_admin,
        "perm_auth": r.perm_auth,
        "perm_site_admin": r.perm_site_admin,
        "perm_regexp_access": r.perm_regexp_access,
        "perm_tagger": r.perm_tagger,
        "perm_template": r.perm_template,
        "perm_sharing_group": r.perm_sharing_group,
        "perm_tag_editor": r.perm_tag_editor,
        "perm_sighting": r.perm_sighting,
        "perm_object_template": r.perm_object_template,
        "perm_publish_zmq": r.perm_publish_zmq,
        "perm_publish_kafka": r.perm_publish_kafka,
        "perm_decaying": r.perm_decaying,
        "perm_galaxy_editor": r.perm_galaxy_editor,
        "perm_warninglist": r.perm_warninglist,
        "default_role": r.default_role,
        "restricted_to_site_admin": r.restricted_to_site_admin,
        "memory_limit": "",
        "max_execution_time": "",
        "enforce_rate_limit": false,
        "rate_limit_count": "0",
        "permission": permission.0,
        "permission_description": permission.1,
    })
}

/// MISP's `Organisation` object.
pub fn organisation_json(o: &organisation::Model) -> Value {
    json!({
        "id": o.id.to_string(),
        "name": o.name,
        "date_created": o.date_created.to_string(),
        "date_modified": o.date_modified.to_string(),
        "description": o.description,
        "type": o.r#type,
        "nationality": o.nationality,
        "sector": o.sector,
        "created_by": o.created_by.to_string(),
        "uuid": o.uuid,
        "contacts": o.contacts,
        "local": o.local,
        "restricted_to_domain": [],
        "landingpage": null,
    })
}
