//! The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`.
//!
//! Every REST route is registered through utoipa-axum's `routes!`, which takes the route's path
//! and methods from the handler's `#[utoipa::path]` attribute: the router and this document are
//! built from the same declarations, so a route cannot be served undocumented or documented
//! unserved. `server/openapi.json` is the checked-in copy; the `openapi` integration test fails
//! when the generated document differs from it (`UPDATE_OPENAPI=1` rewrites it), so every API
//! change shows up in review.
//!
//! The schemas below describe MISP's JSON shapes as Flowgate writes them. Bodies that carry
//! MISP data as-is (workflow graphs, events) are free-form objects.
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

pub const WORKFLOWS: &str = "Workflows";
pub const BLUEPRINTS: &str = "Workflow blueprints";
pub const RUNS: &str = "Workflow runs";
pub const SERVERS: &str = "Servers";
pub const USERS: &str = "Users";
pub const EVENTS: &str = "Events";
pub const TAGS: &str = "Tags";
pub const AUDIT: &str = "Audit log";
pub const LISTS: &str = "Blocklists and warninglists";
pub const PROPOSALS: &str = "Proposals and discussion";
pub const SHARING: &str = "Sharing groups";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flowgate REST API",
        description = "MISP's workflow routes and the MISP core routes Flowgate serves, with MISP's request and response shapes. Every route also answers with a `.json` suffix (`/workflows/index.json`). Authenticate with the user's API key in the `Authorization` header.",
        license(name = "AGPL-3.0-only")
    ),
    modifiers(&ApiKeyAuth),
    security(("ApiKey" = [])),
    tags(
        (name = WORKFLOWS, description = "Workflows, triggers and modules (site admins only)."),
        (name = BLUEPRINTS, description = "Reusable sub-graphs (site admins only)."),
        (name = RUNS, description = "The run log: one record per run, one per node (site admins only)."),
        (name = EVENTS, description = "MISP events and their attributes, objects and tags."),
        (name = TAGS, description = "Tags and tagging."),
        (name = AUDIT, description = "The audit log: one row per change (site admins only)."),
        (name = LISTS, description = "The event blocklist and custom warninglists."),
        (name = PROPOSALS, description = "Proposals (shadow attributes) and discussion threads."),
        (name = SHARING, description = "Sharing groups: who sees distribution-4 events and their contents."),
        (name = SERVERS, description = "Version and settings."),
        (name = USERS, description = "The calling user."),
    ),
    components(schemas(MispError, Saved))
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The user's 40-character API key, as MISP expects it.",
            ))),
        );
    }
}

/// MISP's error body. 403 for a missing or invalid API key and for a user without the right;
/// 400 for invalid input (with every reason in `errors` when a save is rejected); 404 for an
/// unknown id; 409 for a stale save.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MispError {
    pub name: String,
    pub message: String,
    /// The path the client asked for.
    pub url: String,
    /// Every reason, when a save is rejected for several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// MISP's answer to a successful state change.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Saved {
    pub saved: bool,
    pub success: bool,
    pub name: String,
    pub message: String,
    pub url: String,
}

/// A stored workflow.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    /// Numeric id, as a string.
    pub id: String,
    pub uuid: String,
    pub name: String,
    pub description: String,
    /// Unix seconds of the last save, as a string; send it back on edit (stale saves get 409).
    pub timestamp: String,
    pub enabled: bool,
    /// Runs so far, as a string.
    pub counter: String,
    /// The trigger the workflow is bound to (`event-publish`, …, or `adhoc_<n>`).
    pub trigger_id: String,
    pub debug_enabled: bool,
    /// The graph: MISP's Drawflow-shaped object of nodes keyed by id.
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The trigger modules of the graph, as `moduleIndex` lists them.
    pub listening_triggers: Vec<serde_json::Value>,
}

/// `{"Workflow": {...}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WorkflowEnvelope {
    #[serde(rename = "Workflow")]
    pub workflow: Workflow,
}

/// What `add` and `edit` accept, inside `{"Workflow": {...}}` or bare.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WorkflowInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The graph (object) or the graph as a JSON string, as MISP's editor sends it.
    pub data: Option<serde_json::Value>,
    /// `add` only: the trigger; defaults to the graph's trigger node.
    pub trigger_id: Option<String>,
    pub debug_enabled: Option<serde_json::Value>,
    /// `add` only.
    pub uuid: Option<String>,
    /// `edit` only: the `timestamp` the client last saw; a different stored one answers 409.
    pub timestamp: Option<serde_json::Value>,
}

/// A blueprint: a saved list of nodes.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Blueprint {
    pub id: String,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub timestamp: String,
    pub default: bool,
    /// The nodes (a list of MISP workflow nodes).
    pub data: Vec<serde_json::Value>,
    /// The nodes drawn as a Mermaid flowchart.
    pub mermaid: String,
}

/// `{"WorkflowBlueprint": {...}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlueprintEnvelope {
    #[serde(rename = "WorkflowBlueprint")]
    pub blueprint: Blueprint,
}

/// What blueprint `add` and `edit` accept, inside `{"WorkflowBlueprint": {...}}` or bare.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlueprintInput {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub timestamp: Option<serde_json::Value>,
    /// The list of nodes, or that list as a JSON string.
    pub data: Option<serde_json::Value>,
    /// `add` only, instead of `data`: save a selection of this stored workflow's nodes.
    pub workflow_id: Option<serde_json::Value>,
    /// The selected node ids (the trigger is left out; edges leaving the selection dropped).
    pub node_ids: Option<Vec<serde_json::Value>>,
}

/// What a workflow run answers (`executeWorkflow`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RunResult {
    pub success: bool,
    /// `success`, `failure` or `blocked`; `Invalid JSON` when the data string is not JSON.
    pub outcome: String,
    pub outcome_text: Option<String>,
    /// `{blocking_nodes, executed_nodes, blocked_paths}`.
    pub walk_result: Option<serde_json::Value>,
    pub errors: Option<Vec<String>>,
    /// Per node: id, module, status, duration, errors.
    pub nodes: Option<Vec<serde_json::Value>>,
    /// The run's record in `GET /workflows/logs/{run_id}`.
    pub run_id: Option<i64>,
}

/// `executeWorkflow`'s body: MISP's `{"Workflow": {"data": "<JSON string>"}}`, or the data itself.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExecuteInput {
    #[serde(rename = "Workflow")]
    pub workflow: Option<ExecuteData>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExecuteData {
    /// The roaming data as a JSON string (empty ⇒ `[]`).
    pub data: String,
}

/// `moduleStatelessExecution`'s body (MISP's form fields).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatelessInput {
    /// The data as a JSON string (a JSON value is accepted too).
    pub input_data: Option<serde_json::Value>,
    /// The node's params, keyed by param id.
    pub module_indexed_param: Option<serde_json::Map<String, serde_json::Value>>,
    /// Build the MISP core format first, as the `event-publish` trigger does (absent ⇒ no).
    pub convert_data: Option<serde_json::Value>,
}

/// `moduleStatelessExecution`'s answer: MISP's `{success, errors}` plus the data the module left.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StatelessResult {
    pub success: bool,
    pub errors: Vec<String>,
    pub data: serde_json::Value,
}

/// `checkGraph`'s body: the graph, bare or as `{"graph": ...}` / `{"Workflow": {"graph": ...}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct GraphInput {
    pub graph: serde_json::Map<String, serde_json::Value>,
}

/// `massToggleField`'s body.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MassToggleInput {
    #[serde(rename = "Workflow")]
    pub workflow: MassToggleIds,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MassToggleIds {
    /// Module ids: a list, or that list as a JSON string.
    pub module_ids: serde_json::Value,
}

/// `serverSettingsEdit`'s body.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SettingValue {
    pub value: serde_json::Value,
}

/// Blueprint `import`'s body: MISP's export file as-is, or `{"WorkflowBlueprint": {"json": "<file>"}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlueprintImport {
    #[serde(rename = "WorkflowBlueprint")]
    pub blueprint: serde_json::Value,
}

/// The error answers every REST route can give (MISP's error body).
#[derive(utoipa::IntoResponses)]
pub enum ErrorResponses {
    /// Invalid input: `message` says why; a rejected save lists every reason in `errors`.
    #[response(status = 400)]
    Invalid(MispError),
    /// No valid API key, or the user may not do this (workflow administration is for site
    /// admins; read-only keys cannot change anything).
    #[response(status = 403)]
    Forbidden(MispError),
    /// No such object.
    #[response(status = 404)]
    NotFound(MispError),
}
