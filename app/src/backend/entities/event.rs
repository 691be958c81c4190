use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub uuid: String,
    pub org_id: i32,
    pub orgc_id: i32,
    pub user_id: i32,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[sea_orm(column_type = "Text")]
    pub info: String,
    pub published: bool,
    pub analysis: i16,
    pub attribute_count: i32,
    pub threat_level_id: i16,
    pub distribution: i16,
    pub sharing_group_id: i32,
    pub proposal_email_lock: bool,
    pub locked: bool,
    pub publish_timestamp: i64,
    pub timestamp: i64,
    pub disable_correlation: bool,
    pub extends_uuid: String,
    pub protected: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
