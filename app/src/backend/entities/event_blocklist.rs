use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_blocklists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub event_uuid: String,
    /// Unix seconds.
    pub created: i64,
    #[sea_orm(column_type = "Text")]
    pub event_info: String,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    pub event_orgc: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
