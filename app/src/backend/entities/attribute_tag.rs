use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attribute_tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub attribute_id: i32,
    pub event_id: i32,
    pub tag_id: i32,
    pub local: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
