//! Server settings of spec §16 (`Plugin.Workflow_enable`, `Plugin.Workflow_debug_url`, …), with
//! MISP's names and defaults, validated on save. Only values that differ from the default are
//! stored; per-trigger switches (`Plugin.Workflow_triggers_<id>`) are generated from the
//! trigger list.
use engine::ModuleKind;
use sea_orm::TransactionTrait;
use serde_json::{json, Value};

use crate::backend::store::{orgs, settings as store};
use crate::backend::{AppState, Principal};
use crate::error::AppError;

/// The kind of value a setting holds, which decides its validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingType {
    Boolean,
    /// An `http(s)://` URL without credentials.
    Url,
    /// A whole number within the bounds.
    Integer {
        min: i64,
        max: i64,
    },
    /// The id of an existing organisation.
    OrgId,
    /// A host name or IP address to bind or connect to (no scheme, no port).
    Host,
    /// Host names, addresses and networks (`10.0.0.0/8`), separated by commas, spaces or lines;
    /// empty for none.
    HostList,
    /// Free text (at most 1,000 characters, no line breaks); may be empty.
    Text,
    /// One of the listed values.
    Choice(&'static [&'static str]),
    /// An e-mail address.
    Email,
    /// `http(s)://` URLs without credentials, separated by commas, spaces or lines; may be empty.
    UrlList,
}

/// One setting's definition.
#[derive(Clone, Debug)]
pub struct SettingDef {
    pub name: String,
    pub default: Value,
    pub kind: SettingType,
    pub description: String,
    /// MISP's level: 0 critical, 1 recommended, 2 optional.
    pub level: u8,
}

fn def(name: &str, default: Value, kind: SettingType, level: u8, description: &str) -> SettingDef {
    SettingDef {
        name: name.into(),
        default,
        kind,
        description: description.into(),
        level,
    }
}

/// Every setting Flowgate knows, in display order.
pub fn definitions(state: &AppState) -> Vec<SettingDef> {
    use SettingType::*;
    let port = Integer { min: 1, max: 65535 };
    let timeout = Integer { min: 1, max: 300 };
    let mut defs = vec![
        def(
            "Plugin.Workflow_enable",
            json!(false),
            Boolean,
            0,
            "Enable workflows: without it no trigger runs a workflow.",
        ),
        def(
            "Plugin.Workflow_debug_url",
            json!("http://127.0.0.1:27051"),
            Url,
            2,
            "Where debug mode POSTs each node's data (MISP's webhook-listener.py default).",
        ),
        def(
            "Plugin.Action_services_enable",
            json!(false),
            Boolean,
            1,
            "Load action modules from a misp-modules server.",
        ),
        def(
            "Plugin.Action_services_url",
            json!("http://127.0.0.1"),
            Url,
            1,
            "URL of the misp-modules server for action modules.",
        ),
        def(
            "Plugin.Action_services_port",
            json!(6666),
            port,
            1,
            "Port of the misp-modules server for action modules.",
        ),
        def(
            "Plugin.Action_timeout",
            json!(10),
            timeout,
            2,
            "Seconds to wait for a misp-modules action module.",
        ),
        def(
            "Plugin.Action_services_extra",
            json!(""),
            UrlList,
            2,
            "Custom module servers (misp-modules protocol: GET /modules, POST /query), one URL per line or comma; their action modules appear in the module index as custom.",
        ),
        def(
            "Plugin.Enrichment_services_enable",
            json!(false),
            Boolean,
            1,
            "Enable enrichment queries to a misp-modules server.",
        ),
        def(
            "Plugin.Enrichment_services_url",
            json!("http://127.0.0.1"),
            Url,
            1,
            "URL of the misp-modules server for enrichment.",
        ),
        def(
            "Plugin.Enrichment_services_port",
            json!(6666),
            port,
            1,
            "Port of the misp-modules server for enrichment.",
        ),
        def(
            "Plugin.Enrichment_timeout",
            json!(10),
            timeout,
            2,
            "Seconds to wait for an enrichment module.",
        ),
        def(
            "Plugin.ZeroMQ_enable",
            json!(false),
            Boolean,
            2,
            "Publish on ZeroMQ: published events on `misp_json`, the push-zmq module on `misp_json_workflow`.",
        ),
        def(
            "Plugin.ZeroMQ_host",
            json!("127.0.0.1"),
            Host,
            2,
            "Address the ZeroMQ publisher binds (tcp).",
        ),
        def(
            "Plugin.ZeroMQ_port",
            json!(50000),
            port,
            2,
            "Port the ZeroMQ publisher binds.",
        ),
        def(
            "Security.rest_client_enable_arbitrary_urls",
            json!(false),
            Boolean,
            1,
            "Allow webhook-family modules to call arbitrary URLs.",
        ),
        def(
            "Security.outbound_allowed_hosts",
            json!(""),
            HostList,
            1,
            "Hosts and networks action modules may call (commas or lines; a name allows its sub-domains). Empty: any public address. Internal addresses (loopback, private, link-local) are called only when listed here.",
        ),
        def(
            "Plugin.Workflow_outbound_timeout",
            json!(10),
            timeout,
            2,
            "Seconds an action module waits for a webhook, Telegram or Splunk answer.",
        ),
        def(
            "MISP.email",
            json!("flowgate@localhost.localdomain"),
            Email,
            1,
            "The address mails from workflows (send-mail, send-log-mail) are sent from.",
        ),
        def(
            "SMTP.host",
            json!("127.0.0.1"),
            Host,
            1,
            "SMTP server the mail modules send through.",
        ),
        def("SMTP.port", json!(25), port, 1, "SMTP server port."),
        def(
            "SMTP.tls",
            json!("none"),
            Choice(&["none", "starttls", "tls"]),
            1,
            "SMTP encryption: none, STARTTLS, or TLS from the start (implicit, port 465).",
        ),
        def(
            "SMTP.username",
            json!(""),
            Text,
            2,
            "SMTP user name (empty: no authentication).",
        ),
        def("SMTP.password", json!(""), Text, 2, "SMTP password."),
        def(
            "Plugin.Telegram_api_url",
            json!("https://api.telegram.org"),
            Url,
            2,
            "Telegram Bot API base URL (for a proxy or a local Bot API server).",
        ),
        def(
            "MISP.host_org_id",
            json!(0),
            OrgId,
            0,
            "The host organisation: workflows run as its SYSTEM user.",
        ),
        def(
            "Plugin.Workflow_log_retention_days",
            json!(30),
            Integer { min: 1, max: 3650 },
            2,
            "Days workflow runs are kept in the run log.",
        ),
        def(
            "Plugin.Workflow_log_max_runs",
            json!(1_000_000),
            Integer {
                min: 1000,
                max: 100_000_000,
            },
            2,
            "Most runs kept in the run log; older ones are pruned first.",
        ),
    ];
    for module in state.workflows.registry().of_kind(ModuleKind::Trigger) {
        let id = &module.config().id;
        defs.push(def(
            &super::workflows::trigger_setting(id),
            json!(false),
            Boolean,
            2,
            &format!("Run the workflow of trigger `{id}`."),
        ));
    }
    defs
}

/// Checks and normalises a value for `def` (MISP clients send booleans and numbers as strings).
pub async fn validate_value(
    state: &AppState,
    def: &SettingDef,
    value: &Value,
) -> Result<Value, AppError> {
    let invalid = |why: &str| AppError::Invalid(format!("Invalid value for {}: {why}", def.name));
    match def.kind {
        SettingType::Boolean => match value {
            Value::Bool(b) => Ok(json!(b)),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(json!(n.as_i64() == Some(1)))
            }
            Value::String(s) if matches!(s.as_str(), "1" | "true") => Ok(json!(true)),
            Value::String(s) if matches!(s.as_str(), "0" | "false") => Ok(json!(false)),
            _ => Err(invalid("expected true or false")),
        },
        SettingType::Integer { .. } | SettingType::OrgId => {
            let n: i64 = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid("expected a whole number"))?;
            match def.kind {
                SettingType::Integer { min, max } if n < min || n > max => {
                    return Err(invalid(&format!("expected a number from {min} to {max}")));
                }
                SettingType::OrgId => {
                    let id = i32::try_from(n).map_err(|_| invalid("no such organisation"))?;
                    if orgs::find_org(&state.db, id).await?.is_none() {
                        return Err(invalid("no such organisation"));
                    }
                }
                _ => {}
            }
            Ok(json!(n))
        }
        SettingType::Host => {
            let s = value
                .as_str()
                .ok_or_else(|| invalid("expected a host name or IP address"))?
                .trim();
            let ok = !s.is_empty()
                && s.len() <= 253
                && (s.parse::<std::net::IpAddr>().is_ok()
                    || s.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    }));
            if ok {
                Ok(json!(s))
            } else {
                Err(invalid("expected a host name or IP address"))
            }
        }
        SettingType::Text => {
            let s = value.as_str().ok_or_else(|| invalid("expected text"))?;
            if s.chars().count() > 1000 || s.contains(['\n', '\r']) {
                return Err(invalid("expected one line of at most 1,000 characters"));
            }
            Ok(json!(s))
        }
        SettingType::Choice(options) => match value.as_str() {
            Some(s) if options.contains(&s) => Ok(json!(s)),
            _ => Err(invalid(&format!("expected one of {}", options.join(", ")))),
        },
        SettingType::Email => {
            let s = value.as_str().unwrap_or_default().trim();
            let ok = s.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !s.contains(char::is_whitespace)
            });
            if ok {
                Ok(json!(s))
            } else {
                Err(invalid("expected an e-mail address"))
            }
        }
        SettingType::UrlList => {
            let s = value.as_str().ok_or_else(|| invalid("expected URLs"))?;
            for url in s
                .split([',', ' ', '\n', '\r'])
                .filter(|u| !u.trim().is_empty())
            {
                check_url(url.trim())
                    .map_err(|why| invalid(&format!("`{}`: {why}", url.trim())))?;
            }
            Ok(json!(s.trim()))
        }
        SettingType::HostList => {
            let s = value
                .as_str()
                .ok_or_else(|| invalid("expected host names, addresses or networks"))?;
            crate::backend::outbound::parse_rules(s).map_err(|e| invalid(&e))?;
            Ok(json!(s.trim()))
        }
        SettingType::Url => {
            let s = value
                .as_str()
                .ok_or_else(|| invalid("expected a URL"))?
                .trim();
            check_url(s).map_err(invalid)?;
            Ok(json!(s.trim_end_matches('/')))
        }
    }
}

/// Bumped after this process changes a setting: values derived from the settings and kept in
/// memory are re-read (another process's changes are seen when such a value's time runs out).
pub static SETTINGS: crate::backend::cache::Generation = crate::backend::cache::Generation::new();

/// Marks every value derived from the settings as stale: call after a settings change commits.
pub fn forget_settings() {
    SETTINGS.bump();
}

/// The value of setting `name` (its default when unset); `None` for an unknown name.
pub async fn setting(state: &AppState, name: &str) -> Result<Option<Value>, AppError> {
    match definitions(state).into_iter().find(|d| d.name == name) {
        Some(def) => Ok(Some(current_value(state, &def).await?)),
        None => Ok(None),
    }
}

pub async fn current_value(state: &AppState, def: &SettingDef) -> Result<Value, AppError> {
    Ok(store::find_setting(&state.db, &def.name)
        .await?
        .unwrap_or_else(|| def.default.clone()))
}

/// An `http(s)://` URL with a host and no credentials.
fn check_url(s: &str) -> Result<(), &'static str> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or("expected an http:// or https:// URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') || host.contains(char::is_whitespace) {
        return Err("expected an http(s) URL with a host and no credentials");
    }
    Ok(())
}

/// Settings holding a secret (keys, passwords, tokens): never listed or logged by value.
pub fn is_secret(name: &str) -> bool {
    let lowered = name.to_lowercase();
    ["key", "password", "token", "secret"]
        .iter()
        .any(|w| lowered.contains(w))
}

/// MISP's `GET /servers/serverSettings` (the workflow-related part): `{"finalSettings": […]}`.
pub async fn list_settings(state: &AppState, actor: &Principal) -> Result<Value, AppError> {
    actor.require_site_admin()?;
    let stored: std::collections::HashMap<String, Value> =
        store::list_settings_with_prefix(&state.db, "")
            .await?
            .into_iter()
            .collect();
    let rows: Vec<Value> = definitions(state)
        .into_iter()
        .map(|d| {
            let mut value = stored
                .get(&d.name)
                .cloned()
                .unwrap_or_else(|| d.default.clone());
            // A stored secret is never sent back, only whether one is set.
            if is_secret(&d.name) && value.as_str().is_some_and(|v| !v.is_empty()) {
                value = json!("********");
            }
            json!({
                "setting": d.name,
                "value": value,
                "default": d.default,
                "description": d.description,
                "level": d.level,
                "type": match d.kind {
                    SettingType::Boolean => "boolean",
                    SettingType::Url
                    | SettingType::Host
                    | SettingType::HostList
                    | SettingType::Text
                    | SettingType::Choice(_)
                    | SettingType::Email
                    | SettingType::UrlList => "string",
                    SettingType::Integer { .. } | SettingType::OrgId => "numeric",
                },
            })
        })
        .collect();
    Ok(json!({"finalSettings": rows}))
}

/// MISP's `POST /servers/serverSettingsEdit/<setting>` with `{"value": …}`: validated, then
/// stored; a rejected value changes nothing.
pub async fn edit_setting(
    state: &AppState,
    actor: &Principal,
    name: &str,
    value: &Value,
) -> Result<Value, AppError> {
    actor.require_site_admin_writer()?;
    let def = definitions(state)
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| AppError::NotFound(format!("Unknown setting `{name}`.")))?;
    let value = validate_value(state, &def, value).await?;
    let before = current_value(state, &def).await?;
    if def.name.starts_with("Plugin.ZeroMQ_") {
        bind_zmq_before_saving(state, &def.name, &value).await?;
    }
    let txn = state.db.begin().await?;
    store::upsert_setting(&txn, &def.name, &value).await?;
    // Secrets (keys, passwords, tokens) are recorded as changed, never by value.
    let change = if is_secret(&def.name) {
        "value changed".to_owned()
    } else {
        super::audit::diff([(def.name.as_str(), before.to_string(), value.to_string())])
    };
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "Server",
            0,
            "serverSettingsEdit",
            format!("Setting {}", def.name),
        )
        .change(change),
    )
    .await?;
    txn.commit().await?;
    forget_settings();
    if def.name.starts_with("Plugin.Workflow_") {
        super::hooks::refresh_listeners(state).await;
    }
    if def.name.starts_with("Plugin.Action_services_") {
        // The answer reports the module servers' state through `workflows/moduleServers`.
        if let Err(e) = super::action_modules::refresh(state).await {
            tracing::warn!(error = %e, "module discovery failed");
        }
    }
    Ok(value)
}

/// A change that leaves ZeroMQ on binds the publisher at the resulting endpoint first, so a
/// port in use is refused with nothing saved and subscribers can connect before the first
/// message.
async fn bind_zmq_before_saving(
    state: &AppState,
    name: &str,
    value: &Value,
) -> Result<(), AppError> {
    let current = |n: &'static str| async move {
        if n == name {
            Ok::<_, AppError>(Some(value.clone()))
        } else {
            setting(state, n).await
        }
    };
    let on = current("Plugin.ZeroMQ_enable")
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !on {
        return Ok(());
    }
    let host = current("Plugin.ZeroMQ_host")
        .await?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = current("Plugin.ZeroMQ_port")
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(50000);
    let endpoint = super::zmq::endpoint_for(&host, port);
    state
        .workflows
        .zmq
        .bind(endpoint.clone())
        .await
        .map_err(|e| {
            AppError::Invalid(format!(
                "Cannot bind the ZeroMQ publisher at {endpoint}: {e}"
            ))
        })
}

/// The settings as the Settings page shows them (secrets never included by value).
pub async fn setting_rows(
    state: &AppState,
    actor: &Principal,
) -> Result<Vec<crate::model::SettingRow>, AppError> {
    actor.require_site_admin()?;
    let stored: std::collections::HashMap<String, Value> =
        store::list_settings_with_prefix(&state.db, "")
            .await?
            .into_iter()
            .collect();
    Ok(definitions(state)
        .into_iter()
        .map(|d| {
            let value = stored
                .get(&d.name)
                .cloned()
                .unwrap_or_else(|| d.default.clone());
            let text = match &value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let secret = is_secret(&d.name);
            let (kind, options) = match d.kind {
                SettingType::Boolean => ("boolean", Vec::new()),
                SettingType::Integer { .. } | SettingType::OrgId => ("numeric", Vec::new()),
                SettingType::Choice(o) => ("choice", o.iter().map(|s| (*s).to_owned()).collect()),
                _ => ("text", Vec::new()),
            };
            crate::model::SettingRow {
                is_set: !text.is_empty(),
                value: if secret { String::new() } else { text },
                kind: kind.into(),
                options,
                description: d.description,
                level: d.level,
                secret,
                name: d.name,
            }
        })
        .collect())
}

/// A value typed in the Settings page, as the JSON the setting takes: `true`/`false` for
/// booleans (a checkbox sends `on` or nothing), text otherwise (numbers are parsed by the
/// validation).
pub fn form_value(state: &AppState, name: &str, text: Option<String>) -> Result<Value, AppError> {
    let def = definitions(state)
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| AppError::NotFound(format!("Unknown setting `{name}`.")))?;
    Ok(match def.kind {
        SettingType::Boolean => json!(text.is_some_and(|t| t == "on" || t == "true" || t == "1")),
        _ => json!(text.unwrap_or_default()),
    })
}
