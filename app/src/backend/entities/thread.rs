use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "threads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub date_created: i64,
    pub date_modified: i64,
    pub distribution: i16,
    pub user_id: i32,
    pub post_count: i32,
    /// 0 when the thread is not an event's discussion.
    pub event_id: i32,
    pub title: String,
    pub org_id: i32,
    pub sharing_group_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
