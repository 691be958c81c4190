use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub date_created: i64,
    pub date_modified: i64,
    pub user_id: i32,
    #[sea_orm(column_type = "Text")]
    pub contents: String,
    /// The post this answers; 0 for none.
    pub post_id: i32,
    pub thread_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
