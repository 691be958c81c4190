use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sharing_group_orgs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub sharing_group_id: i32,
    pub org_id: i32,
    /// The member's admins may add organisations.
    pub extend: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
