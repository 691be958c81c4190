use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warninglists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// string, substring, hostname, cidr or regex.
    pub r#type: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub version: i32,
    pub enabled: bool,
    /// True for lists shipped with the product; custom lists are false.
    pub default: bool,
    /// false_positive or known_identifier.
    pub category: String,
    /// JSON list of attribute types the list applies to; empty for every type.
    #[sea_orm(column_type = "Text")]
    pub matching_attributes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
