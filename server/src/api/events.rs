//! `/events/*`, `/attributes/*` and `/tags/*`: MISP's core-object routes.
use app::backend::services::events::{self as service, IndexFilter};
use app::backend::services::input::loose_bool;
use app::backend::AppState;
use app::error::AppError;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::extract::{ApiUser, MispJson};
#[allow(unused_imports)] // named only inside `#[utoipa::path]` attributes
use super::openapi::{ErrorResponses, MispError, Saved, EVENTS, TAGS};
use super::workflows::saved;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_event))
        .routes(routes!(edit_event))
        .routes(routes!(view_event))
        .routes(routes!(index_events))
        .routes(routes!(delete_event))
        .routes(routes!(publish_event))
        .routes(routes!(unpublish_event))
        .routes(routes!(add_attributes))
        .routes(routes!(edit_attribute))
        .routes(routes!(delete_attribute))
        .routes(routes!(delete_attribute_hard))
        .routes(routes!(add_object))
        .routes(routes!(edit_object))
        .routes(routes!(delete_object))
        .routes(routes!(delete_object_hard))
        .routes(routes!(index_tags))
        .routes(routes!(add_tag))
        .routes(routes!(attach_tag))
        .routes(routes!(remove_tag))
        .routes(routes!(search_events))
        .routes(routes!(search_attributes))
        .routes(routes!(add_sighting))
        .routes(routes!(add_sighting_to))
        .routes(routes!(add_report))
        .routes(routes!(view_report))
        .routes(routes!(edit_report))
        .routes(routes!(delete_report))
        .routes(routes!(delete_report_hard))
        .routes(routes!(describe_types))
        .routes(routes!(run_workflow))
        .routes(routes!(query_enrichment))
        .routes(routes!(query_enrichment_typed))
        .routes(routes!(hover_enrichment))
}

#[utoipa::path(method(get, post), path = "/events/queryEnrichment/{attribute_id}/{module}", tag = EVENTS,
    summary = "Enrich an attribute with one misp-modules module (runs `enrichment-before-query` first)",
    params(("attribute_id" = String, Path, description = "Numeric id or uuid"),
           ("module" = String, Path, description = "The misp-modules module name")),
    responses((status = 200, description = "`{\"module\", \"results\"}` as misp-modules answered", body = Object),
              (status = 502, description = "misp-modules failed or is unreachable", body = MispError), ErrorResponses))]
async fn query_enrichment(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((attribute_id, module)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::enrichment::query(&state, &actor, &attribute_id, &module).await?,
    ))
}

/// MISP's form with the module type (`Enrichment`) as a third segment.
#[utoipa::path(method(get, post), path = "/events/queryEnrichment/{attribute_id}/{module}/{type}", tag = EVENTS,
    summary = "Same, with MISP's module-type segment",
    params(("attribute_id" = String, Path, description = "Numeric id or uuid"),
           ("module" = String, Path, description = "The misp-modules module name"),
           ("type" = String, Path, description = "`Enrichment`")),
    responses((status = 200, description = "`{\"module\", \"results\"}`", body = Object), ErrorResponses))]
async fn query_enrichment_typed(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((attribute_id, module, kind)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    if !kind.eq_ignore_ascii_case("enrichment") {
        return Err(AppError::Invalid(format!(
            "Module type `{kind}`: only Enrichment queries are served here."
        ))
        .into());
    }
    Ok(Json(
        app::backend::services::enrichment::query(&state, &actor, &attribute_id, &module).await?,
    ))
}

#[utoipa::path(get, path = "/attributes/hoverEnrichment/{id}", tag = EVENTS,
    summary = "Every misp-modules hover module that takes the attribute's type",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"<module>\": results}`", body = Object), ErrorResponses))]
async fn hover_enrichment(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::enrichment::hover(&state, &actor, &id).await?,
    ))
}

#[utoipa::path(method(post, get), path = "/events/restSearch", tag = EVENTS,
    summary = "Search events (MISP's restSearch, JSON); filters in the body",
    request_body = Object,
    responses((status = 200, description = "`{\"response\": [{\"Event\": {...}}]}`", body = Object), ErrorResponses))]
async fn search_events(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::search::search_events(&state, &actor, &body.0).await?,
    ))
}

#[utoipa::path(method(post, get), path = "/attributes/restSearch", tag = EVENTS,
    summary = "Search attributes (MISP's restSearch, JSON); filters in the body",
    request_body = Object,
    responses((status = 200, description = "`{\"response\": {\"Attribute\": [...]}}`", body = Object), ErrorResponses))]
async fn search_attributes(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::search::search_attributes(&state, &actor, &body.0).await?,
    ))
}

/// One sighting answers `{"Sighting": {...}}`; several (a value on several attributes) answer
/// `{"Sighting": [...]}`.
fn sightings_answer(mut made: Vec<Value>) -> Json<Value> {
    if made.len() == 1 {
        Json(json!({"Sighting": made.remove(0)}))
    } else {
        Json(json!({"Sighting": made}))
    }
}

#[utoipa::path(post, path = "/sightings/add", tag = EVENTS,
    summary = "Sight an attribute (`id` / `uuid`) or every visible attribute with a `value`",
    request_body = Object,
    responses((status = 200, description = "`{\"Sighting\": {...}}`", body = Object), ErrorResponses))]
async fn add_sighting(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let made = app::backend::services::reports::add_sighting(&state, &actor, None, body.0).await?;
    Ok(sightings_answer(made))
}

#[utoipa::path(post, path = "/sightings/add/{attribute_id}", tag = EVENTS,
    summary = "Sight one attribute",
    params(("attribute_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"Sighting\": {...}}`", body = Object), ErrorResponses))]
async fn add_sighting_to(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(attribute_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let made =
        app::backend::services::reports::add_sighting(&state, &actor, Some(&attribute_id), body.0)
            .await?;
    Ok(sightings_answer(made))
}

#[utoipa::path(post, path = "/eventReports/add/{event_id}", tag = EVENTS,
    summary = "Add a report (markdown) to an event",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"EventReport\": {...}}`", body = Object), ErrorResponses))]
async fn add_report(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::reports::add_report(&state, &actor, &event_id, body.0).await?,
    ))
}

#[utoipa::path(get, path = "/eventReports/view/{id}", tag = EVENTS,
    summary = "One event report",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"EventReport\": {...}}`", body = Object), ErrorResponses))]
async fn view_report(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::reports::view_report(&state, &actor, &id).await?,
    ))
}

#[utoipa::path(method(post, put), path = "/eventReports/edit/{id}", tag = EVENTS,
    summary = "Change an event report",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"EventReport\": {...}}`", body = Object), ErrorResponses))]
async fn edit_report(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        app::backend::services::reports::edit_report(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/eventReports/delete/{id}", tag = EVENTS,
    summary = "Soft-delete an event report",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_report(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    app::backend::services::reports::delete_report(&state, &actor, &id, false).await?;
    Ok(saved("Event Report deleted.", &uri))
}

#[utoipa::path(method(post, delete), path = "/eventReports/delete/{id}/{hard}", tag = EVENTS,
    summary = "Delete an event report; `hard` = 1 removes it for good",
    params(("id" = String, Path, description = "Numeric id or uuid"),
           ("hard" = String, Path, description = "`1` for a hard delete")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_report_hard(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, hard)): Path<(String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let hard = app::backend::services::reports::hard_flag(&hard);
    app::backend::services::reports::delete_report(&state, &actor, &id, hard).await?;
    Ok(saved("Event Report deleted.", &uri))
}

#[utoipa::path(get, path = "/attributes/describeTypes", tag = EVENTS,
    summary = "MISP's attribute types, categories and their defaults (PyMISP reads it at start)",
    responses((status = 200, description = "`{\"result\": {types, categories, category_type_mappings, sane_defaults}}`", body = Object), ErrorResponses))]
async fn describe_types(ApiUser(_actor): ApiUser) -> Json<Value> {
    Json(app::backend::services::describe_types::describe_types_json())
}

/// MISP's form: `{"Event": {"<workflow id>": 1, …}}`.
#[utoipa::path(post, path = "/events/runWorkflow/{event_id}", tag = EVENTS,
    summary = "Run the selected ad-hoc workflows (scope `passed_event_ids`) on an event",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "Success, with each workflow's run result", body = Object), ErrorResponses))]
async fn run_workflow(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let selected = body.unwrap_model("Event");
    let results = app::backend::services::workflows::run_workflows_on_event(
        &state, &actor, &event_id, &selected,
    )
    .await?;
    let n = results.len();
    let Json(mut out) = saved(
        &format!(
            "{n} workflow{} executed on the event.",
            if n == 1 { "" } else { "s" }
        ),
        &uri,
    );
    out["results"] = results
        .into_iter()
        .map(|(id, result)| json!({"workflow_id": id, "result": result}))
        .collect();
    Ok(Json(out))
}

#[utoipa::path(post, path = "/events/add", tag = EVENTS,
    summary = "Create an event with its attributes, objects and tags (one transaction)",
    request_body = Object,
    responses((status = 200, description = "The stored event, as events/view shows it", body = Object),
              (status = 409, description = "An event with this uuid exists", body = MispError), ErrorResponses))]
async fn add_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::add_event(&state, &actor, body.0).await?))
}

#[utoipa::path(method(post, put), path = "/events/edit/{id}", tag = EVENTS,
    summary = "Change an event; attributes and objects in the body are matched by uuid or added",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "The stored event", body = Object), ErrorResponses))]
async fn edit_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_event(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(get, path = "/events/view/{id}", tag = EVENTS,
    summary = "One event with its attributes, objects and tags",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "`{\"Event\": {...}}`", body = Object), ErrorResponses))]
async fn view_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::view_event(&state, &actor, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
struct IndexQuery {
    eventid: Option<String>,
    uuid: Option<String>,
    org: Option<String>,
    published: Option<String>,
    eventinfo: Option<String>,
    tag: Option<String>,
    timestamp: Option<i64>,
    page: Option<u64>,
    limit: Option<u64>,
}

/// GET filters as query parameters; POST (PyMISP's `search_index`) as a JSON body.
#[utoipa::path(method(get, post), path = "/events/index", tag = EVENTS,
    summary = "Events visible to the caller, newest first",
    params(("eventid" = Option<String>, Query, description = "Ids, comma-separated"),
           ("uuid" = Option<String>, Query), ("org" = Option<String>, Query, description = "Creator org id or name"),
           ("published" = Option<String>, Query, description = "`0` or `1`"),
           ("eventinfo" = Option<String>, Query, description = "Substring of the info"),
           ("tag" = Option<String>, Query, description = "Tag name"),
           ("timestamp" = Option<i64>, Query, description = "Changed at or after (Unix seconds)"),
           ("page" = Option<u64>, Query), ("limit" = Option<u64>, Query)),
    responses((status = 200, description = "Event rows with `Org`, `Orgc`, `EventTag`", body = Vec<Object>), ErrorResponses))]
async fn index_events(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<IndexQuery>,
    body: MispJson,
) -> Result<Json<Vec<Value>>, ApiError> {
    let body = body.unwrap_model("Event");
    let field = |key: &str| -> Option<String> {
        match body.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(if *b { "1" } else { "0" }.into()),
            _ => None,
        }
    };
    let published = q.published.or_else(|| field("published"));
    let filter = IndexFilter {
        eventid: q.eventid.or_else(|| field("eventid")),
        uuid: q.uuid.or_else(|| field("uuid")),
        org: q.org.or_else(|| field("org")),
        published: published.map(|p| loose_bool(Some(&Value::String(p)))),
        info: q.eventinfo.or_else(|| field("eventinfo")),
        tag: q.tag.or_else(|| field("tag")),
        timestamp: q
            .timestamp
            .or_else(|| field("timestamp").and_then(|t| t.parse().ok())),
        page: q
            .page
            .or_else(|| field("page").and_then(|p| p.parse().ok()))
            .unwrap_or(1),
        limit: q
            .limit
            .or_else(|| field("limit").and_then(|l| l.parse().ok()))
            .unwrap_or(60),
    };
    Ok(Json(service::index_events(&state, &actor, &filter).await?))
}

#[utoipa::path(method(post, delete), path = "/events/delete/{id}", tag = EVENTS,
    summary = "Delete an event and everything in it",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let id = service::delete_event(&state, &actor, &id).await?;
    let Json(mut body) = saved("Event deleted.", &uri);
    body["id"] = json!(id.to_string());
    Ok(Json(body))
}

#[utoipa::path(post, path = "/events/publish/{id}", tag = EVENTS,
    summary = "Publish an event",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn publish_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let ev = service::set_published(&state, &actor, &id, true).await?;
    Ok(Json(
        json!({"name": "Publish", "message": "Event published without alerts",
        "url": uri.0.path(), "id": ev.id.to_string()}),
    ))
}

#[utoipa::path(post, path = "/events/unpublish/{id}", tag = EVENTS,
    summary = "Unpublish an event",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn unpublish_event(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let ev = service::set_published(&state, &actor, &id, false).await?;
    Ok(Json(
        json!({"name": "Unpublish", "message": "Event unpublished.",
        "url": uri.0.path(), "id": ev.id.to_string()}),
    ))
}

#[utoipa::path(post, path = "/attributes/add/{event_id}", tag = EVENTS,
    summary = "Add one attribute or a list of attributes to an event (all or nothing)",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"Attribute\": {...}}` or `{\"Attribute\": [...]}`", body = Object), ErrorResponses))]
async fn add_attributes(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::add_attributes(&state, &actor, &event_id, body.0).await?,
    ))
}

#[utoipa::path(method(post, put), path = "/attributes/edit/{id}", tag = EVENTS,
    summary = "Change an attribute (omitted fields keep their values)",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"Attribute\": {...}}`", body = Object), ErrorResponses))]
async fn edit_attribute(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_attribute(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/attributes/delete/{id}", tag = EVENTS,
    summary = "Soft-delete an attribute (`deleted` set)",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn delete_attribute(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_attribute(&state, &actor, &id, false).await?;
    Ok(Json(
        json!({"message": "Attribute deleted.", "url": uri.0.path()}),
    ))
}

#[utoipa::path(method(post, delete), path = "/attributes/delete/{id}/{hard}", tag = EVENTS,
    summary = "Delete an attribute; `hard` = 1 removes it for good",
    params(("id" = String, Path, description = "Numeric id or uuid"),
           ("hard" = String, Path, description = "`1` for a hard delete")),
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn delete_attribute_hard(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, hard)): Path<(String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    let hard = matches!(hard.as_str(), "1" | "true");
    service::delete_attribute(&state, &actor, &id, hard).await?;
    Ok(Json(
        json!({"message": "Attribute deleted.", "url": uri.0.path()}),
    ))
}

#[utoipa::path(post, path = "/objects/add/{event_id}", tag = EVENTS,
    summary = "Add an object with its attributes to an event",
    params(("event_id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"Object\": {...}}`", body = Object), ErrorResponses))]
async fn add_object(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(event_id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::add_object(&state, &actor, &event_id, body.0).await?,
    ))
}

#[utoipa::path(method(post, put), path = "/objects/edit/{id}", tag = EVENTS,
    summary = "Change an object; its attributes in the body are matched by uuid or added",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    request_body = Object,
    responses((status = 200, description = "`{\"Object\": {...}}`", body = Object), ErrorResponses))]
async fn edit_object(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::edit_object(&state, &actor, &id, body.0).await?,
    ))
}

#[utoipa::path(method(post, delete), path = "/objects/delete/{id}", tag = EVENTS,
    summary = "Soft-delete an object and its attributes",
    params(("id" = String, Path, description = "Numeric id or uuid")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_object(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_object(&state, &actor, &id, false).await?;
    Ok(saved("Object deleted.", &uri))
}

#[utoipa::path(method(post, delete), path = "/objects/delete/{id}/{hard}", tag = EVENTS,
    summary = "Delete an object; `hard` = 1 removes it and its attributes for good",
    params(("id" = String, Path, description = "Numeric id or uuid"),
           ("hard" = String, Path, description = "`1` for a hard delete")),
    responses((status = 200, description = "Success", body = Saved), ErrorResponses))]
async fn delete_object_hard(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path((id, hard)): Path<(String, String)>,
    uri: OriginalUri,
) -> Result<Json<Value>, ApiError> {
    service::delete_object(&state, &actor, &id, matches!(hard.as_str(), "1" | "true")).await?;
    Ok(saved("Object deleted.", &uri))
}

#[derive(Debug, Default, Deserialize)]
struct TagQuery {
    searchall: Option<String>,
}

#[utoipa::path(get, path = "/tags/index", tag = TAGS,
    summary = "Every tag",
    params(("searchall" = Option<String>, Query, description = "Substring of the name")),
    responses((status = 200, description = "`{\"Tag\": [...]}`", body = Object), ErrorResponses))]
async fn index_tags(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Query(q): Query<TagQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        service::index_tags(&state, &actor, q.searchall.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/tags/add", tag = TAGS,
    summary = "Create a tag (tag editors)",
    request_body = Object,
    responses((status = 200, description = "`{\"Tag\": {...}}`", body = Object),
              (status = 409, description = "The tag exists", body = MispError), ErrorResponses))]
async fn add_tag(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service::add_tag(&state, &actor, body.0).await?))
}

/// `{"uuid": <event or attribute uuid>, "tag": <id, name or {"name"}>, "local": 0|1}`.
fn tag_request(body: &Value) -> Result<(String, Value), ApiError> {
    let uuid = body
        .get("uuid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::from(AppError::Invalid("`uuid` is required.".into())))?;
    let tag = body
        .get("tag")
        .cloned()
        .filter(|t| !t.is_null())
        .ok_or_else(|| ApiError::from(AppError::Invalid("`tag` is required.".into())))?;
    Ok((uuid.to_owned(), tag))
}

#[utoipa::path(post, path = "/tags/attachTagToObject", tag = TAGS,
    summary = "Attach a tag to an event or attribute (by uuid); `local` for a local tag",
    request_body = Object,
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn attach_tag(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let (uuid, tag) = tag_request(&body.0)?;
    let local = loose_bool(body.0.get("local"));
    let message = service::attach_tag(&state, &actor, &uuid, &tag, local).await?;
    Ok(saved(&message, &uri))
}

#[utoipa::path(post, path = "/tags/removeTagFromObject", tag = TAGS,
    summary = "Remove a tag from an event or attribute (by uuid)",
    request_body = Object,
    responses((status = 200, description = "Success", body = Object), ErrorResponses))]
async fn remove_tag(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    uri: OriginalUri,
    body: MispJson,
) -> Result<Json<Value>, ApiError> {
    let (uuid, tag) = tag_request(&body.0)?;
    let message = service::remove_tag(&state, &actor, &uuid, &tag).await?;
    Ok(saved(&message, &uri))
}
