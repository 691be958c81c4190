//! What the Events pages show, read from the same MISP documents the REST routes answer (so
//! the pages and the API can never disagree on visibility or content).
use serde_json::Value;

use super::input::value_text as text;

use super::events::{self, IndexFilter};
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::{
    AttributeRow, EventDetail, EventList, EventRow, ObjectView, PostView, ProposalView, ReportView,
    TagChip,
};

/// Rows per page of the event index.
pub const PAGE_SIZE: u64 = 50;

fn truthy(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => s == "1" || s == "true",
        _ => false,
    }
}

fn items<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// MISP's names of the distribution levels.
pub fn distribution_label(level: &str) -> &'static str {
    match level {
        "0" => "Your organisation only",
        "1" => "This community only",
        "2" => "Connected communities",
        "3" => "All communities",
        "4" => "Sharing group",
        "5" => "Inherit event",
        _ => "Unknown",
    }
}

fn threat_level_label(level: &str) -> &'static str {
    match level {
        "1" => "High",
        "2" => "Medium",
        "3" => "Low",
        "4" => "Undefined",
        _ => "Unknown",
    }
}

fn analysis_label(level: &str) -> &'static str {
    match level {
        "0" => "Initial",
        "1" => "Ongoing",
        "2" => "Completed",
        _ => "Unknown",
    }
}

fn tag_chip(t: &Value) -> TagChip {
    TagChip {
        name: text(t, "name"),
        colour: text(t, "colour"),
        local: truthy(t, "local"),
    }
}

fn attribute_row(a: &Value) -> AttributeRow {
    AttributeRow {
        id: text(a, "id"),
        uuid: text(a, "uuid"),
        kind: text(a, "type"),
        category: text(a, "category"),
        value: text(a, "value"),
        to_ids: truthy(a, "to_ids"),
        comment: text(a, "comment"),
        distribution: distribution_label(&text(a, "distribution")).to_owned(),
        tags: items(a, "Tag").map(tag_chip).collect(),
    }
}

fn proposal(p: &Value) -> ProposalView {
    ProposalView {
        id: text(p, "id"),
        kind: text(p, "type"),
        category: text(p, "category"),
        value: text(p, "value"),
        comment: text(p, "comment"),
        org: p
            .pointer("/Org/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        attribute_id: text(p, "old_id").trim_start_matches('0').to_owned(),
    }
}

/// One page of the events `actor` may see, newest first, filtered as MISP's index filters.
pub async fn list(
    state: &AppState,
    actor: &Principal,
    page: u64,
    tag: &str,
    org: &str,
    published: &str,
) -> Result<EventList, AppError> {
    let page = page.max(1);
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let filter = IndexFilter {
        tag: non_empty(tag),
        org: non_empty(org),
        published: match published {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        page,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    let found = events::index_events(state, actor, &filter).await?;
    // A full page may have a next one (at worst, the next page is empty).
    let more = found.len() as u64 == PAGE_SIZE;
    Ok(EventList {
        rows: found
            .iter()
            .map(|e| EventRow {
                id: text(e, "id"),
                info: text(e, "info"),
                date: text(e, "date"),
                org: e
                    .pointer("/Orgc/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                published: truthy(e, "published"),
                attribute_count: text(e, "attribute_count"),
                distribution: distribution_label(&text(e, "distribution")).to_owned(),
                tags: items(e, "EventTag")
                    .filter_map(|et| et.get("Tag"))
                    .map(tag_chip)
                    .collect(),
            })
            .collect(),
        page,
        more,
    })
}

/// The event page of `id`.
pub async fn detail(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<EventDetail, AppError> {
    let doc = events::view_event(state, actor, id).await?;
    let e = &doc["Event"];
    let ev = events::visible_event(state, actor, &text(e, "id")).await?;
    let mut proposals: Vec<ProposalView> = items(e, "ShadowAttribute").map(proposal).collect();
    let mut attributes = Vec::new();
    for a in items(e, "Attribute") {
        proposals.extend(items(a, "ShadowAttribute").map(proposal));
        attributes.push(attribute_row(a));
    }
    let objects = items(e, "Object")
        .map(|o| ObjectView {
            id: text(o, "id"),
            name: text(o, "name"),
            meta_category: text(o, "meta-category"),
            attributes: items(o, "Attribute").map(attribute_row).collect(),
        })
        .collect();
    let posts = match super::discussion::view_event_thread(state, actor, &ev.id.to_string()).await {
        Ok(thread) => items(&thread["Thread"], "Post")
            .map(|p| PostView {
                id: text(p, "id"),
                author: match text(p, "user_email") {
                    email if email.is_empty() => text(p, "org_name"),
                    email => email,
                },
                date: text(p, "date_created"),
                contents: text(p, "contents"),
            })
            .collect(),
        Err(AppError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let table = super::describe_types::describe_types();
    Ok(EventDetail {
        id: text(e, "id"),
        uuid: text(e, "uuid"),
        info: text(e, "info"),
        date: text(e, "date"),
        org: e
            .pointer("/Org/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        orgc: e
            .pointer("/Orgc/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        published: truthy(e, "published"),
        publish_timestamp: text(e, "publish_timestamp").parse().unwrap_or(0),
        timestamp: text(e, "timestamp").parse().unwrap_or(0),
        distribution: distribution_label(&text(e, "distribution")).to_owned(),
        threat_level: threat_level_label(&text(e, "threat_level_id")).to_owned(),
        analysis: analysis_label(&text(e, "analysis")).to_owned(),
        tags: items(e, "Tag").map(tag_chip).collect(),
        attributes,
        objects,
        reports: items(e, "EventReport")
            .map(|r| ReportView {
                id: text(r, "id"),
                name: text(r, "name"),
                content: text(r, "content"),
            })
            .collect(),
        proposals,
        posts,
        can_edit: !actor.read_only && events::can_edit(actor, &ev),
        types: table.types.clone(),
        categories: table.categories.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_rows_read_misp_shapes() {
        let a = json!({"id": "7", "uuid": "u", "type": "ip-dst", "category": "Network activity",
            "value": "192.0.2.1", "to_ids": true, "comment": "c2", "distribution": "5",
            "Tag": [{"name": "tlp:red", "colour": "#CC0033", "local": 1}]});
        let row = attribute_row(&a);
        assert_eq!(
            (row.kind.as_str(), row.to_ids, row.distribution.as_str()),
            ("ip-dst", true, "Inherit event")
        );
        assert_eq!(
            row.tags,
            [TagChip {
                name: "tlp:red".into(),
                colour: "#CC0033".into(),
                local: true
            }]
        );
    }
}
