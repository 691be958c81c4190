//! Enrichment through a misp-modules server (`Plugin.Enrichment_services_*`): MISP's
//! `events/queryEnrichment` (one module on one attribute) and `attributes/hoverEnrichment` (every
//! hover module that takes the attribute's type).
//!
//! Before each query the blocking `enrichment-before-query` trigger runs on the event holding the
//! attribute, with the module's name as `_module`; a `false` outcome cancels the query.
use serde_json::{json, Map, Value};

use super::events::{attribute_json, visible_attribute};
use super::settings::setting;
use crate::backend::entities::attribute;
use crate::backend::{AppState, Principal};
use crate::error::AppError;

/// A misp-modules module, as its `GET /modules` lists it.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    /// `expansion`, `hover`, … (MISP's `meta.module-type`, or the top-level `type`).
    pub kinds: Vec<String>,
    pub inputs: Vec<String>,
    /// `misp_standard` modules take the whole attribute; the others `{<type>: <value>}`.
    pub standard: bool,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Reads misp-modules' `GET /modules` answer.
pub fn parse_modules(listing: &Value) -> Vec<ModuleInfo> {
    let Some(items) = listing.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|m| {
            let name = m.get("name")?.as_str()?.to_owned();
            let mut kinds = strings(m.get("type"));
            kinds.extend(strings(m.pointer("/meta/module-type")));
            let attrs = m.get("mispattributes");
            Some(ModuleInfo {
                name,
                kinds,
                inputs: strings(attrs.and_then(|a| a.get("input"))),
                standard: attrs.and_then(|a| a.get("format")).and_then(Value::as_str)
                    == Some("misp_standard"),
            })
        })
        .collect()
}

/// Where the misp-modules server is, and how long to wait; refuses when enrichment is off.
async fn service(state: &AppState) -> Result<(String, std::time::Duration), AppError> {
    let enabled = setting(state, "Plugin.Enrichment_services_enable")
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !enabled {
        return Err(AppError::Forbidden(
            "Enrichment services are disabled (Plugin.Enrichment_services_enable).".into(),
        ));
    }
    let url = setting(state, "Plugin.Enrichment_services_url")
        .await?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let port = setting(state, "Plugin.Enrichment_services_port")
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(6666);
    let timeout = setting(state, "Plugin.Enrichment_timeout")
        .await?
        .and_then(|v| v.as_u64())
        .unwrap_or(10);
    Ok((
        format!("{}:{port}", url.trim_end_matches('/')),
        std::time::Duration::from_secs(timeout),
    ))
}

async fn call(
    base: &str,
    timeout: std::time::Duration,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, AppError> {
    let client = crate::backend::runtime::outbound_client(timeout);
    let request = match body {
        Some(b) => client.post(format!("{base}{path}")).json(b),
        None => client.get(format!("{base}{path}")),
    };
    let unreachable = |e: reqwest::Error| {
        tracing::warn!(error = %e, "misp-modules request failed");
        AppError::Upstream(format!(
            "The misp-modules server did not answer: {}",
            e.without_url()
        ))
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| {
        AppError::Upstream(format!(
            "The misp-modules server answered {status} without JSON: {e}"
        ))
    })?;
    if let Some(error) = answer.get("error") {
        let text = error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(AppError::Upstream(format!("Enrichment failed: {text}")));
    }
    if !status.is_success() {
        return Err(AppError::Upstream(format!(
            "The misp-modules server answered {status}."
        )));
    }
    Ok(answer)
}

/// The modules the misp-modules server offers.
pub async fn modules(state: &AppState) -> Result<Vec<ModuleInfo>, AppError> {
    let (base, timeout) = service(state).await?;
    Ok(parse_modules(
        &call(&base, timeout, "/modules", None).await?,
    ))
}

/// The request misp-modules expects for `module` on `a`.
fn query_body(module: &ModuleInfo, a: &attribute::Model, event_id: i32) -> Value {
    let mut body = Map::new();
    body.insert("module".into(), json!(module.name));
    body.insert("event_id".into(), json!(event_id.to_string()));
    if module.standard {
        body.insert("attribute".into(), attribute_json(a, &[]));
    } else {
        body.insert(a.r#type.clone(), json!(a.value));
        body.insert("attribute_uuid".into(), json!(a.uuid));
    }
    body.insert("config".into(), json!({}));
    Value::Object(body)
}

/// Runs the blocking `enrichment-before-query` trigger; its errors refuse the query.
async fn before_query(
    state: &AppState,
    actor: &Principal,
    ev: &crate::backend::entities::event::Model,
    module: &str,
) -> Result<(), AppError> {
    let action = format!("events/queryEnrichment/{}", ev.id);
    let refused = super::hooks::block(state, "enrichment-before-query", &action, actor, || async {
        let mut doc = super::hooks::full_event(state, actor, ev).await?;
        doc["_module"] = json!(module);
        Ok(doc)
    })
    .await?;
    if let Some(errors) = refused {
        let entry = super::audit::Entry::new(
            "Event",
            ev.id,
            "enrichment",
            format!("Enrichment of Event ({}) with {module}", ev.id),
        );
        return Err(super::hooks::refuse(state, actor, entry, "Enrichment", errors).await);
    }
    Ok(())
}

/// `events/queryEnrichment/<attribute>/<module>[/<type>]`: misp-modules' answer for one
/// module on one attribute, as `{"module", "results"}`.
pub async fn query(
    state: &AppState,
    actor: &Principal,
    attribute_ref: &str,
    module_name: &str,
) -> Result<Value, AppError> {
    let (a, ev) = visible_attribute(state, actor, attribute_ref, "Invalid attribute.").await?;
    let (base, timeout) = service(state).await?;
    let listed = parse_modules(&call(&base, timeout, "/modules", None).await?);
    let Some(module) = listed.iter().find(|m| m.name == module_name) else {
        return Err(AppError::NotFound(format!(
            "The misp-modules server has no module `{module_name}`."
        )));
    };
    if !module
        .kinds
        .iter()
        .any(|k| k == "expansion" || k == "hover")
    {
        return Err(AppError::Invalid(format!(
            "`{module_name}` is not an enrichment (expansion or hover) module."
        )));
    }
    if !module.inputs.is_empty() && !module.inputs.iter().any(|t| t == &a.r#type) {
        return Err(AppError::Invalid(format!(
            "`{module_name}` does not take attributes of type {} (it takes {}).",
            a.r#type,
            module.inputs.join(", ")
        )));
    }
    before_query(state, actor, &ev, module_name).await?;
    let answer = call(
        &base,
        timeout,
        "/query",
        Some(&query_body(module, &a, ev.id)),
    )
    .await?;
    Ok(json!({
        "module": module_name,
        "results": answer.get("results").cloned().unwrap_or(Value::Null),
    }))
}

/// The enrichment server as workflow modules use it: its modules, listed once per run.
pub struct Enricher {
    base: String,
    timeout: std::time::Duration,
    pub modules: Vec<ModuleInfo>,
}

impl Enricher {
    /// Lists the modules of the configured server (refused when enrichment is off).
    pub async fn connect(state: &AppState) -> Result<Self, AppError> {
        let (base, timeout) = service(state).await?;
        let modules = parse_modules(&call(&base, timeout, "/modules", None).await?);
        Ok(Self {
            base,
            timeout,
            modules,
        })
    }

    /// The enrichment (expansion or hover) module called `name`.
    pub fn module(&self, name: &str) -> Option<&ModuleInfo> {
        self.modules
            .iter()
            .find(|m| m.name == name && m.kinds.iter().any(|k| k == "expansion" || k == "hover"))
    }

    /// Queries `module` on `attribute` (an attribute's JSON: `type`, `value`, `uuid`) of `ev`,
    /// after the `enrichment-before-query` trigger let it; answers the module's `results`.
    pub async fn query(
        &self,
        state: &AppState,
        actor: &Principal,
        ev: &crate::backend::entities::event::Model,
        module: &ModuleInfo,
        attribute: &Value,
    ) -> Result<Value, AppError> {
        let mut body = Map::new();
        body.insert("module".into(), json!(module.name));
        body.insert("event_id".into(), json!(ev.id.to_string()));
        if module.standard {
            body.insert("attribute".into(), attribute.clone());
        } else {
            let kind = attribute["type"].as_str().unwrap_or_default();
            body.insert(kind.to_owned(), attribute["value"].clone());
            body.insert("attribute_uuid".into(), attribute["uuid"].clone());
        }
        body.insert("config".into(), json!({}));
        before_query(state, actor, ev, &module.name).await?;
        let answer = call(
            &self.base,
            self.timeout,
            "/query",
            Some(&Value::Object(body)),
        )
        .await?;
        Ok(answer.get("results").cloned().unwrap_or(Value::Null))
    }
}

/// Whether `module` takes attributes of `kind`.
pub fn takes(module: &ModuleInfo, kind: &str) -> bool {
    module.inputs.iter().any(|t| t == kind)
}

/// The attributes and objects a module's `results` propose, as `events/add` bodies: MISP's
/// legacy shape (`[{types, values, categories?, comment?, to_ids?}]`, one attribute per value
/// of the first type) or `misp_standard` (`{"Attribute": [...], "Object": [...]}`).
pub fn proposed(results: &Value) -> (Vec<Value>, Vec<Value>) {
    let first = |v: Option<&Value>| match v {
        Some(Value::Array(a)) => a.first().cloned(),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.clone()),
    };
    let many = |v: Option<&Value>| match v {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    };
    match results {
        Value::Array(items) => {
            let mut attributes = Vec::new();
            for r in items {
                let Some(kind) = first(r.get("types").or_else(|| r.get("type"))) else {
                    continue;
                };
                for value in many(r.get("values").or_else(|| r.get("value"))) {
                    let value = match value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    let mut a = json!({"type": kind, "value": value,
                        "comment": r.get("comment").cloned().unwrap_or(json!(""))});
                    if let Some(c) = first(r.get("categories")) {
                        a["category"] = c;
                    }
                    if let Some(t) = r.get("to_ids") {
                        a["to_ids"] = t.clone();
                    }
                    attributes.push(a);
                }
            }
            (attributes, Vec::new())
        }
        Value::Object(m) => (many(m.get("Attribute")), many(m.get("Object"))),
        _ => (Vec::new(), Vec::new()),
    }
}

/// MISP's event enrichment (the `enrich-event` module): queries `module_name` on each attribute
/// of event `event_ref` that it takes (only those in `only`, when given) and adds what it
/// proposes to the event, skipping values the event already holds. Answers how many
/// attributes were added; `errors` gets what could not be added.
pub async fn enrich_event(
    state: &AppState,
    actor: &Principal,
    event_ref: &str,
    module_name: &str,
    only: Option<&[String]>,
    errors: &mut Vec<String>,
) -> Result<usize, AppError> {
    let enricher = Enricher::connect(state).await?;
    let Some(module) = enricher.module(module_name) else {
        return Err(AppError::NotFound(format!(
            "The misp-modules server has no enrichment module `{module_name}`."
        )));
    };
    let ev = super::events::editable_event(state, actor, event_ref).await?;
    let doc = super::events::view_event(state, actor, &ev.id.to_string()).await?;
    let mut attributes: Vec<Value> = Vec::new();
    if let Some(list) = doc.pointer("/Event/Attribute").and_then(Value::as_array) {
        attributes.extend(list.iter().cloned());
    }
    if let Some(objects) = doc.pointer("/Event/Object").and_then(Value::as_array) {
        for o in objects {
            if let Some(list) = o.get("Attribute").and_then(Value::as_array) {
                attributes.extend(list.iter().cloned());
            }
        }
    }
    let mut known: std::collections::HashSet<(String, String)> = attributes
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap_or_default().to_owned(),
                a["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let event_id = ev.id.to_string();
    let mut added = 0usize;
    for a in &attributes {
        let kind = a["type"].as_str().unwrap_or_default();
        let uuid = a["uuid"].as_str().unwrap_or_default();
        if !takes(module, kind) || only.is_some_and(|o| !o.iter().any(|u| u == uuid)) {
            continue;
        }
        let results = enricher.query(state, actor, &ev, module, a).await?;
        let (new_attributes, new_objects) = proposed(&results);
        for n in new_attributes {
            let key = (
                n["type"].as_str().unwrap_or_default().to_owned(),
                n["value"].as_str().unwrap_or_default().to_owned(),
            );
            if known.contains(&key) {
                continue;
            }
            match super::events::add_attributes(state, actor, &event_id, n).await {
                Ok(_) => {
                    known.insert(key);
                    added += 1;
                }
                Err(e) => errors.push(format!("{} {}: {e}", key.0, key.1)),
            }
        }
        for o in new_objects {
            let count = o
                .get("Attribute")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            match super::events::add_object(state, actor, &event_id, o).await {
                Ok(_) => added += count,
                Err(e) => errors.push(format!("Object: {e}")),
            }
        }
    }
    Ok(added)
}

/// `attributes/hoverEnrichment/<id>`: every hover module that takes the attribute's type, as
/// `{"<module>": results}`; a module that fails gives `{"error": …}` in its place.
pub async fn hover(
    state: &AppState,
    actor: &Principal,
    attribute_ref: &str,
) -> Result<Value, AppError> {
    let (a, ev) = visible_attribute(state, actor, attribute_ref, "Invalid attribute.").await?;
    let (base, timeout) = service(state).await?;
    let listed = parse_modules(&call(&base, timeout, "/modules", None).await?);
    let mut out = Map::new();
    for module in listed
        .iter()
        .filter(|m| m.kinds.iter().any(|k| k == "hover") && m.inputs.iter().any(|t| t == &a.r#type))
    {
        before_query(state, actor, &ev, &module.name).await?;
        let result = match call(
            &base,
            timeout,
            "/query",
            Some(&query_body(module, &a, ev.id)),
        )
        .await
        {
            Ok(answer) => answer.get("results").cloned().unwrap_or(Value::Null),
            Err(e) => json!({"error": e.to_string()}),
        };
        out.insert(module.name.clone(), result);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_listing_is_read_as_misp_modules_sends_it() {
        let listing = json!([
            {"name": "dns", "type": "expansion",
             "mispattributes": {"input": ["hostname", "domain"], "output": ["ip-src", "ip-dst"]},
             "meta": {"module-type": ["expansion", "hover"]}},
            {"name": "circl_passivedns", "type": "expansion",
             "mispattributes": {"input": ["ip-src"], "format": "misp_standard"}},
            {"type": "expansion"}
        ]);
        let m = parse_modules(&listing);
        assert_eq!(m.len(), 2, "an entry without a name is skipped");
        assert_eq!(m[0].kinds, ["expansion", "expansion", "hover"]);
        assert_eq!(m[0].inputs, ["hostname", "domain"]);
        assert!(!m[0].standard && m[1].standard);
    }
}
