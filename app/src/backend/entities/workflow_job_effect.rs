use sea_orm::entity::prelude::*;

/// A store edit a queued job applied (see the `create_workflow_job_effects` migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_job_effects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
