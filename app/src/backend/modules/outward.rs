//! Action modules that send data out (spec §5.2): `webhook`, `ms-teams-webhook`,
//! `telegram-send-alert`, `splunk-hec-export` and `push-zmq`. HTTP goes through the outbound
//! clients ([`crate::backend::outbound`]): pooled connections, `Plugin.Workflow_outbound_timeout`,
//! and the admin's rules on what may be called.
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use serde_json::{json, Map, Value};

use super::RunContext;
use crate::backend::outbound::{describe, excerpt, OutboundPolicy};

/// Longest excerpt of an error answer kept in the node's error.
const BODY_EXCERPT: usize = 500;

fn outward_config(id: &str, name: &str, description: &str, version: &str) -> ModuleConfig {
    let mut c = ModuleConfig::new(id, name, engine::ModuleKind::Action);
    c.description = description.into();
    c.version = version.into();
    c.icon = "paper-plane".into();
    c
}

/// Sends `request` and turns the answer into the node's outcome as MISP's webhook does: 2xx ⇒
/// true, 401/403 ⇒ "Authentication failed.", anything else ⇒ an error with the status and a
/// bounded excerpt of the body. Inside a background job the request carries an
/// `Idempotency-Key` (the job's key and the node: the same on every attempt, distinct per
/// node), and a failure worth retrying (unreachable, timed out, 408, 429, 5xx) marks the
/// attempt for a retry.
/// The idempotency key of node `ctx`'s delivery in the running job, if any.
pub(crate) fn node_delivery_key(ctx: &ModuleContext<'_>) -> Option<String> {
    crate::backend::jobs::delivery_key(&format!("{}/{}", ctx.workflow.id, ctx.node.id))
}

async fn deliver(
    ctx: &ModuleContext<'_>,
    what: &str,
    request: reqwest::RequestBuilder,
    policy: &OutboundPolicy,
    errors: &mut Vec<String>,
) -> bool {
    let request = match node_delivery_key(ctx) {
        Some(key) => request.header("Idempotency-Key", key),
        None => request,
    };
    let answer = request.timeout(policy.timeout).send().await;
    let transient = match &answer {
        Ok(r) => {
            let s = r.status().as_u16();
            s == 408 || s == 429 || s >= 500
        }
        Err(_) => true,
    };
    if transient {
        crate::backend::jobs::note_transient_failure();
    }
    match answer {
        Ok(r) if r.status().is_success() => true,
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => {
            errors.push("Authentication failed.".into());
            false
        }
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            errors.push(format!(
                "{what} answered {status}. Body returned: {}",
                excerpt(body.trim(), BODY_EXCERPT)
            ));
            false
        }
        Err(e) => {
            errors.push(format!("{what} could not be reached: {}.", describe(&e)));
            false
        }
    }
}

/// Modules that call a URL taken from the workflow, refused while MISP's
/// `Security.rest_client_enable_arbitrary_urls` is off (the editor warns on their nodes).
pub const ARBITRARY_URL_MODULES: [&str; 3] = ["webhook", "ms-teams-webhook", "splunk-hec-export"];

/// The outbound client and checked URL for `module`'s call to `url`; `None` (with the reason in
/// `errors`) when the outbound rules refuse it. A module of [`ARBITRARY_URL_MODULES`] takes its
/// URL from the workflow, so MISP's `Security.rest_client_enable_arbitrary_urls` must be on.
async fn open(
    run: &RunContext,
    module: &str,
    url: &str,
    self_signed: bool,
    errors: &mut Vec<String>,
) -> Result<Option<(OutboundPolicy, reqwest::Client, reqwest::Url)>, ModuleError> {
    let workflow_url = ARBITRARY_URL_MODULES.contains(&module);
    if url.trim().is_empty() {
        errors.push("URL not provided.".into());
        return Ok(None);
    }
    let (policy, client) = run
        .state
        .workflows
        .outbound
        .prepare(&run.state, self_signed)
        .await
        .map_err(|e| ModuleError::Failed(e.to_string()))?;
    if workflow_url && !policy.arbitrary_urls {
        errors.push(
            "Calling arbitrary URLs is disabled: enable Security.rest_client_enable_arbitrary_urls.".into(),
        );
        return Ok(None);
    }
    match policy.check_url(url) {
        Ok(u) => Ok(Some((policy, client, u))),
        Err(e) => {
            errors.push(e);
            Ok(None)
        }
    }
}

/// The roaming data as a value to send (the view the node sees).
fn roaming(ctx: &ModuleContext<'_>, data: &RoamingData) -> Result<Value, ModuleError> {
    Ok(ctx.view(data)?.into_owned())
}

/// `Name: value` lines as headers; a line without `:` is refused.
fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l
                .split_once(':')
                .ok_or_else(|| format!("Header line `{l}` is not `Name: value`."))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(format!("`{name}` is not a header name."));
            }
            Ok((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// A JSON object's top-level fields as form fields (non-strings as JSON text).
fn form_fields(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![("data".into(), other.to_string())],
    }
}

/// The webhook's params (any may be a Jinja template).
const WEBHOOK_PARAMS: [&str; 6] = [
    "url",
    "self_signed",
    "headers",
    "request_method",
    "content_type",
    "payload",
];

/// `webhook` (Webhook 0.7): calls a URL with the roaming data or a Jinja payload.
pub struct Webhook {
    config: ModuleConfig,
}

impl Webhook {
    pub fn new() -> Self {
        let mut c = outward_config(
            "webhook",
            "Webhook",
            "Allow to perform custom callbacks to the provided URL",
            "0.7",
        );
        c.icon = "globe".into();
        c.params = vec![
            ParamDescriptor::new("url", "URL", ParamType::Input)
                .placeholder("https://example.com/test")
                .jinja(),
            ParamDescriptor::new("content_type", "Content type", ParamType::Select)
                .default(json!("json"))
                .options(json!({"json": "application/json", "form": "application/x-www-form-urlencoded"})),
            ParamDescriptor::new("request_method", "HTTP Request Method", ParamType::Select)
                .default(json!("post"))
                .options(json!({"post": "POST", "get": "GET", "put": "PUT", "delete": "DELETE"})),
            ParamDescriptor::new("self_signed", "Self-signed certificates", ParamType::Select)
                .default(json!("deny"))
                .options(json!({"deny": "Deny self-signed certificates", "allow": "Allow self-signed certificates"})),
            ParamDescriptor::new("payload", "Payload (leave empty for roaming data)", ParamType::Textarea)
                .default(json!(""))
                .placeholder("Post body. Leave empty to post all the roaming data.")
                .jinja(),
            ParamDescriptor::new("headers", "Headers", ParamType::Textarea)
                .default(json!(""))
                .placeholder("Authorization: foobar")
                .jinja(),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for Webhook {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        // The document is only looked at when a param is a template or it is sent as a form:
        // a JSON body is serialised straight from the roaming data (no copy, and MISP's
        // core-format extras written as they are serialised rather than built first).
        let templated = WEBHOOK_PARAMS.iter().any(|p| ctx.param_is_template(p));
        let view = if templated {
            Some(ctx.view(data)?)
        } else {
            None
        };
        let params_data: &Value = view.as_deref().unwrap_or(&Value::Null);
        let url = ctx.param_str("url", params_data)?;
        let self_signed = ctx.param_str("self_signed", params_data)? == "allow";
        let Some((policy, client, url)) =
            open(run, &self.config.id, &url, self_signed, errors).await?
        else {
            return Ok(false);
        };
        let headers = match parse_headers(&ctx.param_str("headers", params_data)?) {
            Ok(h) => h,
            Err(e) => {
                errors.push(e);
                return Ok(false);
            }
        };
        let method = match ctx.param_str("request_method", params_data)?.as_str() {
            "get" => reqwest::Method::GET,
            "put" => reqwest::Method::PUT,
            "delete" => reqwest::Method::DELETE,
            _ => reqwest::Method::POST,
        };
        let form = ctx.param_str("content_type", params_data)? == "form";
        let payload_text = ctx.param_str("payload", params_data)?;
        let with_body = method != reqwest::Method::GET;
        let mut request = client.request(method, url);
        // The payload param when set (JSON when it parses, else the text), else the data.
        let custom = (!payload_text.trim().is_empty())
            .then(|| serde_json::from_str(&payload_text).unwrap_or(Value::String(payload_text)));
        request = if form {
            let request = request.header("Accept", "application/x-www-form-urlencoded");
            match (custom, with_body) {
                (_, false) => request,
                (Some(payload), true) => request.form(&form_fields(&payload)),
                (None, true) => request.form(&form_fields(ctx.view(data)?.as_ref())),
            }
        } else {
            let request = request.header("Accept", "application/json");
            let body = match (custom, with_body) {
                (_, false) => None,
                (Some(Value::String(text)), true) => Some(text.into_bytes()),
                (Some(other), true) => Some(serde_json::to_vec(&other).unwrap_or_default()),
                (None, true) => Some(match data.text() {
                    Some(text) => text.as_bytes().to_vec(),
                    None => ctx.view_json(data)?,
                }),
            };
            match body {
                Some(body) => request
                    .header("Content-Type", "application/json")
                    .body(body),
                None => request,
            }
        };
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Ok(deliver(ctx, "The webhook", request, &policy, errors).await)
    }
}

/// The values at `path` (all the data when empty), joined as text.
fn extracted_text(
    ctx: &ModuleContext<'_>,
    view: &Value,
    path: &str,
) -> Result<String, ModuleError> {
    if path.trim().is_empty() {
        return Ok(serde_json::to_string_pretty(view).unwrap_or_default());
    }
    let compiled = ctx.path(path)?;
    Ok(compiled
        .extract(view)
        .into_iter()
        .map(|v| engine::php::to_php_string(v).unwrap_or_else(|| v.to_string()))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `ms-teams-webhook` (Teams Webhook 0.5): posts `{"text": …}` to a Teams incoming webhook.
pub struct MsTeamsWebhook {
    config: ModuleConfig,
}

impl MsTeamsWebhook {
    pub fn new() -> Self {
        let mut c = outward_config(
            "ms-teams-webhook",
            "MS Teams Webhook",
            "Perform callbacks to the Teams webhook provided by the \"Incoming Webhook\" connector",
            "0.5",
        );
        c.params = vec![
            ParamDescriptor::new("url", "MS Teams Webhook URL", ParamType::Input)
                .placeholder("https://example.com/test"),
            ParamDescriptor::new("content_type", "Content type", ParamType::Select)
                .default(json!("form"))
                .options(json!({"form": "application/x-www-form-urlencoded"})),
            ParamDescriptor::new(
                "data_extraction_path",
                "Data extraction path",
                ParamType::Hashpath,
            )
            .default(json!(""))
            .placeholder("Attribute.{n}.AttributeTag.{n}.Tag.name"),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for MsTeamsWebhook {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = roaming(ctx, data)?;
        let url = ctx.param_str("url", &view)?;
        let Some((policy, client, url)) = open(run, &self.config.id, &url, false, errors).await?
        else {
            return Ok(false);
        };
        let text = extracted_text(ctx, &view, &ctx.param_str("data_extraction_path", &view)?)?;
        let request = client.post(url).json(&json!({"text": text}));
        Ok(deliver(ctx, "The Teams webhook", request, &policy, errors).await)
    }
}

/// `telegram-send-alert` (Telegram Send Alert 0.1): a message through a Telegram bot.
pub struct TelegramSendAlert {
    config: ModuleConfig,
}

impl TelegramSendAlert {
    pub fn new() -> Self {
        let mut c = outward_config(
            "telegram-send-alert",
            "Telegram Send Alert",
            "Send a message alert to a Telegram channel",
            "0.1",
        );
        c.params = vec![
            ParamDescriptor::new("bot_token", "Telegram Bot Token", ParamType::Input)
                .placeholder("Enter your Telegram Bot Token"),
            ParamDescriptor::new("chat_id", "Telegram Chat id", ParamType::Input)
                .placeholder("Enter your Telegram Chat id"),
            ParamDescriptor::new(
                "message_body_template",
                "Message Body Template (Jinja2)",
                ParamType::Textarea,
            )
            .placeholder("New event {{ Event.info }}")
            .jinja(),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for TelegramSendAlert {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = roaming(ctx, data)?;
        let token = ctx.param_str("bot_token", &view)?;
        let chat_id = ctx.param_str("chat_id", &view)?;
        let text = ctx.param_str("message_body_template", &view)?;
        if token.trim().is_empty() || chat_id.trim().is_empty() {
            errors.push("The bot token and the chat id are required.".into());
            return Ok(false);
        }
        if !token
            .trim()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_-".contains(&b))
        {
            errors.push("The bot token is not a Telegram bot token.".into());
            return Ok(false);
        }
        if text.trim().is_empty() {
            errors.push("The message is empty.".into());
            return Ok(false);
        }
        let base =
            crate::backend::services::settings::setting(&run.state, "Plugin.Telegram_api_url")
                .await
                .map_err(|e| ModuleError::Failed(e.to_string()))?
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "https://api.telegram.org".into());
        let url = format!(
            "{}/bot{}/sendMessage",
            base.trim_end_matches('/'),
            token.trim()
        );
        let Some((policy, client, url)) = open(run, &self.config.id, &url, false, errors).await?
        else {
            return Ok(false);
        };
        let request = client
            .post(url)
            .json(&json!({"chat_id": chat_id.trim(), "text": text, "parse_mode": "HTML"}));
        Ok(deliver(ctx, "Telegram", request, &policy, errors).await)
    }
}

/// `splunk-hec-export` (Splunk HEC export 0.2, 0 outputs): the event, or one Splunk event per
/// attribute, to a Splunk HTTP Event Collector.
pub struct SplunkHecExport {
    config: ModuleConfig,
}

impl SplunkHecExport {
    pub fn new() -> Self {
        let mut c = outward_config(
            "splunk-hec-export",
            "Splunk HEC export",
            "Export Event Data to Splunk HTTP Event Collector. Due to the potential high amount of requests, it's recommanded to put this module after a `concurrent_task` logic module.",
            "0.2",
        );
        c.outputs = 0;
        c.expect_misp_core_format = true;
        c.params = vec![
            ParamDescriptor::new("url", "HEC URL", ParamType::Input)
                .placeholder("https://splunk:8088/services/collector/event"),
            ParamDescriptor::new("verify_tls", "Verify HTTPS Certificate", ParamType::Select)
                .default(json!("1"))
                .options(json!({"1": "True", "0": "False"})),
            ParamDescriptor::new("hec_token", "HEC Token", ParamType::Input)
                .placeholder("00000000-0000-0000-000000000000"),
            ParamDescriptor::new("source_type", "Source Type", ParamType::Input)
                .default(json!(""))
                .placeholder("misp:event"),
            ParamDescriptor::new("event_per_attribute", "Create one Splunk Event per Attribute", ParamType::Select)
                .default(json!("0"))
                .options(json!({"1": "True", "0": "False"})),
            ParamDescriptor::new("data_extraction_model", "Data extraction model (JSON)", ParamType::Textarea)
                .default(json!(""))
                .placeholder("{ \"EventInfo\": \"Event.info\", \"AttributeValue\": \"Event.Attribute.{n}.value\"}"),
        ];
        Self { config: c }
    }
}

/// The data a Splunk event carries: the data itself, or `{field: extraction}` per the model.
fn splunk_payload(
    ctx: &ModuleContext<'_>,
    data: &Value,
    model: &Map<String, Value>,
) -> Result<Value, ModuleError> {
    if model.is_empty() {
        return Ok(data.clone());
    }
    let mut out = Map::new();
    for (field, path) in model {
        let path = path.as_str().unwrap_or_default();
        let found: Vec<Value> = ctx.path(path)?.extract(data).into_iter().cloned().collect();
        let value = match found.len() {
            0 => Value::Null,
            1 => found.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(found),
        };
        out.insert(field.clone(), value);
    }
    Ok(Value::Object(out))
}

#[async_trait]
impl Module for SplunkHecExport {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = roaming(ctx, data)?;
        let url = ctx.param_str("url", &view)?;
        let token = ctx.param_str("hec_token", &view)?;
        if url.trim().is_empty() || token.trim().is_empty() {
            errors.push("The HEC URL and token are required.".into());
            return Ok(false);
        }
        let model_text = ctx.param_str("data_extraction_model", &view)?;
        let model: Map<String, Value> = if model_text.trim().is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(&model_text) {
                Ok(Value::Object(m)) if m.values().all(Value::is_string) => m,
                _ => {
                    errors.push(
                        "The data extraction model must be a JSON object of field: hash path."
                            .into(),
                    );
                    return Ok(false);
                }
            }
        };
        let verify = ctx.param_str("verify_tls", &view)? != "0";
        let Some((policy, client, url)) = open(run, &self.config.id, &url, !verify, errors).await?
        else {
            return Ok(false);
        };
        let source_type = ctx.param_str("source_type", &view)?;
        let per_attribute = ctx.param_str("event_per_attribute", &view)? == "1";
        // One HEC event per attribute (each with the event around it), or the whole data.
        let units: Vec<Value> = if per_attribute {
            let mut event = view.get("Event").cloned().unwrap_or(Value::Null);
            if let Value::Object(m) = &mut event {
                m.remove("Attribute");
                m.remove("Object");
                m.remove("_AttributeFlattened");
            }
            view.pointer("/Event/_AttributeFlattened")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| {
                    let mut e = event.clone();
                    e["Attribute"] = a.clone();
                    json!({"Event": e})
                })
                .collect()
        } else {
            vec![view]
        };
        // HEC takes several events in one request, one JSON object after another.
        let mut body = String::new();
        for unit in &units {
            let mut hec = json!({"event": splunk_payload(ctx, unit, &model)?});
            if !source_type.trim().is_empty() {
                hec["sourcetype"] = json!(source_type.trim());
            }
            body.push_str(&hec.to_string());
        }
        if body.is_empty() {
            return Ok(true);
        }
        let request = client
            .post(url)
            .header("Authorization", format!("Splunk {}", token.trim()))
            .header("Content-Type", "application/json")
            .body(body);
        Ok(deliver(ctx, "Splunk HEC", request, &policy, errors).await)
    }
}

/// `push-zmq` (Push to ZMQ 0.2): the data at a hash path (or all of it) on the
/// `misp_json_workflow` topic of the server's ZeroMQ publisher.
pub struct PushZmq {
    config: ModuleConfig,
}

impl PushZmq {
    pub fn new() -> Self {
        let mut c = outward_config("push-zmq", "Push to ZMQ", "Push to the ZMQ channel", "0.2");
        c.icon = "wifi".into();
        c.params = vec![ParamDescriptor::new(
            "data_extraction_path",
            "Data extraction path",
            ParamType::Hashpath,
        )
        .default(json!(""))
        .placeholder("Attribute.{n}.AttributeTag.{n}.Tag.name")];
        Self { config: c }
    }
}

#[async_trait]
impl Module for PushZmq {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = roaming(ctx, data)?;
        let path = ctx.param_str("data_extraction_path", &view)?;
        let payload = if path.trim().is_empty() {
            view
        } else {
            Value::Array(
                ctx.path(&path)?
                    .extract(&view)
                    .into_iter()
                    .cloned()
                    .collect(),
            )
        };
        // Inside a background job an object payload carries the delivery's idempotency key
        // (the same on every attempt), so subscribers can drop a repeat.
        let mut payload = payload;
        if let (Some(key), Value::Object(fields)) = (node_delivery_key(ctx), &mut payload) {
            fields.insert("_idempotency_key".into(), Value::String(key));
        }
        match crate::backend::services::zmq::publish(&run.state, "misp_json_workflow", &payload)
            .await
        {
            Ok(true) => Ok(true),
            Ok(false) => {
                errors.push("ZeroMQ is disabled: enable Plugin.ZeroMQ_enable.".into());
                Ok(false)
            }
            Err(e) => Err(ModuleError::Failed(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_parsed_or_refused() {
        assert_eq!(
            parse_headers("Authorization: Bearer x:y\n\n X-Trace : 1 ").unwrap(),
            [
                ("Authorization".to_owned(), "Bearer x:y".to_owned()),
                ("X-Trace".to_owned(), "1".to_owned())
            ]
        );
        assert!(parse_headers("no colon").is_err());
        assert!(parse_headers("Bad Name: x").is_err());
    }

    #[test]
    fn form_fields_keep_strings_and_encode_the_rest() {
        assert_eq!(
            form_fields(&json!({"a": "x", "b": 2, "c": {"d": true}})),
            [
                ("a".to_owned(), "x".to_owned()),
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "{\"d\":true}".to_owned())
            ]
        );
    }
}
