//! Plain data shared by the pages and the server: what server functions send to the browser.
//!
//! Nothing here carries a secret; password and key hashes stay in `backend`.
use serde::{Deserialize, Serialize};

/// The logged-in user as the page shell needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub email: String,
    pub org_id: i32,
    pub org_name: String,
    pub role_name: String,
    pub site_admin: bool,
}

/// A row of the Administration page's user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub org_id: i32,
    pub org_name: String,
    pub role_id: i32,
    pub role_name: String,
    pub disabled: bool,
    /// Unix seconds; 0 = never.
    pub last_login: i64,
    pub date_created: i64,
}

/// A row of the Administration page's organisation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: i32,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub local: bool,
    pub user_count: u64,
}

/// A role a user can be given (MISP's default roles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub id: i32,
    pub name: String,
    pub site_admin: bool,
}

/// An API key as listed: never the key itself, only its first and last four characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthKeyRow {
    pub id: i32,
    pub uuid: String,
    pub authkey_start: String,
    pub authkey_end: String,
    pub comment: String,
    pub read_only: bool,
    pub created: i64,
    /// Unix seconds; 0 = never expires.
    pub expiration: i64,
    /// Unix seconds; 0 = never used.
    pub last_used: i64,
}

/// A key just created: the only moment its full value is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuthKey {
    pub row: AuthKeyRow,
    pub authkey: String,
}

/// Everything the Administration page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub users: Vec<UserRow>,
    pub orgs: Vec<OrgRow>,
    pub roles: Vec<RoleRow>,
}

/// A tag as the Events pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagChip {
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    pub local: bool,
}

/// A row of the event index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub info: String,
    pub date: String,
    pub org: String,
    pub published: bool,
    pub attribute_count: String,
    pub distribution: String,
    pub tags: Vec<TagChip>,
}

/// One page of the event index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    pub rows: Vec<EventRow>,
    pub page: u64,
    /// Whether a next page exists.
    pub more: bool,
}

/// An attribute on the event page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeRow {
    pub id: String,
    pub uuid: String,
    pub kind: String,
    pub category: String,
    pub value: String,
    pub to_ids: bool,
    pub comment: String,
    pub distribution: String,
    pub tags: Vec<TagChip>,
}

/// An object with its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectView {
    pub id: String,
    pub name: String,
    pub meta_category: String,
    pub attributes: Vec<AttributeRow>,
}

/// An event report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    pub id: String,
    pub name: String,
    pub content: String,
}

/// A proposal (shadow attribute), for a new attribute or against an existing one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    pub id: String,
    pub kind: String,
    pub category: String,
    pub value: String,
    pub comment: String,
    pub org: String,
    /// The attribute it would change (empty: a new attribute).
    pub attribute_id: String,
}

/// A post of the event's discussion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    pub id: String,
    pub author: String,
    pub date: String,
    pub contents: String,
}

/// Everything the event page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    pub id: String,
    pub uuid: String,
    pub info: String,
    pub date: String,
    pub org: String,
    pub orgc: String,
    pub published: bool,
    pub publish_timestamp: i64,
    pub timestamp: i64,
    pub distribution: String,
    pub threat_level: String,
    pub analysis: String,
    pub tags: Vec<TagChip>,
    pub attributes: Vec<AttributeRow>,
    pub objects: Vec<ObjectView>,
    pub reports: Vec<ReportView>,
    pub proposals: Vec<ProposalView>,
    pub posts: Vec<PostView>,
    /// Whether the viewer may change the event (add, edit, tag, publish).
    pub can_edit: bool,
    /// MISP's attribute types and categories, for the attribute forms.
    pub types: Vec<String>,
    pub categories: Vec<String>,
}

/// A row of the Triggers page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub description: String,
    /// MISP's static overhead label (low / medium / high) and its explanation.
    pub overhead: String,
    pub overhead_message: String,
    /// Measured run time over the latest runs (milliseconds), when there are runs.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub counter: String,
    pub blocking: bool,
    pub core_format: bool,
    /// The trigger's workflow, if one exists.
    pub workflow_id: Option<String>,
    pub last_update: i64,
    pub enabled: bool,
    pub debug: bool,
}

/// A setting as the Settings page edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingRow {
    pub name: String,
    /// The current value as text (empty for an unset secret; secrets are never sent).
    pub value: String,
    /// `boolean`, `numeric`, `choice` or `text`.
    pub kind: String,
    pub options: Vec<String>,
    pub description: String,
    /// MISP's level: 0 critical, 1 recommended, 2 optional.
    pub level: u8,
    pub secret: bool,
    /// Whether a secret is set.
    pub is_set: bool,
}

/// A row of the module index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRow {
    pub id: String,
    pub name: String,
    /// `logic` or `action`.
    pub kind: String,
    /// `built-in`, `misp-modules` or `custom`.
    pub source: String,
    pub blocking: bool,
    pub core_format: bool,
    pub version: String,
    pub description: String,
    pub enabled: bool,
    /// How many workflows use it.
    pub used_by: usize,
}

/// A module's parameter, as its page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamRow {
    pub id: String,
    pub label: String,
    pub kind: String,
    /// Default and options as JSON text (empty when none).
    pub default: String,
    pub options: String,
    pub jinja: bool,
}

/// A workflow that uses a module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRef {
    pub id: String,
    pub name: String,
    pub trigger_id: String,
}

/// A module's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDetail {
    pub module: ModuleRow,
    pub params: Vec<ParamRow>,
    pub support_filters: bool,
    pub workflows: Vec<WorkflowRef>,
}

/// A run in the Logs list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub workflow_id: String,
    pub trigger_id: String,
    /// Unix seconds.
    pub started_at: i64,
    pub duration_ms: f64,
    /// `success`, `failure` or `blocked`.
    pub outcome: String,
    pub action: String,
    pub errors: Vec<String>,
}

/// One page of runs, newest first; `next` continues after the last one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunList {
    pub rows: Vec<RunRow>,
    pub next: Option<String>,
}

/// A node of a run: its result, time, errors and (debug runs) its output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunNodeView {
    pub node_id: u64,
    pub module_id: String,
    pub status: String,
    pub duration_ms: f64,
    pub errors: Vec<String>,
    /// Pretty JSON of the node's output (debug runs), empty otherwise.
    pub data: String,
}

/// A node of the workflow's graph as drawn on a run's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphNodeView {
    pub id: u64,
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// The node's status in the run (`success`, `failure`, `blocked`…) or `not run`.
    pub status: String,
}

/// Everything a run's page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunRow,
    pub nodes: Vec<RunNodeView>,
    pub graph: Vec<GraphNodeView>,
    /// Edges as (from node, to node).
    pub edges: Vec<(u64, u64)>,
}

/// A row of the Blueprints page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlueprintRow {
    pub id: String,
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub timestamp: i64,
    /// One of the official set.
    pub default: bool,
    pub nodes: usize,
}

/// A blueprint's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlueprintDetail {
    pub blueprint: BlueprintRow,
    pub graph: Vec<GraphNodeView>,
    pub edges: Vec<(u64, u64)>,
    /// The same graph as Mermaid text (for documentation).
    pub mermaid: String,
}

/// What the node editor opens with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorData {
    pub workflow_id: String,
    pub name: String,
    pub trigger_id: String,
    /// The stored version (`timestamp`), sent back on save so a stale save is refused.
    pub timestamp: i64,
    pub debug: bool,
    /// The graph (`data`) as JSON text.
    pub data: String,
    /// Every module's MISP config (`workflows/moduleIndex` shape), as a JSON array.
    pub modules: String,
    pub blueprints: Vec<BlueprintChoice>,
}

/// A blueprint the editor can insert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlueprintChoice {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Its node list as JSON text.
    pub data: String,
}

/// Live validation of the graph being edited (spec §10).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorCheck {
    /// What would refuse a save (MISP's messages).
    pub errors: Vec<String>,
    /// Edges drawn red: back edges of cycles and extra connections of one output.
    pub red_edges: Vec<(u64, u64)>,
    /// Edges drawn orange: paths to a blocking node below a concurrent task.
    pub orange_edges: Vec<(u64, u64)>,
    pub notices: Vec<NodeNoticeView>,
}

/// A notification shown on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeNoticeView {
    pub node: u64,
    pub error: bool,
    pub text: String,
}

/// A row of the Ad-hoc workflows page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdhocRow {
    pub workflow_id: String,
    pub trigger_id: String,
    pub name: String,
    pub description: String,
    /// Where its input comes from (`passed_roaming_data`, `passed_event_ids`, `events`, …).
    pub scope: String,
    pub enabled: bool,
    pub counter: String,
    /// Unix seconds of the last save.
    pub timestamp: i64,
}

/// A job of the durable queue, as the Logs page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    /// queued, running, retrying, dead or done.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Unix seconds: when it may run (next attempt).
    pub run_after: i64,
    /// Unix seconds of its last change.
    pub updated_at: i64,
    pub last_error: String,
    /// Sent with its outward deliveries.
    pub idempotency_key: String,
}
