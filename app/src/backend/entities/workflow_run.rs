use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workflow_id: i32,
    pub trigger_id: String,
    /// Microseconds since the Unix epoch.
    pub started_at: i64,
    pub duration_us: i64,
    pub success: bool,
    pub outcome: String,
    #[sea_orm(column_type = "Text")]
    pub outcome_text: String,
    pub user_id: i32,
    pub action: String,
    pub debug: bool,
    /// Walk result and errors as JSON.
    #[sea_orm(column_type = "Text")]
    pub walk: String,
    /// The nodes as a JSON array of `{node_id, module_id, status, duration_us, errors}`, for a
    /// run without captured node data; `None` when they are rows of `workflow_run_nodes`.
    #[sea_orm(column_type = "Text", nullable)]
    pub nodes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
