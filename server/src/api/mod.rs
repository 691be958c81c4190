//! MISP's REST routes, with MISP's request and response shapes.
pub mod admin;
pub mod audit;
pub mod blueprints;
pub mod error;
pub mod events;
pub mod extract;
pub mod lists;
pub mod negotiate;
pub mod openapi;
pub mod proposals;
pub mod servers;
pub mod sharing_groups;
pub mod users;
pub mod workflows;

use std::sync::Arc;

use app::backend::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The REST routes with their OpenAPI document (see [`openapi`]).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(servers::router())
        .merge(users::router())
        .merge(workflows::router())
        .merge(blueprints::router())
        .merge(events::router())
        .merge(admin::router())
        .merge(audit::router())
        .merge(lists::router())
        .merge(proposals::router())
        .merge(sharing_groups::router())
}

/// The generated OpenAPI document.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    parts().1
}

fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = routes().split_for_parts();
    unique_operation_ids(&mut document);
    (router, document)
}

/// A handler serving several methods (MISP's `edit` answers POST and PUT) gives each the same
/// `operationId`; OpenAPI wants them unique, so all but the first get the method appended.
fn unique_operation_ids(document: &mut utoipa::openapi::OpenApi) {
    for item in document.paths.paths.values_mut() {
        let mut seen = std::collections::HashSet::new();
        let operations = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            if let Some(id) = operation.as_mut().and_then(|o| o.operation_id.as_mut()) {
                if !seen.insert(id.clone()) {
                    id.push('_');
                    id.push_str(method);
                }
            }
        }
    }
}

/// The REST routes plus `GET /openapi.json` (public: it describes routes, nothing else).
pub fn router() -> Router<AppState> {
    let (router, document) = parts();
    let document = Arc::new(document);
    // `/openapi.json` reaches the router as `/openapi` (the `.json` suffix is stripped first).
    router.route(
        "/openapi",
        get(move || {
            let document = Arc::clone(&document);
            async move { Json(document.as_ref().clone()) }
        }),
    )
}
