//! Modules from misp-modules servers (spec §5.3, §14): the `action` modules of the server of
//! `Plugin.Action_services_url` / `_port` (when `Plugin.Action_services_enable` is on) and of
//! any custom server listed in `Plugin.Action_services_extra` (plug-and-play: any HTTP service
//! that answers misp-modules' `GET /modules` and `POST /query`).
//!
//! Discovery runs at start-up, when those settings change, and on demand
//! (`POST /workflows/refreshModules`); each server's answer is kept as a status (reachable, how
//! many modules, or why not), so a server that is down is reported, never an error page. The
//! engine's registry is rebuilt with what was found; runs under way keep the one they started
//! with.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
    RoamingData, Routing,
};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::settings::setting;
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// How long discovery waits for a server's `/modules` (MISP: 1 s; a little more for custom
/// services).
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(3);

/// One server's answer at the last discovery.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ServerStatus {
    pub url: String,
    /// `misp-modules` (the configured server) or `custom` (an extra one).
    pub source: String,
    pub reachable: bool,
    pub message: String,
    /// Ids of the modules it provides.
    pub modules: Vec<String>,
    pub checked_at: i64,
}

/// What the last discovery found.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub servers: Vec<ServerStatus>,
}

/// A module served by a misp-modules (or custom) server.
struct RemoteModule {
    config: ModuleConfig,
    /// The name the server knows it by.
    name: String,
    base: String,
    /// `(id, label)` of the hash-path params, for `matchingData`.
    hash_params: Vec<(String, String)>,
}

/// `foo-bar baz` ⇒ `foo_bar_baz`.
fn slug(key: &str) -> String {
    let s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s.trim_matches('_').to_owned()
}

/// `foo_bar` ⇒ `Foo Bar` (CakePHP's `Inflector::humanize`).
fn humanize(key: &str) -> String {
    key.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn flag(config: &Value, key: &str) -> bool {
    match config.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The module a `GET /modules` entry describes, if it is an action module.
fn module_from_listing(entry: &Value, base: &str, custom: bool) -> Option<RemoteModule> {
    let name = entry.get("name")?.as_str()?.to_owned();
    let meta = entry.get("meta").cloned().unwrap_or(Value::Null);
    let kinds: Vec<String> = match meta.get("module-type") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    if !kinds.iter().any(|k| k == "action") {
        return None;
    }
    let config = meta
        .get("config")
        .filter(|c| c.is_object())
        .or_else(|| entry.pointer("/mispattributes/config"))
        .cloned()
        .unwrap_or(Value::Null);
    let id = slug(&name);
    if id.is_empty() {
        return None;
    }
    // A custom module that declares two outputs is a logic module: output 1 on `true`.
    let logic = custom && config.get("outputs").and_then(Value::as_u64) == Some(2);
    let mut c = ModuleConfig::new(
        &id,
        meta.get("name").and_then(Value::as_str).unwrap_or(&name),
        if logic {
            ModuleKind::Logic
        } else {
            ModuleKind::Action
        },
    );
    c.description = meta
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    c.version = meta
        .get("version")
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .unwrap_or_else(|| "0.1".into());
    c.icon = meta
        .get("icon")
        .and_then(Value::as_str)
        .unwrap_or("python")
        .to_owned();
    c.is_misp_module = !custom;
    c.is_custom = custom;
    c.blocking = flag(&config, "blocking");
    c.support_filters = flag(&config, "support_filters");
    c.expect_misp_core_format = flag(&config, "expect_misp_core_format");
    if logic {
        c.outputs = 2;
        c.routing = Routing::IfElse;
    }
    let mut hash_params = Vec::new();
    if let Some(Value::Object(params)) = config.get("params") {
        for (key, p) in params {
            let pid = slug(key);
            let label = humanize(key);
            let kind = match p.get("type").and_then(Value::as_str) {
                Some("hash_path") => {
                    hash_params.push((pid.clone(), label.clone()));
                    ParamType::Hashpath
                }
                Some("large_string") => ParamType::Textarea,
                _ => ParamType::Input,
            };
            let mut d = ParamDescriptor::new(&pid, &label, kind);
            if let Some(v) = p.get("value").and_then(Value::as_str) {
                d = d.placeholder(v);
            }
            if flag(p, "jinja_supported") {
                d = d.jinja();
            }
            c.params.push(d);
        }
    }
    Some(RemoteModule {
        config: c,
        name,
        base: base.to_owned(),
        hash_params,
    })
}

#[async_trait]
impl Module for RemoteModule {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = crate::backend::modules::RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let mut params = Map::new();
        for p in &self.config.params {
            // Unset params are sent as "" (Jinja ones rendered first).
            params.insert(p.id.clone(), json!(ctx.param_str(&p.id, &view)?));
        }
        let mut body = json!({"module": self.name, "data": view, "params": params});
        if self.config.support_filters {
            if let Some(items) = ctx.filtered(&body["data"])? {
                let kept: Vec<Value> = items.into_iter().cloned().collect();
                body["filteredItems"] = Value::Array(kept);
            }
        }
        if !self.hash_params.is_empty() {
            let mut matching = Map::new();
            for (id, label) in &self.hash_params {
                let path = params.get(id).and_then(Value::as_str).unwrap_or_default();
                let extracted = if path.is_empty() {
                    body["data"].clone()
                } else {
                    Value::Array(
                        ctx.path(path)?
                            .extract(&body["data"])
                            .into_iter()
                            .cloned()
                            .collect(),
                    )
                };
                matching.insert(label.clone(), extracted);
            }
            body["matchingData"] = Value::Object(matching);
        }
        let timeout = setting(&run.state, "Plugin.Action_timeout")
            .await
            .map_err(|e| ModuleError::Failed(e.to_string()))?
            .and_then(|v| v.as_u64())
            .unwrap_or(10);
        let client = crate::backend::runtime::outbound_client(Duration::from_secs(timeout));
        let mut request = client.post(format!("{}/query", self.base)).json(&body);
        // Inside a background job: the delivery's idempotency key, and a retry when the
        // server could not be reached or failed (5xx).
        if let Some(key) = crate::backend::modules::outward::node_delivery_key(ctx) {
            request = request.header("Idempotency-Key", key);
        }
        let answer = match request.send().await {
            Ok(r) => {
                let status = r.status();
                if status.is_server_error() {
                    crate::backend::jobs::note_transient_failure();
                }
                match r.json::<Value>().await {
                    Ok(v) => v,
                    Err(_) => {
                        errors.push(format!("The module server answered {status} without JSON."));
                        return Ok(false);
                    }
                }
            }
            Err(e) => {
                crate::backend::jobs::note_transient_failure();
                errors.push(format!(
                    "The module server at {} could not be reached: {}.",
                    self.base,
                    crate::backend::outbound::describe(&e)
                ));
                return Ok(false);
            }
        };
        if let Some(error) = answer.get("error") {
            errors.push(
                error
                    .as_str()
                    .map_or_else(|| error.to_string(), str::to_owned),
            );
            return Ok(false);
        }
        // MISP counts `{"data": false}` as success for actions; a logic module routes on it.
        if self.config.kind == ModuleKind::Logic {
            return Ok(answer.get("data").and_then(Value::as_bool).unwrap_or(false));
        }
        Ok(true)
    }
}

/// The servers to ask: the configured misp-modules server (when enabled) and the custom ones.
async fn servers(state: &AppState) -> Result<Vec<(String, bool)>, AppError> {
    let mut out = Vec::new();
    let enabled = setting(state, "Plugin.Action_services_enable")
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if enabled {
        let url = setting(state, "Plugin.Action_services_url")
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "http://127.0.0.1".into());
        let port = setting(state, "Plugin.Action_services_port")
            .await?
            .and_then(|v| v.as_i64())
            .unwrap_or(6666);
        out.push((format!("{}:{port}", url.trim_end_matches('/')), false));
    }
    let extra = setting(state, "Plugin.Action_services_extra")
        .await?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    for url in extra
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        out.push((url.trim_end_matches('/').to_owned(), true));
    }
    Ok(out)
}

/// Asks every server for its modules and installs what they offer in the engine.
pub async fn refresh(state: &AppState) -> Result<Vec<ServerStatus>, AppError> {
    let client = crate::backend::runtime::outbound_client(DISCOVERY_TIMEOUT);
    let mut modules: Vec<Arc<dyn Module>> = Vec::new();
    let mut statuses = Vec::new();
    for (base, custom) in servers(state).await? {
        let mut status = ServerStatus {
            url: base.clone(),
            source: if custom { "custom" } else { "misp-modules" }.into(),
            reachable: false,
            message: String::new(),
            modules: Vec::new(),
            checked_at: now(),
        };
        match client.get(format!("{base}/modules")).send().await {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(Value::Array(entries)) => {
                    status.reachable = true;
                    for m in entries
                        .iter()
                        .filter_map(|e| module_from_listing(e, &base, custom))
                    {
                        status.modules.push(m.config.id.clone());
                        modules.push(Arc::new(m));
                    }
                    status.message = format!("{} action module(s)", status.modules.len());
                }
                _ => status.message = "answered without a list of modules".into(),
            },
            Ok(r) => status.message = format!("answered {}", r.status()),
            Err(e) => {
                status.message = format!("unreachable: {}", crate::backend::outbound::describe(&e))
            }
        }
        if !status.reachable {
            tracing::warn!(server = %base, reason = %status.message, "module server not usable");
        }
        statuses.push(status);
    }
    state.workflows.install_discovered(modules);
    if let Ok(mut d) = state.workflows.discovered.write() {
        d.servers = statuses.clone();
    }
    Ok(statuses)
}

/// `POST /workflows/refreshModules` (site admins): discovery now, answering each server's status.
pub async fn refresh_now(state: &AppState, actor: &Principal) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    Ok(json!({"servers": refresh(state).await?}))
}

/// `GET /workflows/moduleServers` (site admins): each server's status at the last discovery.
pub fn statuses(state: &AppState, actor: &Principal) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let servers = state
        .workflows
        .discovered
        .read()
        .map(|d| d.servers.clone())
        .unwrap_or_default();
    Ok(json!({"servers": servers}))
}

/// Discovery in the background (start-up, settings changes): failures are statuses and logs.
pub fn refresh_in_background(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = refresh(&state).await {
            tracing::warn!(error = %e, "module discovery failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_become_modules_as_misp_maps_them() {
        let entry = json!({"name": "testaction", "type": "action_mod",
            "meta": {"module-type": ["action"], "description": "A test", "version": "0.1",
                     "config": {"blocking": false, "support_filters": true, "expect_misp_core_format": false,
                                "params": {"foo": {"type": "large_string", "value": "placeholder"},
                                           "Data extraction path": {"type": "hash_path", "jinja_supported": true},
                                           "bar": {"type": "string"}}}}});
        let m = module_from_listing(&entry, "http://127.0.0.1:6666", false).unwrap();
        assert_eq!(m.config.id, "testaction");
        assert!(m.config.is_misp_module && !m.config.is_custom && m.config.support_filters);
        let ids: Vec<(&str, &str, ParamType)> = m
            .config
            .params
            .iter()
            .map(|p| (p.id.as_str(), p.label.as_str(), p.kind))
            .collect();
        assert!(ids.contains(&("foo", "Foo", ParamType::Textarea)));
        assert!(ids.contains(&(
            "data_extraction_path",
            "Data Extraction Path",
            ParamType::Hashpath
        )));
        assert_eq!(
            m.hash_params,
            [(
                "data_extraction_path".to_owned(),
                "Data Extraction Path".to_owned()
            )]
        );
        let expansion = json!({"name": "dns", "meta": {"module-type": ["expansion"]}});
        assert!(
            module_from_listing(&expansion, "x", false).is_none(),
            "only action modules"
        );
        let logic = json!({"name": "is-bad", "meta": {"module-type": ["action"], "config": {"outputs": 2}}});
        let m = module_from_listing(&logic, "x", true).unwrap();
        assert_eq!(
            (m.config.id.as_str(), m.config.kind, m.config.outputs),
            ("is_bad", ModuleKind::Logic, 2)
        );
    }
}
