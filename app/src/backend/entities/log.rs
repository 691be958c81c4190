use sea_orm::entity::prelude::*;

/// One audit-log row (MISP's `logs` table).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    /// Unix seconds.
    pub created: i64,
    pub model: String,
    pub model_id: i32,
    pub action: String,
    pub user_id: i32,
    #[sea_orm(column_type = "Text")]
    pub change: String,
    pub email: String,
    pub org: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub ip: String,
    /// How many workflow runs led to the change (0: a person or API client); not in MISP's
    /// JSON, read by the `log-after-save` loop guard.
    pub chain_depth: i16,
    /// The queued run of a non-blocking trigger the change fired (a serialized trigger job),
    /// which the log follower moves to the job queue; not in MISP's JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub carried_run: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
