use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub uuid: String,
    pub event_id: i32,
    pub name: String,
    pub meta_category: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub template_uuid: String,
    pub template_version: String,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    pub distribution: i16,
    pub sharing_group_id: i32,
    pub timestamp: i64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub deleted: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
