use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub uuid: String,
    pub user_id: i32,
    pub authkey_hash: String,
    pub authkey_start: String,
    pub authkey_end: String,
    pub comment: String,
    pub read_only: bool,
    pub created: i64,
    pub expiration: i64,
    pub last_used: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
