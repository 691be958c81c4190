use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attributes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub uuid: String,
    pub event_id: i32,
    /// 0 when the attribute is not in an object.
    pub object_id: i32,
    pub object_relation: Option<String>,
    pub category: String,
    pub r#type: String,
    #[sea_orm(column_type = "Text")]
    pub value: String,
    pub to_ids: bool,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    pub distribution: i16,
    pub sharing_group_id: i32,
    pub timestamp: i64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub deleted: bool,
    pub disable_correlation: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
