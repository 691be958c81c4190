use sea_orm::entity::prelude::*;

/// A proposal: a new attribute (`old_id` 0), a change to attribute `old_id`, or its deletion
/// (`proposal_to_delete`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shadow_attributes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub old_id: i32,
    pub event_id: i32,
    pub event_uuid: String,
    pub event_org_id: i32,
    pub r#type: String,
    pub category: String,
    #[sea_orm(column_type = "Text")]
    pub value: String,
    pub to_ids: bool,
    pub uuid: String,
    pub org_id: i32,
    pub email: String,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    pub deleted: bool,
    pub proposal_to_delete: bool,
    pub disable_correlation: bool,
    pub timestamp: i64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
