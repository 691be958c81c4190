use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sharing_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub uuid: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub releasability: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub organisation_uuid: String,
    /// The creating organisation.
    pub org_id: i32,
    pub active: bool,
    pub local: bool,
    pub roaming: bool,
    pub created: i64,
    pub modified: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
