//! `POST /users/login` and `/users/logout`, MISP's paths, for browsers (HTML forms).
use app::backend::services::auth::{self, LOGIN_FAILED};
use app::backend::AppState;
use app::error::AppError;
use app::session::SESSION_USER_ID;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::request::Parts;
use serde::Deserialize;
use tower_sessions::Session;

use crate::api::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/login", post(login))
        .route("/users/logout", get(logout).post(logout))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    redirect: String,
}

/// The client's address, for throttling; "unknown" when the server runs without connect info
/// (in-process tests).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(client): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Response {
    let target = safe_redirect(&form.redirect);
    match auth::login(
        &state.db,
        state.login_throttle,
        &form.email,
        &form.password,
        &client,
    )
    .await
    {
        Ok(user) => {
            // A fresh session id on login prevents session fixation.
            if let Err(e) = session.cycle_id().await {
                tracing::error!(error = %e, "session id rotation failed");
                return ApiError::from(AppError::Internal).into_response();
            }
            if let Err(e) = session.insert(SESSION_USER_ID, user.id).await {
                tracing::error!(error = %e, "session write failed");
                return ApiError::from(AppError::Internal).into_response();
            }
            tracing::info!(user_id = user.id, "login");
            Redirect::to(&target).into_response()
        }
        Err(err) => {
            let code = match err {
                AppError::TooManyRequests(_) => "throttled",
                AppError::Unauthenticated => "failed",
                other => return ApiError::from(other).into_response(),
            };
            tracing::info!(reason = code, "{LOGIN_FAILED}");
            let mut location = format!("/users/login?error={code}");
            if target != "/" {
                location.push_str("&redirect=");
                location.push_str(&crate::principal_layer::urlencode(&target));
            }
            Redirect::to(&location).into_response()
        }
    }
}

async fn logout(session: Session) -> Response {
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "session deletion failed");
        return ApiError::from(AppError::Internal).into_response();
    }
    Redirect::to("/users/login?logged_out=1").into_response()
}

/// Only local absolute paths are followed after login: never another host (open redirect).
fn safe_redirect(target: &str) -> String {
    // Printable ASCII only: browsers drop tabs and newlines, so "/\t/evil.test" would become
    // "//evil.test", another host.
    let local = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && target.bytes().all(|b| b.is_ascii_graphic());
    let path = target.split('?').next().unwrap_or_default();
    if local && path != "/users/login" && path != "/users/logout" {
        target.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_redirect;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_redirect("/administration"), "/administration");
        assert_eq!(safe_redirect("//evil.test/x"), "/");
        assert_eq!(safe_redirect("https://evil.test"), "/");
        assert_eq!(safe_redirect("/\\evil.test"), "/");
        assert_eq!(safe_redirect(""), "/");
        assert_eq!(safe_redirect("/\t/evil.test"), "/");
        assert_eq!(safe_redirect("/\n/evil.test"), "/");
        assert_eq!(safe_redirect("/users/logout"), "/");
        assert_eq!(safe_redirect("/users/login?x=1"), "/");
    }
}
