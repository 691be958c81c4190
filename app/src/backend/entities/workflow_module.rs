use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_modules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub module_id: String,
    pub enabled: bool,
    pub modified: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
