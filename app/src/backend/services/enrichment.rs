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
